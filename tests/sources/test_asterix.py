"""ASTERIX decoding on the real recordings shipped with asterix-decoder, and bad input."""

from __future__ import annotations

import datetime as dt
import socket
import struct
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

asterix = pytest.importorskip("asterix")

from skyfence.asterix_writer import encode_cat048  # noqa: E402
from skyfence.errors import ErrorPolicy, InputError, UsageError  # noqa: E402
from skyfence.radar import NM, RadarSite  # noqa: E402
from skyfence.sources.asterix import (  # noqa: E402
    PLOT_COLUMNS,
    decode_asterix,
    iter_payloads,
    listen_udp,
    read_asterix,
)
from skyfence.sources.asterix.convert import track_batch, unix_times  # noqa: E402
from skyfence.sources.asterix.records import RecordColumns  # noqa: E402

SAMPLES = Path(asterix.__file__).parent / "sample_data"
# every radar of the recording (SAC 25, Croatia Control); positions are not in the data
SITES = [RadarSite(25, sic, 45.8, 16.0, 100.0) for sic in (11, 12, 13, 14, 201, 204, 205)]


def _records(path: Path) -> list[dict]:
    out = []
    for _, payload in iter_payloads(path):
        out.extend(asterix.parse(payload, verbose=False))
    return out


def test_cat048_pcap_records_and_fields() -> None:
    raw = _records(SAMPLES / "cat_034_048.pcap")
    cats = pd.Series([r["category"] for r in raw]).value_counts().to_dict()
    with_pos = [r for r in raw if r["category"] == 48 and "I040" in r]
    data = read_asterix(SAMPLES / "cat_034_048.pcap", sites=SITES)
    assert data.records == len(raw)
    assert data.other_categories == cats[34]
    assert data.without_position == cats[48] - len(with_pos)
    assert len(data.plots) == len(with_pos) > 100
    assert list(data.plots.columns) == list(PLOT_COLUMNS)
    # the first plot: SAC/SIC, polar position and Mode S address as decoded
    first = with_pos[0]
    row = data.plots.iloc[0]
    assert (row.sac, row.sic) == (first["I010"]["SAC"]["val"], first["I010"]["SIC"]["val"])
    assert row.range_m == pytest.approx(first["I040"]["RHO"]["val"] * NM)
    assert row.azimuth_deg == pytest.approx(first["I040"]["THETA"]["val"])
    assert row.icao24 == first["I220"]["ACAddr"]["val"].lower()
    assert row.altitude == pytest.approx(first["I090"]["FL"]["val"] * 100 * 0.3048)
    # capture time gives the date: the recording is from 5 May 2016, 07:35 UTC
    first_time = dt.datetime.fromtimestamp(data.plots.time.min(), dt.UTC)
    assert first_time.date() == dt.date(2016, 5, 5)
    assert first_time.hour == 7
    # converted positions sit at the decoded range from their radar
    assert data.plots.lat.between(40, 52).all()
    assert data.plots.lon.between(8, 24).all()
    assert data.plots.squawk.dropna().str.fullmatch(r"[0-7]{4}").all()


