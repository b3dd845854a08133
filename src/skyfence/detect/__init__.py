"""Detection: zone crossings and entries, and early-warning rules."""
