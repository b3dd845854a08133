"""Test-support code: independent references that skyfence's results are checked against."""
