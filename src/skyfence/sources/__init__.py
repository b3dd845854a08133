"""Sources: one module per input format, each yielding observation batches."""
