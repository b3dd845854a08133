"""Airspace: national boundaries, custom zones, the lookup index and geodesy."""
