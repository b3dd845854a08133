"""Mode S decoding with both backends: positions, state, CPR pairing, bad frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import rs1090
from feed_helpers import recorded_frames

from skyfence.sources.commb import crc24
from skyfence.sources.modes import DECODERS, make_decoder

CDG = (49.0, 2.5)
# reference pair (even, odd) of aircraft 40621D from "The 1090 MHz Riddle": with the
# odd frame newer the position is 52.26578 N, 3.93891 E
EVEN = "8D40621D58C382D690C8AC2863A7"
ODD = "8D40621D58C386435CC412692AD6"
IDENT = "8D4840D6202CC371C32CE0576098"  # identification of 4840D6, KLM1023


def decode_in_batches(name: str, size: int, ref: tuple[float, float] | None) -> pd.DataFrame:
    times, frames = recorded_frames()
    dec = make_decoder(name, ref=ref)
    parts = [
        dec.decode(frames[i : i + size], times[i : i + size]) for i in range(0, len(frames), size)
    ]
    return pd.concat(parts, ignore_index=True)


@pytest.fixture(scope="module")
def rs1090_obs() -> pd.DataFrame:
    return decode_in_batches("rs1090", 3000, CDG)


def test_both_backends_give_the_same_positions(rs1090_obs: pd.DataFrame) -> None:
    other = decode_in_batches("pymodes", 3000, CDG)
    assert len(rs1090_obs) == len(other) > 100
    np.testing.assert_allclose(rs1090_obs[["lat", "lon"]], other[["lat", "lon"]], atol=1e-6)
    airborne = ~rs1090_obs.onground
    assert (other.onground == rs1090_obs.onground).all()
    np.testing.assert_allclose(rs1090_obs.altitude[airborne], other.altitude[airborne])
    assert (rs1090_obs.icao24 == "393322").all()


def test_positions_are_at_the_airport_and_in_si_units(rs1090_obs: pd.DataFrame) -> None:
    assert rs1090_obs.lat.between(48.9, 49.1).all() and rs1090_obs.lon.between(2.3, 2.7).all()
    airborne = rs1090_obs[~rs1090_obs.onground]
    assert len(airborne) > 50 and rs1090_obs.onground.any()
    times, frames = recorded_frames()
    raw = rs1090.decode(frames, times, reference=CDG)
    feet = {m["timestamp"]: m["altitude"] for m in raw if m.get("bds") == "05"}
    expected = airborne.time.map(feet) * 0.3048
    np.testing.assert_allclose(airborne.altitude, expected)
    assert airborne.velocity.between(50, 200).all()  # m/s after take-off
    assert set(airborne.callsign) == {"AFR34ZG"} and set(airborne.squawk) == {"1000"}


@pytest.mark.parametrize("name", sorted(DECODERS))
@pytest.mark.parametrize("ref", [None, CDG])
def test_batch_boundaries_do_not_change_results(name: str, ref: tuple[float, float] | None) -> None:
    whole = decode_in_batches(name, 3000, ref)
    small = decode_in_batches(name, 7, ref)
    assert len(small) == len(whole) > 100
    np.testing.assert_allclose(small[["lat", "lon"]], whole[["lat", "lon"]], atol=1e-6)
    # state (identity, squawk, velocity) carries across batches as within one
    pd.testing.assert_frame_equal(
        small.drop(columns=["lat", "lon"]), whole.drop(columns=["lat", "lon"])
    )


@pytest.mark.parametrize("name", sorted(DECODERS))
def test_even_odd_pair_across_batches_without_reference(name: str) -> None:
    dec = make_decoder(name)
    assert dec.decode([EVEN], [100.0]).empty
    obs = dec.decode([ODD], [101.0])
    assert len(obs) == 1
    assert obs.lat[0] == pytest.approx(52.26578, abs=1e-5)
    assert obs.lon[0] == pytest.approx(3.93891, abs=1e-5)
    assert obs.icao24[0] == "40621d"


@pytest.mark.parametrize("name", sorted(DECODERS))
def test_pair_too_far_apart_stays_unresolved(name: str) -> None:
    dec = make_decoder(name)
    dec.decode([EVEN], [100.0])
    assert dec.decode([ODD], [130.0]).empty
    assert dec.stats.unresolved == 2


@pytest.mark.parametrize("name", sorted(DECODERS))
def test_single_frame_decodes_locally_against_the_reference(name: str) -> None:
    obs = make_decoder(name, ref=(52.3, 4.8)).decode([ODD], [0.0])
    assert obs.lat[0] == pytest.approx(52.26578, abs=1e-5)
    assert obs.lon[0] == pytest.approx(3.93891, abs=1e-5)


@pytest.mark.parametrize("name", sorted(DECODERS))
def test_invalid_and_corrupt_frames_are_counted_not_raised(name: str) -> None:
    dec = make_decoder(name, ref=(52.3, 4.8))
    corrupt = EVEN[:-1] + ("0" if EVEN[-1] != "0" else "1")
    obs = dec.decode(["zz", "8d48", "", EVEN + "00", corrupt, ODD], [0.0] * 6)
    assert dec.stats.invalid == 4
    assert dec.stats.rejected == 1
    assert len(obs) == 1


@pytest.mark.parametrize("name", sorted(DECODERS))
def test_unknown_addresses_are_rejected_and_old_aircraft_forgotten(name: str) -> None:
    _, frames = recorded_frames()
    replies = [f for f in frames if int(f[:2], 16) >> 3 in (20, 21)]
    dec = make_decoder(name, ttl_s=60.0)
    assert len(replies) >= 20
    dec.decode(replies[:20], [0.0] * 20)  # surveillance replies of nobody known yet
    assert dec.stats.messages == 0 and dec.stats.rejected == 20
    dec.decode([EVEN, ODD], [0.0, 1.0])
    assert len(dec.state) == 1
    dec.decode([IDENT], [1000.0])
    assert "40621d" not in dec.state._slot and len(dec.state) == 1


def test_unknown_backend_and_bad_reference_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown Mode S decoder"):
        make_decoder("dump978")
    with pytest.raises(ValueError, match="out of range"):
        make_decoder(ref=(95.0, 0.0))


@pytest.mark.parametrize("name", sorted(DECODERS))
def test_a_lone_frame_decodes_against_the_aircrafts_own_fix_on_a_unix_clock(name: str) -> None:
    # no receiver reference, unix times: the pair (EVEN at t0, ODD at t0 + 1) places
    # 40621D at the Riddle's 52.26578 N, 3.93891 E; EVEN again at t0 + 30 (29 s after
    # ODD: beyond the 10 s pair window, within the 30 s local window) decodes against
    # that fix, and the sweep due then (every ttl_s / 10 = 30 s) runs. EVEN once more
    # at t0 + 55 decodes against the fix of t0 + 30 to the Riddle's even-frame position
    # 52.25720 N, 3.91937 E: the sweep forgets fixes by their age, and that one is 0 s
    # old when it runs.
    t0 = 1_700_000_000.0
    dec = make_decoder(name)
    dec.decode([EVEN], [t0])
    dec.decode([ODD], [t0 + 1.0])
    dec.decode([EVEN], [t0 + 30.0])
    lone = dec.decode([EVEN], [t0 + 55.0])
    assert len(lone) == 1
    assert (lone.lat[0], lone.lon[0]) == pytest.approx((52.2572, 3.91937), abs=1e-4)


def test_message_rows_in_air_units_become_si() -> None:
    # one row by hand: 10,000 ft, 250 kt, -1,200 ft/min; 1 ft = 0.3048 m, 1 kt = 1852 m
    # per 3600 s, 1 ft/min = 0.3048 m per 60 s
    from skyfence.sources.modes import _rows_to_messages

    m = _rows_to_messages([(5.0, "40621d", 52.0, 4.0, 10_000.0, 250.0, 90.0, -1200.0,
                            "KLM1023", "1000", 0.0)])
    assert m["altitude"].tolist() == pytest.approx([3048.0])
    assert m["velocity"].tolist() == pytest.approx([250 * 1852 / 3600])
    assert m["vertrate"].tolist() == pytest.approx([-6.096])
    assert (m["lat"].tolist(), m["lon"].tolist(), m["heading"].tolist()) == ([52.0], [4.0],
                                                                            [90.0])


def _all_call(address: str) -> str:
    """An all-call reply (DF11, capability 5, interrogator 0) of ``address``: its parity
    is the CRC-24 of its first 32 bits."""
    head = bytes([(11 << 3) | 5]) + bytes.fromhex(address)
    crc = int(crc24(np.frombuffer(head, np.uint8)[None])[0])
    return head.hex() + f"{crc:06x}"


def test_an_all_call_reply_makes_its_address_trusted() -> None:
    """Without any extended squitter, the address of an all-call reply (DF11, whose
    parity checks the address) is trusted, and the surveillance replies of that address
    that follow are read; replies of addresses never named are not."""
    times, frames = recorded_frames()
    df = [int(f[:2], 16) >> 3 for f in frames]
    addresses = sorted({frames[k][2:8].lower() for k, d in enumerate(df) if d == 17})
    replies = [k for k, d in enumerate(df) if d in (0, 4, 5, 16, 20, 21)]
    assert addresses and len(replies) > 50
    calls = [_all_call(a) for a in addresses]
    assert rs1090.decode(calls[0])["icao24"] == addresses[0]
    alone = make_decoder("rs1090", ref=CDG)
    alone.decode([frames[k] for k in replies], [times[k] for k in replies])
    assert alone.stats.messages == 0  # no address named: every reply refused
    dec = make_decoder("rs1090", ref=CDG)
    t0 = times[replies[0]] - 1.0
    dec.decode(calls + [frames[k] for k in replies],
               [t0] * len(calls) + [times[k] for k in replies])
    assert dec.stats.messages > len(calls) + 50  # the named addresses' replies read
