"""Benchmarks behind ``skyfence bench NAME``: each module has ``run(json) -> dict``."""
