"""The altitude line an operator reads: reported heights, smoothed only when they are noisy.

A transponder reports its pressure altitude in 25 ft (7.6 m) steps: drawn as it is, it
reads well. A 3D primary radar measures height coarsely (a few hundred metres, one
sigma, at long range), and the tracker's stored fixes of a radar-only track keep most
of that scatter: drawn as a line, a MiG-31 holding 9 km zig-zags between 8.3 and 9.7 km.
:func:`altitude_profile` gives the line to draw instead, computed once over the whole
window with pandas' rolling windows (no Python call per fix):

1. a centred running median over ``window_s`` seconds of feed time. A median keeps
   a monotone run unchanged (in a window where the heights only climb, the middle value
   is the median), so level-offs and steady climbs survive, and one wild plot moves it
   by one rank only;
2. the scatter of the heights, ``scatter_m``: 1.4826 x the median absolute difference
   between the heights and that running median, over the fixes whose window is whole
   (a window cut by the start or end of the data is lopsided: its median lags a climb).
   It is 0 for a clean transponder track and about 0.75 sigma for normal noise with
   15 heights a window (the median follows part of the noise);
3. when ``scatter_m`` is above :data:`QUIET_M` (three 25 ft steps), the line is the
   running mean of the running median over the same window (the median alone still
   wanders by sigma x 1.25 / sqrt(n)); otherwise the line is the reported heights,
   unchanged.

The incident record's ``min_altitude_m`` / ``max_altitude_m`` stay what they are (the
reported heights inside the zone, per the contract); only the picture is smoothed, and
the API and the dossier's profile.png draw the same line from this one function.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

__all__ = ["QUIET_M", "WINDOW_S", "AltitudeProfile", "altitude_profile"]

#: running window of the smoothing, seconds of feed time (15 plots of a 4 s radar)
WINDOW_S = 60.0
#: heights scattered less than this (robust sigma, m) are drawn as reported
QUIET_M = 3 * 7.62


class AltitudeProfile(NamedTuple):
    """The line to draw (``altitude_m``, NaN where the fix has no height) and the
    robust scatter of the reported heights around their running median (``scatter_m``,
    0 when too few)."""

    altitude_m: np.ndarray
    scatter_m: float

    @property
    def smoothed(self) -> bool:
        """Whether the line differs from the reported heights (they were noisy)."""
        return self.scatter_m > QUIET_M


def altitude_profile(time_s: np.ndarray, altitude_m: np.ndarray,
                     window_s: float = WINDOW_S) -> AltitudeProfile:
    """The altitude line over fixes at ``time_s`` (unix s) with heights ``altitude_m``
    (m, NaN: none); see the module docstring.

    Examples
    --------
    A clean climb is kept as it is (its running median is itself):

    >>> t = np.arange(0.0, 90.0)
    >>> p = altitude_profile(t, 3000.0 + 5 * t)
    >>> bool((p.altitude_m == 3000.0 + 5 * t).all()), p.scatter_m, p.smoothed
    (True, 0.0, False)
    """
    t = np.asarray(time_s, dtype=np.float64)
    a = np.asarray(altitude_m, dtype=np.float64)
    out = np.full(a.shape, np.nan)
    ok = np.flatnonzero(np.isfinite(a) & np.isfinite(t))
    if ok.size < 3:
        out[ok] = a[ok]
        return AltitudeProfile(out, 0.0)
    ok = ok[np.argsort(t[ok], kind="stable")]
    heights = pd.Series(a[ok], index=pd.DatetimeIndex(pd.to_datetime(t[ok], unit="s")))
    window = pd.Timedelta(seconds=window_s)
    median = heights.rolling(window, center=True, min_periods=1, closed="both").median()
    ts = t[ok]
    whole = (ts - ts[0] >= window_s / 2) & (ts[-1] - ts >= window_s / 2)
    if not whole.any():
        whole[:] = True
    residual = np.abs(heights.to_numpy() - median.to_numpy())[whole]
    scatter_m = float(1.4826 * np.median(residual))
    if scatter_m > QUIET_M:
        line = median.rolling(window, center=True, min_periods=1, closed="both").mean()
        out[ok] = line.to_numpy()
    else:
        out[ok] = a[ok]
    return AltitudeProfile(out, scatter_m)
