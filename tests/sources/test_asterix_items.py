"""CAT048 items built byte by byte (ASTERIX CAT048 edition 1.21), read back: what each
item means for the plot, checked against values worked out by hand.

A record is the FSPEC then the items in field-reference order: I010 (SAC, SIC), I140
(time of day, 1/128 s, 3 octets), I020 (report type, here SSR), I040 (range 1/256 NM,
azimuth 360/2^16 degree), and optionally I070 (Mode 3/A: V, G, L bits, then 12 bits in
octal), I090 (flight level: V, G bits, then 14 bits signed in 1/4 FL) and I110 (measured
3D height: 2 spare bits, then 14 bits signed in 25 ft). FSPEC bits, first octet from
the top: I010, I140, I020, I040, I070, I090, I130, FX; I110 is field 19 (third octet,
fifth bit). 1 ft = 0.3048 m, so FL 350 = 35 000 ft = 10 668 m and 30 000 ft = 9 144 m.
"""

from __future__ import annotations

import math

import pytest

pytest.importorskip("asterix")

from skyfence.errors import InputError
from skyfence.radar import RadarSite
from skyfence.sources.asterix import AsterixData, decode_asterix

V, G = 0b10, 0b01
SITE = RadarSite(7, 9, 59.4, 24.8, 40.0, sigma_range_m=70.0, sigma_azimuth_deg=0.1)
#: a second radar of the same SAC, 1 degree further east
EAST = RadarSite(7, 10, 59.4, 25.8, 40.0, sigma_range_m=30.0, sigma_azimuth_deg=0.05)


def record(*, sic: int = 9, tod_s: float = 3600.0, rho_nm: float = 20.0,
           theta_deg: float = 90.0, squawk: str | None = None, squawk_flags: int = 0,
           fl: float | None = None, fl_flags: int = 0, height_ft: float | None = None,
           with_site: bool = True) -> bytes:
    """One CAT048 record (see the module docstring for the bytes)."""
    fspec = [0b01110000 | (0b10000000 if with_site else 0)]
    items = [bytes([7, sic])] if with_site else []
    items += [round(tod_s * 128).to_bytes(3, "big"), bytes([2 << 5]),
              round(rho_nm * 256).to_bytes(2, "big")
              + round(theta_deg / 360 * 65536).to_bytes(2, "big")]
    if squawk is not None:
        fspec[0] |= 0b1000
        items.append(((squawk_flags << 14) | int(squawk, 8)).to_bytes(2, "big"))
    if fl is not None:
        fspec[0] |= 0b100
        items.append(((fl_flags << 14) | (round(fl * 4) & 0x3FFF)).to_bytes(2, "big"))
    if height_ft is not None:
        fspec = [fspec[0] | 1, 0b1, 0b1000]
        items.append((round(height_ft / 25) & 0x3FFF).to_bytes(2, "big"))
    return bytes(fspec) + b"".join(items)


def decode(*records: bytes, **options: object) -> AsterixData:
    body = b"".join(records)
    block = bytes([48]) + (3 + len(body)).to_bytes(2, "big") + body
    return decode_asterix(block, sites=[SITE, EAST], date="2025-09-19",
                          **options)  # type: ignore[arg-type]


def test_flight_level_unless_not_validated_or_garbled_and_the_3d_height_first() -> None:
    """FL 350 is 10 668 m; flagged not validated (V) or garbled (G) it is no altitude;
    a measured 3D height (30 000 ft = 9 144 m) comes before the flight level."""
    plots = decode(record(fl=350), record(fl=350, fl_flags=V), record(fl=350, fl_flags=G),
                   record(fl=350, height_ft=30_000), record()).plots
    assert plots.altitude.tolist()[:4] == pytest.approx([10_668.0, math.nan, math.nan, 9_144.0],
                                                        nan_ok=True)
    assert math.isnan(plots.altitude.iloc[4])


def test_squawk_unless_not_validated_or_garbled() -> None:
    """Mode 3/A 7700 and 0123 (octal, leading zero kept); V or G flagged: no squawk."""
    plots = decode(record(squawk="7700"), record(squawk="0123"),
                   record(squawk="7700", squawk_flags=V),
                   record(squawk="7700", squawk_flags=G)).plots
    assert plots.squawk.tolist() == ["7700", "0123", None, None]


