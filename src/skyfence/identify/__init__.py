"""Identify what a track is: who registered it, what kind of aircraft it is.

Cooperative targets carry a 24-bit ICAO address; :mod:`skyfence.identify.icao_blocks`
turns it into the State of Registry from ICAO's published allocation table.
Everything here works on whole columns (numpy arrays) because it runs on every
observation of a scan.
"""
