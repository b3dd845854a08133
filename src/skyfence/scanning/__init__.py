"""Batch scans: input discovery, exact out-of-core partitioning, local and Dask engines."""
