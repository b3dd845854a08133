"""The tabular reader's column presets and checking order, on tables written by hand.

The unit factors are the definitions (1 ft = 0.3048 m, 1 kt = 1852 m / 3600 s,
1 ft/min = 0.3048 m / 60 s), written out here, not taken from :mod:`skyfence.vocab`.
"""

from __future__ import annotations

import pandas as pd
import pytest

from skyfence.errors import InputError
from skyfence.sources.tabular import normalize_table


def test_the_traffic_preset_turns_feet_knots_and_feet_per_minute_into_si() -> None:
    """The ``traffic`` library's columns (found by ``latitude``): barometric and
    geometric altitude in feet, ground speed in knots, vertical rate in ft/min. The
    first row has a geometric altitude (preferred), the second none (the barometric
    one is used)."""
    raw = pd.DataFrame({
        "timestamp": [1_700_000_000.0, 1_700_000_001.0], "icao24": ["4b1814", "4b1814"],
        "latitude": [47.0, 47.001], "longitude": [8.0, 8.001],
        "altitude": [10_000.0, 10_000.0], "geoaltitude": [10_500.0, None],
        "groundspeed": [250.0, 250.0], "track": [90.0, 90.0],
        "vertical_rate": [-1200.0, -1200.0],
    })
    obs = normalize_table(raw)
    assert obs["altitude"].tolist() == pytest.approx([10_500 * 0.3048, 10_000 * 0.3048])
    assert obs["altitude"].tolist() == pytest.approx([3200.4, 3048.0])
    assert obs["velocity"].tolist() == pytest.approx([250 * 1852 / 3600] * 2)  # 128.61 m/s
    assert obs["vertrate"].tolist() == pytest.approx([-1200 * 0.3048 / 60] * 2)  # -6.096
    assert obs["heading"].tolist() == [90.0, 90.0]
    assert obs["lat"].tolist() == [47.0, 47.001] and obs["lon"].tolist() == [8.0, 8.001]


def test_a_row_bad_in_two_fields_is_reported_by_the_first_field_in_checking_order() -> None:
    """Fields are checked time, icao24, lat, lon, altitudes, velocity, ... whatever the
    column names' alphabetical order (``lat`` sorts before ``time``): a row whose time
    and latitude are both bad is reported by its time."""
    raw = pd.DataFrame({"lat": ["north"], "icao24": ["4b1814"], "lon": [8.0],
                        "time": ["yesterday"]})
    with pytest.raises(InputError) as err:
        normalize_table(raw)
    assert err.value.field == "time" and err.value.row == 1
