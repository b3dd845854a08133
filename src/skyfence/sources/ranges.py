"""Plausible ranges of observation values: anything outside is a bad value, not data.

One table, used by every tabular reader (and available to other sources), in the
contract's SI units. A value outside its range is reported like an unparsable one:
an error naming the file, row and field (``--on-error abort``, the default) or a
counted skip of the whole row (``--on-error skip``). Non-finite numbers (``inf``) are
outside every range; NaN means "missing" and is allowed where the field is optional.

==============  ===================  ===================================================
field           range                why
==============  ===================  ===================================================
time            1970-01-01 to 2100   unix seconds; larger numbers are usually
                (0 to 4,102,444,800)  milliseconds (the error says which ``--columns``
                                     unit to pass)
lat / lon       -90..90 / -180..180  degrees WGS84
altitude        -1,500 to 50,000 m   the Dead Sea shore is at -430 m; balloons reach
                                     about 40 km (baroaltitude and geoaltitude alike)
velocity        0 to 1,500 m/s       ground speed; Mach 4 at altitude is about 1,200 m/s
vertrate        -500 to 500 m/s      vertical rate
heading         -360 to 360 deg      wrapped to [0, 360): -90 is 270
==============  ===================  ===================================================

Why a bad optional value rejects the whole row instead of blanking the field: an
unknown altitude counts as inside every altitude band (it must not clear a target),
so blanking an absurd altitude could turn a fix far above a drone zone's ceiling into
an alarm. Rejecting the row can only lose a fix, and that is reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = [
    "ALTITUDE_MAX_M",
    "ALTITUDE_MIN_M",
    "FIELD_RANGES",
    "HEADING_MAX_DEG",
    "HEADING_MIN_DEG",
    "LAT_MAX_DEG",
    "LON_MAX_DEG",
    "TIME_MAX_S",
    "TIME_MIN_S",
    "VELOCITY_MAX_MS",
    "VERTRATE_MAX_ABS_MS",
    "PlausibleRange",
    "outside",
    "wrap_heading_deg",
]

#: 1970-01-01T00:00:00Z
TIME_MIN_S = 0.0
#: 2100-01-01T00:00:00Z
TIME_MAX_S = 4_102_444_800.0
LAT_MAX_DEG = 90.0
LON_MAX_DEG = 180.0
ALTITUDE_MIN_M = -1_500.0
ALTITUDE_MAX_M = 50_000.0
VELOCITY_MAX_MS = 1_500.0
VERTRATE_MAX_ABS_MS = 500.0
HEADING_MIN_DEG = -360.0
HEADING_MAX_DEG = 360.0


@dataclass(frozen=True)
class PlausibleRange:
    """The closed interval ``[lo, hi]`` of a field, in SI units (``unit`` for messages)."""

    lo: float
    hi: float
    unit: str
    #: how messages name the range, when not ``[lo, hi] unit``
    label: str = ""

    def describe(self) -> str:
        """``[-1500, 50000] m`` as messages print it."""
        if self.label:
            return self.label
        return f"[{self.lo:g}, {self.hi:g}]" + (f" {self.unit}" if self.unit else "")


#: contract field -> plausible range (after conversion to SI units)
FIELD_RANGES: dict[str, PlausibleRange] = {
    "time": PlausibleRange(TIME_MIN_S, TIME_MAX_S, "s",
                           "1970-01-01 to 2100-01-01 (0 to 4102444800 unix seconds)"),
    "lat": PlausibleRange(-LAT_MAX_DEG, LAT_MAX_DEG, "deg"),
    "lon": PlausibleRange(-LON_MAX_DEG, LON_MAX_DEG, "deg"),
    "baroaltitude": PlausibleRange(ALTITUDE_MIN_M, ALTITUDE_MAX_M, "m"),
    "geoaltitude": PlausibleRange(ALTITUDE_MIN_M, ALTITUDE_MAX_M, "m"),
    "altitude": PlausibleRange(ALTITUDE_MIN_M, ALTITUDE_MAX_M, "m"),
    "velocity": PlausibleRange(0.0, VELOCITY_MAX_MS, "m/s"),
    "vertrate": PlausibleRange(-VERTRATE_MAX_ABS_MS, VERTRATE_MAX_ABS_MS, "m/s"),
    "heading": PlausibleRange(HEADING_MIN_DEG, HEADING_MAX_DEG, "deg"),
}


def outside(field: str, values: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """Which values lie outside the field's range; NaN (missing) is not outside.

    Examples
    --------
    >>> outside("baroaltitude", [np.nan, 0.0, 60_000.0, np.inf]).tolist()
    [False, False, True, True]
    """
    r = FIELD_RANGES[field]
    v = np.asarray(values, dtype=np.float64)
    with np.errstate(invalid="ignore"):  # NaN is neither below nor above: not outside
        return np.asarray((v < r.lo) | (v > r.hi))


def wrap_heading_deg(values: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Headings in [0, 360): -90 becomes 270 and 360 becomes 0; NaN stays NaN.

    >>> wrap_heading_deg([-90.0, 360.0, 45.5]).tolist()
    [270.0, 0.0, 45.5]
    """
    # most headings are in range already: only the others go through the (slow) mod;
    # adding 0.0 copies and makes -0.0 the 0.0 that mod makes of it
    v = np.asarray(values, dtype=np.float64) + 0.0
    odd = ~((v >= 0.0) & (v < 360.0))  # NaN too: mod keeps it NaN
    if odd.any():
        with np.errstate(invalid="ignore"):
            w = np.mod(v[odd], 360.0)
        w[w >= 360.0] = 0.0  # mod of a tiny negative rounds to 360.0
        v[odd] = w
    return v
