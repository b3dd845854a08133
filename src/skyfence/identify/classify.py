"""What an entering track probably is: cooperative or not, category, registration state.

The kinematic category is a first rule set on speed and altitude (m/s, m); tracking
refines it where radar kinematics (turn rate, climb) are known. Registration state comes
from the ICAO address block (:mod:`skyfence.identify.icao_blocks`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from skyfence.identify.icao_blocks import parse_icao24, state_of
from skyfence.model import Classification

KT = 1852.0 / 3600.0


def is_cooperative(track: str) -> bool:
    """True when the track id is a valid 24-bit ICAO address (a transponder is behind it)."""
    return bool(parse_icao24([track])[1][0])


def category_from_kinematics(speed_ms: float | None, altitude_m: float | None) -> str:
    """A coarse category from ground speed and altitude; ``unknown`` without speed.

    Bands: balloons drift under 15 m/s high up; drones fly under 70 m/s below 3 km;
    airliners cruise at 180-290 m/s above 7.5 km; faster than that or fast and low is a
    jet; the rest above 70 m/s a propeller aircraft.
    """
    if speed_ms is None or math.isnan(speed_ms):
        return "unknown"
    alt = altitude_m if altitude_m is not None and not math.isnan(altitude_m) else None
    if speed_ms < 15 and alt is not None and alt > 5000:
        return "balloon"
    if speed_ms < 70 and (alt is None or alt < 3000):
        return "drone" if speed_ms < 55 else "helicopter"
    if speed_ms > 300:
        return "jet"
    if alt is not None and alt > 7500 and speed_ms >= 180:
        return "airliner"
    if speed_ms >= 180:
        return "jet"
    return "propeller"


def classify(
    track: str,
    *,
    max_speed_ms: float | None = None,
    max_altitude_m: float | None = None,
    military_db: Mapping[str, bool] | None = None,
) -> Classification:
    """Classification of one track from its id and what was seen inside the zone."""
    coop = is_cooperative(track)
    icao = track.strip().lower() if coop else None
    military = None
    if icao is not None and military_db is not None:
        military = military_db.get(icao)
    return Classification(
        cooperative=coop,
        category=category_from_kinematics(max_speed_ms, max_altitude_m),
        registration_state=state_of(icao) if icao else None,
        military=military,
    )