def test_a_script_read_from_stdin_decodes() -> None:
    # the decoder runs in a child process; a script piped to ``python -`` has
    # ``__main__.__file__ == "<stdin>"``, which the child once tried to run, died, and
    # every block was reported as crashing the decoder
    script = (f"from pathlib import Path\nfrom skyfence.sources.asterix import read_asterix\n"
              f"from skyfence.radar import RadarSite\n"
              f"sites = [RadarSite(25, s, 45.8, 16.0, 100.0) for s in {[s.sic for s in SITES]}]\n"
              f"print(len(read_asterix(Path({str(SAMPLES / 'cat_034_048.pcap')!r}), "
              f"sites=sites).plots))\n")
    direct = read_asterix(SAMPLES / "cat_034_048.pcap", sites=SITES)
    done = subprocess.run([sys.executable, "-"], input=script, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "crashed" not in done.stderr
    assert int(done.stdout) == len(direct.plots) > 100


def test_cat048_raw_needs_a_date() -> None:
    with pytest.raises(UsageError, match="--date"):
        read_asterix(SAMPLES / "cat048.raw", sites=SITES)
    data = read_asterix(SAMPLES / "cat048.raw", sites=SITES, date="2025-09-19")
    assert len(data.plots) == 1
    tod = asterix.parse((SAMPLES / "cat048.raw").read_bytes())[0]["I140"]["ToD"]["val"]
    midnight = dt.datetime(2025, 9, 19, tzinfo=dt.UTC).timestamp()
    assert data.plots.time.iloc[0] == pytest.approx(midnight + tod)
    assert data.plots.callsign.iloc[0] == "DLH65A"


def test_cat062_system_tracks() -> None:
    raw = [r for r in _records(SAMPLES / "cat062cat065.raw") if r["category"] == 62]
    data = read_asterix(SAMPLES / "cat062cat065.raw", date=dt.date(2025, 9, 19))
    tracks = data.tracks
    assert len(tracks) == len(raw) == 2
    assert data.other_categories == 1
    # no Mode S address on the first: a system track id; the second carries one
    assert tracks.icao24.tolist() == [
        f"T062-25-100-{raw[0]['I040']['TrkN']['val']}",
        raw[1]["I380"]["ADR"]["ADR"]["val"].lower(),
    ]
    assert tracks.lat.tolist() == pytest.approx([r["I105"]["Lat"]["val"] for r in raw])
    vx, vy = raw[1]["I185"]["Vx"]["val"], raw[1]["I185"]["Vy"]["val"]
    assert tracks.velocity.iloc[1] == pytest.approx(np.hypot(vx, vy))
    assert tracks.heading.iloc[1] == pytest.approx(np.degrees(np.arctan2(vx, vy)) % 360)
    assert tracks.altitude.iloc[1] == pytest.approx(raw[1]["I136"]["MFL"]["val"] * 0.3048)
    assert tracks.callsign.iloc[1] == "SXD4723"
    pcap = read_asterix(SAMPLES / "cat_062_065.pcap")
    assert len(pcap.tracks) >= 1
    assert dt.datetime.fromtimestamp(pcap.tracks.time.iloc[0], dt.UTC).year == 2014


def _cat062_tracks(rec: dict) -> pd.DataFrame:
    """Our conversion of one CAT062 record as the decoder parsed it (``rec``, possibly
    with items removed or changed): the worker's dict, turned into a track batch."""
    cols = RecordColumns("sample.ast", ErrorPolicy())
    cols._add_record(rec, 1, None)
    return track_batch(cols, unix_times(cols, dt.date(2025, 9, 19)))


def test_cat062_altitude_climb_and_longitude_from_the_decoders_items() -> None:
    """References: the decoder's own parse of the sample's first system track (I136
    measured FL 157.00, I135 barometric 15,700 ft, I130 geometric 43,300 ft, I220
    -443.75 ft/min, I105 lon 13.0415 deg); 1 ft = 0.3048 m, a minute 60 s. The altitude
    is the measured flight level, else the barometric, else the geometric one (the
    barometric one set to 16,000 ft here, to tell it from the measured 15,700)."""
    rec = next(r for r in _records(SAMPLES / "cat062cat065.raw") if r["category"] == 62)
    ft = 0.3048
    got = _cat062_tracks(rec)
    assert got.lon.iloc[0] == pytest.approx(rec["I105"]["Lon"]["val"], abs=1e-12)
    assert got.vertrate.iloc[0] == pytest.approx(rec["I220"]["RoC"]["val"] * ft / 60.0)
    # the sample's measured and barometric levels agree: make the barometric one differ
    rec = dict(rec, I135={"QNH": {"val": 0}, "CTBA": {"val": 16_000.0}})
    assert _cat062_tracks(rec).altitude.iloc[0] == pytest.approx(15_700 * ft)
    no_mfl = {k: v for k, v in rec.items() if k != "I136"}
    assert _cat062_tracks(no_mfl).altitude.iloc[0] == pytest.approx(16_000 * ft)
    only_geometric = {k: v for k, v in no_mfl.items() if k != "I135"}
    assert _cat062_tracks(only_geometric).altitude.iloc[0] == pytest.approx(43_300 * ft)
    bad = dict(rec, I105={"Lat": rec["I105"]["Lat"], "Lon": {"val": 200.0}})
    with pytest.raises(InputError) as err:
        _cat062_tracks(bad)
    assert err.value.field == "I105" and err.value.row == 1


def _plots(times: list[float]) -> pd.DataFrame:
    n = len(times)
    return pd.DataFrame({
        "time": times, "sac": 7, "sic": 9, "range_m": np.linspace(10e3, 200e3, n),
        "azimuth_deg": np.linspace(0, 359, n), "altitude": [np.nan, 3000.0] * (n // 2),
        "icao24": [None, "4ca7a8"] * (n // 2), "squawk": ["7777", None] * (n // 2),
    })


def test_encode_cat048_round_trip() -> None:
    site = RadarSite(7, 9, 59.4, 24.8, 40.0)
    base = dt.datetime(2025, 9, 19, tzinfo=dt.UTC).timestamp()
    plots = _plots([base + 3600 + k for k in range(6)])
    data = decode_asterix(encode_cat048(plots), sites=[site], date="2025-09-19")
    out = data.plots
    assert len(out) == 6
    assert out.time.to_numpy() == pytest.approx(plots.time.to_numpy(), abs=1 / 128)
    assert out.range_m.to_numpy() == pytest.approx(plots.range_m.to_numpy(), abs=NM / 256)
    assert out.azimuth_deg.to_numpy() == pytest.approx(plots.azimuth_deg.to_numpy(),
                                                       abs=360 / 65536)
    assert out.altitude.isna().tolist() == plots.altitude.isna().tolist()
    assert out.altitude.dropna().to_numpy() == pytest.approx([3000.0] * 3, abs=8)
    assert out.icao24.tolist() == plots.icao24.tolist()
    assert out.squawk.tolist() == plots.squawk.tolist()


def test_midnight_roll_over() -> None:
    site = RadarSite(7, 9, 59.4, 24.8, 40.0)
    midnight = dt.datetime(2025, 9, 20, tzinfo=dt.UTC).timestamp()
    # 23:59:58, 23:59:59.5, 00:00:01, a late plot from 23:59:59.9, 00:00:05
    times = [midnight - 2, midnight - 0.5, midnight + 1, midnight - 0.1, midnight + 5,
             midnight + 6]
    data = decode_asterix(encode_cat048(_plots(times)), sites=[site], date="2025-09-19")
    assert data.plots.time.to_numpy() == pytest.approx(times, abs=1 / 128)


def test_unknown_radar_names_record_and_field() -> None:
    other = RadarSite(1, 2, 0.0, 0.0)
    with pytest.raises(InputError) as err:
        read_asterix(SAMPLES / "cat048.raw", sites=[other], date="2025-09-19")
    assert err.value.row == 1
    assert err.value.field == "I010"
    assert "cat048.raw" in str(err.value)
    assert "25/201" in str(err.value)


def test_plots_of_an_unknown_radar_are_counted_one_by_one() -> None:
    """Skipped, every plot of a radar without a site counts: as many as the same capture
    gives plots of that radar when its site is known (the reference count: 28 of the
    126 plots of the sample are SAC/SIC 25/201)."""
    pcap = SAMPLES / "cat_034_048.pcap"
    known = read_asterix(pcap, sites=SITES)
    n = int(((known.plots.sac == 25) & (known.plots.sic == 201)).sum())
    assert n > 1
    data = read_asterix(pcap, sites=[s for s in SITES if s.sic != 201], on_error="skip")
    assert len(data.plots) == len(known.plots) - n
    assert data.skipped == n
    assert any(f"25/201 ({n} plots)" in e for e in data.errors)


def test_truncated_block_raises_or_is_counted(tmp_path: Path) -> None:
    good = (SAMPLES / "cat048.raw").read_bytes()
    bad = tmp_path / "broken.ast"
    bad.write_bytes(good + good[:20])  # second block cut short
    with pytest.raises(InputError) as err:
        read_asterix(bad, sites=SITES, date="2025-09-19")
    assert err.value.field == "LEN"
    assert str(bad) in str(err.value)
    data = read_asterix(bad, sites=SITES, date="2025-09-19", on_error="skip")
    assert len(data.plots) == 1
    assert data.skipped == 1
    assert "data block 2" in data.errors[0]


def test_record_without_time_of_day(tmp_path: Path) -> None:
    # FSPEC with only I010: a CAT048 record that has no I140 time of day
    block = bytes([48, 0, 6, 0x80, 25, 201])
    path = tmp_path / "notime.ast"
    path.write_bytes((SAMPLES / "cat048.raw").read_bytes() + block)
    with pytest.raises(InputError) as err:
        read_asterix(path, sites=SITES, date="2025-09-19")
    assert (err.value.row, err.value.field) == (2, "I140")


def test_pcapng_and_udp_payloads(tmp_path: Path) -> None:
    payload = (SAMPLES / "cat048.raw").read_bytes()
    udp = struct.pack("!HHHH", 4000, 8600, 8 + len(payload), 0) + payload
    ip = bytes([0x45, 0, 0, 20 + len(udp), 0, 0, 0x40, 0, 64, 17, 0, 0]) + bytes(8)
    frame = bytes(12) + b"\x08\x00" + ip + udp
    shb = struct.pack("<IIIHHq", 0x0A0D0D0A, 28, 0x1A2B3C4D, 1, 0, -1) + struct.pack("<I", 28)
    idb = struct.pack("<IIHHI", 1, 20, 1, 0, 0) + struct.pack("<I", 20)
    pad = (-len(frame)) % 4
    t_us = int(dt.datetime(2025, 9, 19, 7, 35, tzinfo=dt.UTC).timestamp() * 1e6)
    epb_len = 32 + len(frame) + pad
    epb = struct.pack("<IIIIIII", 6, epb_len, 0, t_us >> 32, t_us & 0xFFFFFFFF, len(frame),
                      len(frame)) + frame + bytes(pad) + struct.pack("<I", epb_len)
    path = tmp_path / "one.pcapng"
    path.write_bytes(shb + idb + epb)
    data = read_asterix(path, sites=SITES)
    assert len(data.plots) == 1
    assert dt.datetime.fromtimestamp(data.plots.time.iloc[0], dt.UTC).date() == \
        dt.date(2025, 9, 19)


def test_listen_udp_on_loopback() -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    payloads = [p for _, p in iter_payloads(SAMPLES / "cat_034_048.pcap")][:20]

    def send() -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
            for p in payloads:
                tx.sendto(p, ("127.0.0.1", port))

    threading.Timer(0.1, send).start()
    batches = list(listen_udp(port, sites=SITES, date="2016-05-05", batch_s=0.5,
                              idle_timeout_s=1.0, sock=sock))
    sock.close()
    expected = decode_asterix(b"".join(payloads), sites=SITES, date="2016-05-05")
    got = sum(len(b.plots) for b in batches)
    assert got == len(expected.plots) > 0