def test_time_of_day_up_to_a_leap_second_and_no_further() -> None:
    """Midnight of 2025-09-19 UTC is 1 758 240 000 s (20 350 days * 86 400). A time of
    day of 86 400.5 s (in a leap second) is read; 86 401 s and 100 000 s are no time of
    day: records 2 and 3 are refused naming I140."""
    midnight = 20_350 * 86_400
    assert midnight == 1_758_240_000
    data = decode(record(tod_s=86_400.5), record(tod_s=86_401.0), record(tod_s=100_000.0),
                  on_error="skip")
    assert data.plots.time.tolist() == [midnight + 86_400.5]
    assert data.skipped == 2
    assert [e.split(": ", 1)[0] for e in data.errors] == ["<bytes>, row 2, field 'I140'",
                                                          "<bytes>, row 3, field 'I140'"]
    with pytest.raises(InputError) as info:
        decode(record(), record(tod_s=100_000.0))
    assert (info.value.row, info.value.field) == (2, "I140")
    assert "100000" in str(info.value)


def test_a_record_without_its_radar_is_refused_naming_i010() -> None:
    with pytest.raises(InputError) as info:
        decode(record(), record(with_site=False))
    assert (info.value.row, info.value.field) == (2, "I010")


def test_each_plot_is_placed_from_its_own_radar_with_its_noise() -> None:
    """Two radars of one SAC (SIC 9 and 10), one plot each, same range and azimuth:
    each plot is where it is when its radar is the only one in the batch, and carries
    its radar's range and azimuth noise."""
    both = decode(record(sic=9, theta_deg=0.0), record(sic=10, theta_deg=0.0)).plots
    alone = [decode(record(sic=s, theta_deg=0.0)).plots for s in (9, 10)]
    assert both.lon.tolist() == pytest.approx([a.lon.iloc[0] for a in alone], abs=1e-12)
    assert both.lat.tolist() == pytest.approx([a.lat.iloc[0] for a in alone], abs=1e-12)
    # due north of radars 1 degree of longitude apart: 1 degree apart
    assert both.lon.iloc[1] - both.lon.iloc[0] == pytest.approx(1.0, abs=1e-9)
    assert both.sigma_range_m.tolist() == [70.0, 30.0]
    assert both.sigma_azimuth_deg.tolist() == [0.1, 0.05]


def test_a_default_height_places_a_plot_as_a_measured_one() -> None:
    """A 2D plot given ``default_height_m`` 9 144 m lands where a plot whose measured
    height is 30 000 ft (9 144 m) lands; its altitude stays unknown (not measured)."""
    measured = decode(record(height_ft=30_000)).plots
    assumed = decode(record(), default_height_m=9_144.0).plots
    flat = decode(record()).plots
    assert assumed.lat.iloc[0] == pytest.approx(measured.lat.iloc[0], abs=1e-12)
    assert assumed.lon.iloc[0] == pytest.approx(measured.lon.iloc[0], abs=1e-12)
    assert math.isnan(assumed.altitude.iloc[0])
    # without it the line of sight is taken as horizontal: the ground range is the whole
    # slant range (20 NM = 37 040 m) instead of about sqrt(37 040^2 - 9 100^2) = 35 900 m,
    # so the plot lies about 1.1 km (0.02 degree at 59.4 N) farther east
    assert flat.lon.iloc[0] - measured.lon.iloc[0] == pytest.approx(0.02, abs=0.005)


def test_a_default_height_leaves_measured_heights_alone() -> None:
    """In one batch with ``default_height_m`` 3 000 m, a plot with a measured height of
    30 000 ft (9 144 m) lands where it lands decoded alone without a default, and keeps
    its altitude; the 2D plot lands where it lands alone with the default. At 3 000 m a
    plot at 20 NM (37 040 m) lies about sqrt(37 040^2 - 3 000^2) - sqrt(37 040^2 -
    9 100^2) = 36 920 - 35 900 = 1 km farther than at 9 144 m: 0.018 degree east at
    59.4 N (56.7 km a degree of longitude)."""
    both = decode(record(height_ft=30_000), record(), default_height_m=3_000.0).plots
    measured = decode(record(height_ft=30_000)).plots
    assumed = decode(record(), default_height_m=3_000.0).plots
    assert both.lon.tolist() == pytest.approx([measured.lon.iloc[0], assumed.lon.iloc[0]],
                                              abs=1e-12)
    assert both.lat.tolist() == pytest.approx([measured.lat.iloc[0], assumed.lat.iloc[0]],
                                              abs=1e-12)
    assert both.lon.iloc[1] - both.lon.iloc[0] > 0.01
    assert both.altitude.iloc[0] == pytest.approx(9_144.0)
    assert math.isnan(both.altitude.iloc[1])
