"""CAT062 system tracks built byte by byte (ASTERIX CAT062 edition 1.18, the edition
``asterix-decoder`` reads), decoded, and checked against values worked out by hand.

A record is the FSPEC then the items in field-reference order (UAP, FRN in brackets):
octet 1 from the top: I010 (1), spare, I015, I070 (4), I105 (5), I100, I185 (7), FX;
octet 2: I210, I060 (9), I245 (10), I380, I040 (12), I080, I290, FX; octet 3: I200,
I295, I136 (17), I130, I135, I220 (20), I390, FX. Items used here:

- I010: SAC, SIC, one octet each;
- I070 time of track: 3 octets, 1/128 s;
- I105 WGS84 position: latitude then longitude, 4 octets each, signed, LSB 180/2^25 deg;
- I185 velocity: Vx (east) then Vy (north), 2 octets each, signed, LSB 0.25 m/s;
- I060 Mode 3/A: bit 16 V (not validated), 15 G (garbled), 14 CH, 13 spare, 12-1 the
  code in octal;
- I245 target identification: 2 bits STI, 6 spare, then 8 characters of 6 bits
  (ICAO: A-Z are 1-26, space 32, digits 48-57);
- I040 track number: 2 octets;
- I136 measured flight level: 2 octets, signed, LSB 1/4 FL (25 ft);
- I220 rate of climb: 2 octets, signed, LSB 6.25 ft/min.

1 ft = 0.3048 m; midnight of 2025-09-19 UTC is 1 758 240 000 s (20 350 days).
"""

from __future__ import annotations

import math

import pytest

pytest.importorskip("asterix")

from skyfence.errors import InputError
from skyfence.sources.asterix import AsterixData, decode_asterix

V, G = 0b10, 0b01
FT = 0.3048
MIDNIGHT = 1_758_240_000.0


def _icao6(text: str) -> bytes:
    """Eight characters in ICAO 6-bit code, 48 bits."""
    bits = 0
    for ch in text.ljust(8):
        code = ord(ch) - 64 if "A" <= ch <= "Z" else ord(ch)  # space 32, digits 48-57
        bits = bits << 6 | code
    return bits.to_bytes(6, "big")


def track(*, tot_s: float = 3600.0, lat: float | None = 45.0, lon: float = 22.5,
          with_site: bool = True, velocity: tuple[float, float] | None = None,
          squawk: str | None = None, squawk_flags: int = 0, callsign: str | None = None,
          number: int | None = 4980, mfl_ft: float | None = None,
          roc_ft_min: float | None = None) -> bytes:
    """One CAT062 record (see the module docstring for the bytes); ``lat=None``: no
    I105 at all."""
    fspec = [0b0001_0000, 0, 0]
    items = []
    if with_site:
        fspec[0] |= 0x80
        items.append(bytes([25, 100]))
    items.append(round(tot_s * 128).to_bytes(3, "big"))
    if lat is not None:
        fspec[0] |= 0x08
        items.append(round(lat * 2**25 / 180).to_bytes(4, "big", signed=True)
                     + round(lon * 2**25 / 180).to_bytes(4, "big", signed=True))
    if velocity is not None:
        fspec[0] |= 0x02
        items.append(b"".join(round(v * 4).to_bytes(2, "big", signed=True) for v in velocity))
    if squawk is not None:
        fspec[1] |= 0x40
        items.append(((squawk_flags << 14) | int(squawk, 8)).to_bytes(2, "big"))
    if callsign is not None:
        fspec[1] |= 0x20
        items.append(bytes([0]) + _icao6(callsign))
    if number is not None:
        fspec[1] |= 0x08
        items.append(number.to_bytes(2, "big"))
    if mfl_ft is not None:
        fspec[2] |= 0x20
        items.append(round(mfl_ft / 25).to_bytes(2, "big", signed=True))
    if roc_ft_min is not None:
        fspec[2] |= 0x04
        items.append(round(roc_ft_min / 6.25).to_bytes(2, "big", signed=True))
    if fspec[2]:
        fspec[1] |= 1
    if fspec[1]:
        fspec[0] |= 1
    while not fspec[-1] and len(fspec) > 1:
        fspec.pop()
    return bytes(fspec) + b"".join(items)


def decode(*records: bytes, **options: object) -> AsterixData:
    body = b"".join(records)
    block = bytes([62]) + (3 + len(body)).to_bytes(2, "big") + body
    return decode_asterix(block, date="2025-09-19", **options)  # type: ignore[arg-type]


