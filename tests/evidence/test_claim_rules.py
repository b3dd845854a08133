"""Parts of a dossier's claim, field by field, against values written by hand."""

from __future__ import annotations

from skyfence.evidence.claim import radar_sensor
from skyfence.radar import RadarSite


def test_a_radar_sensor_is_its_site_with_latitude_and_longitude_in_their_places() -> None:
    """A radar at 47.45 N, 8.56 E (latitude and longitude far apart, so a swap shows),
    412 m: the claim names it by SAC/SIC and puts it where it stands. An investigator
    reads the sensor's position from the claim; with lat and lon swapped it would sit
    in the Horn of Africa."""
    site = RadarSite(sac=20, sic=5, lat=47.45, lon=8.56, alt_m=412.0, name="Holberg")
    assert radar_sensor(site) == {"kind": "radar", "name": "Holberg", "sac": 20, "sic": 5,
                                  "lat": 47.45, "lon": 8.56, "alt_m": 412.0}
