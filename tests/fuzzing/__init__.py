"""Fuzz targets shared by the Hypothesis tests (``make test``) and atheris (``make fuzz``)."""