def test_a_hand_built_track_reads_as_encoded() -> None:
    """Time 3600 s after midnight; 45 N 22.5 E (multiples of the LSB: 45 * 2^25 / 180
    = 2^23, 22.5 * 2^25 / 180 = 2^22); velocity 30 m/s east, 40 m/s north: 50 m/s (3-4-5) heading
    atan2(30, 40) = 36.87 deg; FL 350 = 35 000 ft = 10 668 m; 1 250 ft/min =
    6.35 m/s; no Mode S address: the id names SAC 25, SIC 100 and track 4980."""
    tracks = decode(track(velocity=(30.0, 40.0), mfl_ft=35_000, roc_ft_min=1_250)).tracks
    row = tracks.iloc[0]
    assert row.time == MIDNIGHT + 3600.0
    assert (row.lat, row.lon) == (45.0, 22.5)
    assert row.velocity == pytest.approx(50.0)
    assert row.heading == pytest.approx(math.degrees(math.atan2(3, 4)))
    assert row.altitude == pytest.approx(10_668.0)
    assert row.vertrate == pytest.approx(1_250 * 0.3048 / 60)
    assert row.icao24 == "T062-25-100-4980"


def test_a_track_without_altitude_climb_or_velocity_has_them_unknown() -> None:
    """No I136/I135/I130, no I220, no I185: altitude, climb rate, speed and heading
    are NaN, not an error."""
    row = decode(track()).tracks.iloc[0]
    assert math.isnan(row.altitude)
    assert math.isnan(row.vertrate)
    assert math.isnan(row.velocity) and math.isnan(row.heading)


def test_headings_all_round_the_compass() -> None:
    """Heading from north clockwise, in [0, 360): (Vx, Vy) = (0, 10) north 0, (10, 0)
    east 90, (0, -10) south 180, (-10, 0) west 270, (-10, 10) north-west 315."""
    vs = [(0.0, 10.0), (10.0, 0.0), (0.0, -10.0), (-10.0, 0.0), (-10.0, 10.0)]
    tracks = decode(*(track(velocity=v) for v in vs)).tracks
    assert tracks.heading.tolist() == pytest.approx([0.0, 90.0, 180.0, 270.0, 315.0])
    assert tracks.velocity.tolist() == pytest.approx([10.0] * 4 + [math.hypot(10, 10)])


def test_squawk_unless_not_validated_or_garbled() -> None:
    """Mode 3/A 7700 and 0123 (octal, the leading zero kept); flagged V or G: none."""
    tracks = decode(track(squawk="7700"), track(squawk="0123"),
                    track(squawk="7700", squawk_flags=V),
                    track(squawk="7700", squawk_flags=G), track()).tracks
    assert tracks.squawk.tolist() == ["7700", "0123", None, None, None]


def test_callsign_from_the_target_identification() -> None:
    """I245 (no I380 Mode S data): "ABC123" padded with two spaces reads "ABC123";
    eight spaces read as no callsign."""
    tracks = decode(track(callsign="ABC123"), track(callsign=""), track()).tracks
    assert tracks.callsign.tolist() == ["ABC123", None, None]


def test_positions_on_the_poles_and_the_antimeridian_are_read_beyond_them_refused() -> None:
    """Latitude -90 and 90, longitude -180 and 180 are positions (multiples of the LSB:
    90 * 2^25 / 180 = 2^24); 90.5, -90.5 (lat), 180.5, -180.5 (lon) are not, and
    their records (2, 4, 6, 8 of 8) are refused naming I105."""
    data = decode(track(lat=-90.0, lon=-180.0), track(lat=-90.5), track(lat=90.0, lon=180.0),
                  track(lat=90.5), track(lon=-180.0), track(lon=-180.5), track(lon=180.0),
                  track(lon=180.5), on_error="skip")
    assert data.tracks.lat.tolist() == [-90.0, 90.0, 45.0, 45.0]
    assert data.tracks.lon.tolist() == [-180.0, 180.0, -180.0, 180.0]
    assert data.skipped == 4
    assert [e.split(": ", 1)[0] for e in data.errors] == [
        f"<bytes>, row {n}, field 'I105'" for n in (2, 4, 6, 8)]
    assert all("out of range" in e for e in data.errors)


def test_records_without_a_position_are_counted() -> None:
    """Two tracks without I105 between two with: counted, not errors."""
    data = decode(track(), track(lat=None), track(lat=None), track())
    assert len(data.tracks) == 2
    assert data.without_position == 2
    assert data.skipped == 0


def test_a_track_without_its_number_is_refused_naming_i040() -> None:
    with pytest.raises(InputError) as info:
        decode(track(), track(number=None))
    assert (info.value.row, info.value.field) == (2, "I040")
    assert "track number" in str(info.value)


def test_a_track_without_its_source_or_with_a_bad_time_is_refused() -> None:
    """No I010: refused naming I010; a time of track of 100 000 s (above a day and a
    leap second, 3 octets hold up to 131 072 s): refused naming I070. Both at their
    record (2 of 2)."""
    with pytest.raises(InputError) as info:
        decode(track(), track(with_site=False))
    assert (info.value.row, info.value.field) == (2, "I010")
    with pytest.raises(InputError) as info:
        decode(track(), track(tot_s=100_000.0))
    assert (info.value.row, info.value.field) == (2, "I070")
    assert "100000" in str(info.value)
