"""EUROCONTROL ASTERIX radar data: CAT048 plots and CAT062 system tracks.

Reads raw ASTERIX files (concatenated data blocks), pcap / pcapng captures of UDP
datagrams, and live UDP. CAT048 monoradar target reports become a *plot batch*
(:data:`PLOT_COLUMNS`: WGS84 positions converted from the radar's polar measurements,
with their noise) for the tracker; CAT062 system tracks are already tracks and become
an observation batch directly (:func:`skyfence.model.make_observations`).

Codec choice, by measurement (``benchmarks/asterix_codecs.py``, same bytes, same
fields extracted, best of three, 2-core AMD EPYC):

================  ====================  ====================
codec             CAT048 records/s      CAT062 records/s
================  ====================  ====================
asterix-decoder   33 700                10 700
libasterix        3 200                 1 450
================  ====================  ====================

``asterix-decoder`` (C++ core) decodes about ten times faster and ships real sample
recordings, so it is the decoder here. ``libasterix`` is typed and can encode, but it
is pure Python and installs the same module name, so both cannot be dependencies; the
few CAT048 items scenarios need to emit are encoded by :func:`encode_cat048` and
checked by decoding them back with ``asterix-decoder``.

ASTERIX carries the time of day only. The UTC date of the first record comes from the
``date`` argument, or from the capture time of a pcap packet (or the receive time on
UDP); later records that jump back by more than half a day have passed midnight.

``asterix-decoder`` is lenient (garbage decodes to empty records), so data block
framing and the mandatory items are checked here: bad input raises
:class:`~skyfence.errors.InputError` naming the file, the record number (1-based, in
file order) and the field, or is counted and skipped with ``on_error="skip"``.
"""

from __future__ import annotations

import datetime as dt
import math
import socket
import struct
import time as _time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from skyfence.errors import InputError, UsageError
from skyfence.model import make_observations
from skyfence.radar import FT, NM, RadarSite, polar_to_geodetic

__all__ = [
    "PLOT_COLUMNS",
    "AsterixData",
    "RadarSite",
    "decode_asterix",
    "empty_plots",
    "encode_cat048",
    "iter_payloads",
    "listen_udp",
    "read_asterix",
]

#: Column name -> dtype of a plot batch (one row per radar detection).
PLOT_COLUMNS: dict[str, str] = {
    "time": "float64",  # unix seconds UTC
    "sac": "int64",
    "sic": "int64",
    "lat": "float64",
    "lon": "float64",
    "altitude": "float64",  # metres, NaN when the plot carries no height
    "range_m": "float64",  # slant range
    "azimuth_deg": "float64",
    "icao24": "object",  # Mode S address, lower-case hex, or None
    "squawk": "object",  # Mode 3/A code, 4 octal digits, or None
    "callsign": "object",
    "sigma_range_m": "float64",  # measurement noise (1 sigma)
    "sigma_azimuth_deg": "float64",
    "record": "int64",  # record number in the source, for tracing back
}

DAY = 86400.0
KNOWN_CATEGORIES = frozenset({1, 2, 4, 8, 10, 11, 19, 20, 21, 23, 34, 48, 62, 63, 65, 240})
ErrorMode = Literal["raise", "skip"]


def empty_plots() -> pd.DataFrame:
    """A plot batch with no rows and every column typed."""
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in PLOT_COLUMNS.items()})


@dataclass
class AsterixData:
    """What one file (or one UDP batch) held: plots, system tracks and counts."""

    plots: pd.DataFrame
    tracks: pd.DataFrame
    records: int = 0
    skipped: int = 0
    without_position: int = 0
    other_categories: int = 0
    errors: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- input


def iter_payloads(path: str | Path) -> Iterator[tuple[float | None, bytes]]:
    """Yield ``(capture_time, bytes)``: UDP payloads of a pcap/pcapng, or a raw file whole.

    ``capture_time`` is unix seconds for captures and None for raw files.
    """
    data = Path(path).read_bytes()
    magic = data[:4]
    if magic in (
        b"\xd4\xc3\xb2\xa1",
        b"\xa1\xb2\xc3\xd4",
        b"\x4d\x3c\xb2\xa1",
        b"\xa1\xb2\x3c\x4d",
    ):
        yield from _pcap_payloads(data, str(path))
    elif magic == b"\x0a\x0d\x0d\x0a":
        yield from _pcapng_payloads(data, str(path))
    else:
        yield None, data


def _pcap_payloads(data: bytes, name: str) -> Iterator[tuple[float | None, bytes]]:
    le = data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1")
    nano = data[:4] in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    end = "<" if le else ">"
    if len(data) < 24:
        raise InputError("pcap header truncated", file=name, field="pcap header")
    linktype = struct.unpack(end + "I", data[20:24])[0] & 0xFFFF
    off, n = 24, 0
    while off + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack(end + "IIII", data[off : off + 16])
        n += 1
        off += 16
        if off + incl > len(data):
            raise InputError("packet truncated", file=name, row=n, field="pcap packet")
        payload = _udp_payload(data[off : off + incl], linktype)
        off += incl
        if payload is not None:
            yield sec + frac * (1e-9 if nano else 1e-6), payload


def _pcapng_payloads(data: bytes, name: str) -> Iterator[tuple[float | None, bytes]]:
    off, end, n = 0, "<", 0
    links: list[int] = []
    while off + 12 <= len(data):
        if data[off : off + 4] == b"\x0a\x0d\x0d\x0a":
            end = "<" if data[off + 8 : off + 12] == b"\x4d\x3c\x2b\x1a" else ">"
            links = []
        btype, blen = struct.unpack(end + "II", data[off : off + 8])
        if blen < 12 or off + blen > len(data):
            raise InputError("block truncated", file=name, row=n + 1, field="pcapng block")
        body = data[off + 8 : off + blen - 4]
        if btype == 1:  # interface description
            links.append(struct.unpack(end + "H", body[:2])[0])
        elif btype == 6:  # enhanced packet
            n += 1
            iface, hi, lo, cap = struct.unpack(end + "IIII", body[:16])
            payload = _udp_payload(body[20 : 20 + cap], links[iface] if iface < len(links) else 1)
            if payload is not None:
                yield ((hi << 32) | lo) * 1e-6, payload
        elif btype == 3:  # simple packet
            n += 1
            payload = _udp_payload(body[4:], links[0] if links else 1)
            if payload is not None:
                yield None, payload
        off += blen


def _udp_payload(frame: bytes, linktype: int) -> bytes | None:
    """The UDP payload of a captured frame, or None when it is not UDP over IP."""
    if linktype == 1:  # Ethernet, possibly VLAN-tagged
        off, etype = 14, int.from_bytes(frame[12:14], "big")
        while etype in (0x8100, 0x88A8) and len(frame) >= off + 4:
            etype, off = int.from_bytes(frame[off + 2 : off + 4], "big"), off + 4
    elif linktype == 113:  # Linux cooked
        off, etype = 16, int.from_bytes(frame[14:16], "big")
    elif linktype == 276:  # Linux cooked v2
        off, etype = 20, int.from_bytes(frame[0:2], "big")
    elif linktype == 0:  # BSD loopback
        off, etype = 4, 0x0800 if frame[:1] in (b"\x02", b"\x00") else 0x86DD
    elif linktype in (12, 14, 101):  # raw IP
        off, etype = 0, 0x0800 if frame[:1] and frame[0] >> 4 == 4 else 0x86DD
    else:
        return None
    ip = frame[off:]
    if etype == 0x0800 and len(ip) >= 20:
        if ip[9] != 17 or int.from_bytes(ip[6:8], "big") & 0x3FFF:  # not UDP, or fragment
            return None
        udp = ip[(ip[0] & 15) * 4 :]
    elif etype == 0x86DD and len(ip) >= 40:
        if ip[6] != 17:
            return None
        udp = ip[40:]
    else:
        return None
    if len(udp) < 8:
        return None
    return udp[8 : int.from_bytes(udp[4:6], "big")]


def _split_blocks(payload: bytes, first_block: int) -> tuple[list[bytes], list[tuple[str, str]]]:
    """Cut a payload into data blocks, checking each CAT/LEN header.

    Returns the blocks and (field, message) for what could not be framed; the rest of
    a payload after a bad header cannot be framed either, so it is dropped with it.
    """
    blocks: list[bytes] = []
    errors: list[tuple[str, str]] = []
    off = 0
    while off < len(payload):
        n = first_block + len(blocks) + 1
        left = len(payload) - off
        if left < 3:
            errors.append(("LEN", f"data block {n} at byte {off}: {left} stray bytes"))
            break
        cat, length = payload[off], int.from_bytes(payload[off + 1 : off + 3], "big")
        if cat not in KNOWN_CATEGORIES:
            errors.append(("CAT", f"data block {n} at byte {off}: unknown category {cat}"))
            break
        if length < 3 or length > left:
            errors.append(
                (
                    "LEN",
                    f"data block {n} at byte {off}: length {length} does not "
                    f"fit the {left} bytes left",
                )
            )
            break
        blocks.append(payload[off : off + length])
        off += length
    return blocks, errors


# -------------------------------------------------------------------------- decode


def _val(record: dict[str, Any], item: str, sub: str) -> Any:
    it = record.get(item)
    if not isinstance(it, dict):
        return None
    v = it.get(sub)
    return v.get("val") if isinstance(v, dict) else None


def _valid(record: dict[str, Any], item: str) -> bool:
    """False when a code item is flagged not validated (V) or garbled (G)."""
    return not (_val(record, item, "V") or _val(record, item, "G"))


class _Collector:
    """Accumulates decoded records column-wise, then converts them all at once."""

    def __init__(self, source: str, on_error: ErrorMode) -> None:
        self.source = source
        self.on_error = on_error
        self.tod: list[float] = []  # every record's time of day, in file order
        self.capture: list[float] = []
        self.p: dict[str, list[Any]] = {
            k: []
            for k in (
                "i",
                "sac",
                "sic",
                "rho",
                "theta",
                "height",
                "icao24",
                "squawk",
                "callsign",
                "record",
            )
        }
        self.t: dict[str, list[Any]] = {
            k: [] for k in ("i", "id", "lat", "lon", "alt", "vx", "vy", "roc", "callsign", "squawk")
        }
        self.records = 0
        self.skipped = 0
        self.without_position = 0
        self.other = 0
        self.errors: list[str] = []
        self.blocks = 0

    def fail(self, message: str, field: str | None, row: int | None = None) -> None:
        err = InputError(message, file=self.source, row=row, field=field)
        if self.on_error == "raise":
            raise err
        self.errors.append(str(err))
        self.skipped += 1

    def add_payload(self, payload: bytes, capture_time: float | None) -> None:
        import asterix  # asterix-decoder; imported here so the package loads without it

        blocks, errors = _split_blocks(payload, self.blocks)
        self.blocks += len(blocks)
        for fld, message in errors:
            self.fail(message, fld)
        for block in blocks:
            try:
                decoded = asterix.parse(block, verbose=False)
            except Exception as exc:  # the C++ core reports bad data by exception
                self.fail(f"cannot decode data block: {exc}", "data block", self.records + 1)
                continue
            for rec in decoded:
                self.records += 1
                self._add_record(rec, self.records, capture_time)

    def _add_record(self, rec: dict[str, Any], n: int, capture: float | None) -> None:
        cat = rec.get("category")
        if cat == 48:
            self._add_048(rec, n, capture)
        elif cat == 62:
            self._add_062(rec, n, capture)
        else:
            self.other += 1

    def _time_of_day(self, rec: dict[str, Any], item: str, sub: str, n: int) -> float | None:
        tod = _val(rec, item, sub)
        if tod is None:
            self.fail("record has no time of day", item, n)
            return None
        if not 0 <= tod < DAY + 1:
            self.fail(f"time of day {tod} s outside 0-86400", item, n)
            return None
        return float(tod)

    def _site(self, rec: dict[str, Any], n: int) -> tuple[int, int] | None:
        sac, sic = _val(rec, "I010", "SAC"), _val(rec, "I010", "SIC")
        if sac is None or sic is None:
            self.fail("record has no data source identifier (SAC/SIC)", "I010", n)
            return None
        return int(sac), int(sic)

    def _add_048(self, rec: dict[str, Any], n: int, capture: float | None) -> None:
        key = self._site(rec, n)
        if key is None:
            return
        tod = self._time_of_day(rec, "I140", "ToD", n)
        if tod is None:
            return
        rho, theta = _val(rec, "I040", "RHO"), _val(rec, "I040", "THETA")
        if rho is None or theta is None:
            self.without_position += 1  # e.g. a track-only report: nothing to locate
            return
        if not (0 <= rho < 512 and 0 <= theta <= 360):
            self.fail(f"polar position rho={rho} NM theta={theta} deg out of range", "I040", n)
            return
        height = math.nan
        h3d = _val(rec, "I110", "3D_Height")
        fl = _val(rec, "I090", "FL")
        if h3d is not None:
            height = float(h3d) * FT
        elif fl is not None and _valid(rec, "I090"):
            height = float(fl) * 100 * FT
        adr = _val(rec, "I220", "ACAddr")
        a3 = _val(rec, "I070", "Mode3A") if _valid(rec, "I070") else None
        cs = _val(rec, "I240", "TId")
        p = self.p
        p["i"].append(len(self.tod))
        self.tod.append(tod)
        self.capture.append(math.nan if capture is None else capture)
        p["sac"].append(key[0])
        p["sic"].append(key[1])
        p["rho"].append(float(rho) * NM)
        p["theta"].append(float(theta))
        p["height"].append(height)
        p["icao24"].append(str(adr).lower() if adr else None)
        p["squawk"].append(str(a3) if a3 is not None else None)
        p["callsign"].append(cs.strip() or None if isinstance(cs, str) else None)
        p["record"].append(n)

    def _add_062(self, rec: dict[str, Any], n: int, capture: float | None) -> None:
        key = self._site(rec, n)
        if key is None:
            return
        tod = self._time_of_day(rec, "I070", "ToT", n)
        if tod is None:
            return
        trk = _val(rec, "I040", "TrkN")
        if trk is None:
            self.fail("system track has no track number", "I040", n)
            return
        lat, lon = _val(rec, "I105", "Lat"), _val(rec, "I105", "Lon")
        if lat is None or lon is None:
            self.without_position += 1
            return
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            self.fail(f"position lat={lat} lon={lon} out of range", "I105", n)
            return
        # measured flight level first (as CAT048), then barometric, then geometric
        alt_ft = _val(rec, "I136", "MFL")
        if alt_ft is None:
            alt_ft = _val(rec, "I135", "CTBA")
        if alt_ft is None:
            alt_ft = _val(rec, "I130", "Alt")
        i380: dict[str, Any] = rec["I380"] if isinstance(rec.get("I380"), dict) else {}
        adr = (i380.get("ADR") or {}).get("ADR", {}).get("val")
        cs = (i380.get("ID") or {}).get("ACID", {}).get("val") or _val(rec, "I245", "TId")
        roc = _val(rec, "I220", "RoC")
        t = self.t
        t["i"].append(len(self.tod))
        self.tod.append(tod)
        self.capture.append(math.nan if capture is None else capture)
        t["id"].append(str(adr).lower() if adr else f"T062-{key[0]}-{key[1]}-{int(trk)}")
        t["lat"].append(float(lat))
        t["lon"].append(float(lon))
        t["alt"].append(math.nan if alt_ft is None else float(alt_ft) * FT)
        t["vx"].append(_val(rec, "I185", "Vx"))
        t["vy"].append(_val(rec, "I185", "Vy"))
        t["roc"].append(math.nan if roc is None else float(roc) * FT / 60.0)
        t["callsign"].append(cs.strip() or None if isinstance(cs, str) else None)
        a3 = _val(rec, "I060", "Mode3A") if _valid(rec, "I060") else None
        t["squawk"].append(str(a3) if a3 is not None else None)

    # ---------------------------------------------------------------- conversion

    def unix_times(self, date: dt.date | None) -> np.ndarray:
        """Unix seconds of every record: day from ``date`` or capture time, unwrapped."""
        tod = np.asarray(self.tod, float)
        if tod.size == 0:
            return tod
        seconds = np.unwrap(tod, period=DAY)  # +1 day at each backward jump > 12 h
        if date is not None:
            midnight = dt.datetime(date.year, date.month, date.day, tzinfo=dt.UTC)
            return midnight.timestamp() + seconds
        cap = np.asarray(self.capture, float)
        have = np.flatnonzero(np.isfinite(cap))
        if have.size == 0:
            raise UsageError(
                f"{self.source}: ASTERIX carries only the time of day; give the UTC date "
                "of the first record (--date YYYY-MM-DD)"
            )
        k = have[0]  # the midnight that puts this record closest to its capture time
        base = np.round((cap[k] - seconds[k]) / DAY) * DAY
        return base + seconds

    def plots(
        self,
        times: np.ndarray,
        sites: dict[tuple[int, int], RadarSite],
        default_height_m: float | None,
    ) -> pd.DataFrame:
        p = self.p
        if not p["i"]:
            return empty_plots()
        sac, sic = np.asarray(p["sac"], np.int64), np.asarray(p["sic"], np.int64)
        keep = np.ones(sac.size, bool)
        for key in sorted(set(zip(sac.tolist(), sic.tolist(), strict=True))):
            if key not in sites:
                rows = np.flatnonzero((sac == key[0]) & (sic == key[1]))
                self.fail(
                    f"no radar site configured for SAC/SIC {key[0]}/{key[1]} "
                    f"({rows.size} plots); give --radar {key[0]}:{key[1]}:LAT,LON[,ALT_M]",
                    "I010",
                    int(np.asarray(p["record"])[rows[0]]),
                )
                if self.on_error == "skip":
                    self.skipped += rows.size - 1
                keep[rows] = False
        idx = np.flatnonzero(keep)
        rho = np.asarray(p["rho"], float)[idx]
        theta = np.asarray(p["theta"], float)[idx]
        height = np.asarray(p["height"], float)[idx]
        if default_height_m is not None:
            height = np.where(np.isfinite(height), height, default_height_m)
        lat, lon = np.empty(idx.size), np.empty(idx.size)
        srange, saz = np.empty(idx.size), np.empty(idx.size)
        for key in sorted(set(zip(sac[idx].tolist(), sic[idx].tolist(), strict=True))):
            site = sites[key]
            m = (sac[idx] == key[0]) & (sic[idx] == key[1])
            la, lo, _, _ = polar_to_geodetic(site, rho[m], theta[m], height[m])
            lat[m], lon[m] = la, lo
            srange[m], saz[m] = site.sigma_range_m, site.sigma_azimuth_deg
        obj = {k: np.asarray(p[k], dtype=object)[idx] for k in ("icao24", "squawk", "callsign")}
        altitude = np.asarray(p["height"], float)[idx]
        frame = pd.DataFrame(
            {
                "time": times[np.asarray(p["i"], np.int64)[idx]],
                "sac": sac[idx],
                "sic": sic[idx],
                "lat": lat,
                "lon": lon,
                "altitude": altitude,
                "range_m": rho,
                "azimuth_deg": theta,
                **obj,
                "sigma_range_m": srange,
                "sigma_azimuth_deg": saz,
                "record": np.asarray(p["record"], np.int64)[idx],
            }
        )
        return frame.astype(PLOT_COLUMNS)

    def tracks(self, times: np.ndarray) -> pd.DataFrame:
        t = self.t
        vx = np.array([np.nan if v is None else v for v in t["vx"]], float)
        vy = np.array([np.nan if v is None else v for v in t["vy"]], float)
        return make_observations(
            time=times[np.asarray(t["i"], np.int64)] if t["i"] else np.empty(0),
            icao24=t["id"],
            lat=t["lat"],
            lon=t["lon"],
            altitude=t["alt"],
            velocity=np.hypot(vx, vy),
            heading=np.degrees(np.arctan2(vx, vy)) % 360.0,
            vertrate=t["roc"],
            callsign=t["callsign"],
            squawk=t["squawk"],
        )


def _as_date(date: dt.date | str | None) -> dt.date | None:
    if date is None or isinstance(date, dt.date):
        return date
    try:
        return dt.date.fromisoformat(date)
    except ValueError:
        raise UsageError(f"date {date!r}: expected YYYY-MM-DD") from None


def _site_map(sites: Iterable[RadarSite]) -> dict[tuple[int, int], RadarSite]:
    out: dict[tuple[int, int], RadarSite] = {}
    for s in sites:
        if s.key in out:
            raise UsageError(f"radar SAC/SIC {s.sac}/{s.sic} configured twice")
        out[s.key] = s
    return out


def _finish(
    c: _Collector,
    sites: Iterable[RadarSite],
    date: dt.date | str | None,
    default_height_m: float | None,
) -> AsterixData:
    times = c.unix_times(_as_date(date))
    plots = c.plots(times, _site_map(sites), default_height_m)
    tracks = c.tracks(times)
    return AsterixData(
        plots=plots,
        tracks=tracks,
        records=c.records,
        skipped=c.skipped,
        without_position=c.without_position,
        other_categories=c.other,
        errors=c.errors,
    )


def read_asterix(
    path: str | Path,
    *,
    sites: Iterable[RadarSite] = (),
    date: dt.date | str | None = None,
    on_error: ErrorMode = "raise",
    default_height_m: float | None = None,
) -> AsterixData:
    """Decode an ASTERIX file (raw data blocks, pcap or pcapng).

    Parameters
    ----------
    sites
        Radar positions by SAC/SIC; every CAT048 radar in the file needs one.
    date
        UTC date of the first record; optional for captures (their packet times
        give it), required for raw files.
    on_error
        ``"raise"`` stops at the first bad record with an :class:`InputError`;
        ``"skip"`` counts it in ``skipped`` and keeps its message in ``errors``.
    default_height_m
        Height assumed for plots without one (2D primary radar); by default such
        plots are projected with a horizontal line of sight and altitude NaN.
    """
    c = _Collector(str(path), on_error)
    try:
        for capture, payload in iter_payloads(path):
            c.add_payload(payload, capture)
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", file=str(path)) from None
    return _finish(c, sites, date, default_height_m)


def decode_asterix(
    data: bytes,
    *,
    sites: Iterable[RadarSite] = (),
    date: dt.date | str | None = None,
    capture_time: float | None = None,
    source: str = "<bytes>",
    on_error: ErrorMode = "raise",
    default_height_m: float | None = None,
) -> AsterixData:
    """Decode ASTERIX data blocks held in memory (see :func:`read_asterix`)."""
    c = _Collector(source, on_error)
    c.add_payload(data, capture_time)
    return _finish(c, sites, date, default_height_m)


def listen_udp(
    port: int,
    host: str = "127.0.0.1",
    *,
    sites: Sequence[RadarSite] = (),
    date: dt.date | str | None = None,
    batch_s: float = 1.0,
    max_batches: int | None = None,
    idle_timeout_s: float | None = None,
    on_error: ErrorMode = "skip",
    sock: socket.socket | None = None,
    stop: Callable[[], bool] | None = None,
) -> Iterator[AsterixData]:
    """Receive ASTERIX datagrams on UDP and yield one :class:`AsterixData` per batch.

    A batch closes every ``batch_s`` seconds (empty batches are not yielded). The
    listener stops after ``max_batches`` batches, when nothing arrives for
    ``idle_timeout_s``, or when ``stop()`` is true. Bad datagrams are counted and
    skipped by default: a feed keeps going. Pass ``sock`` to use an already bound socket.
    """
    own = sock is None
    if sock is None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((host, port))
    sock.settimeout(min(batch_s, idle_timeout_s or batch_s))
    try:
        emitted, last_rx = 0, _time.monotonic()
        while max_batches is None or emitted < max_batches:
            if stop is not None and stop():
                return
            c = _Collector(f"udp:{host}:{port}", on_error)
            deadline = _time.monotonic() + batch_s
            while _time.monotonic() < deadline and not (stop is not None and stop()):
                try:
                    payload = sock.recv(65535)
                except TimeoutError:
                    if idle_timeout_s is not None and _time.monotonic() - last_rx > idle_timeout_s:
                        break
                    continue
                last_rx = _time.monotonic()
                c.add_payload(payload, _time.time())
            if c.records or c.skipped:
                emitted += 1
                yield _finish(c, sites, date, None)
            if idle_timeout_s is not None and _time.monotonic() - last_rx > idle_timeout_s:
                return
    finally:
        if own:
            sock.close()


# -------------------------------------------------------------------------- encode

_TYP_CODE = {"psr": 1, "ssr": 2, "ssr+psr": 3, "modes": 5, "modes+psr": 7}


def encode_cat048(plots: pd.DataFrame, *, records_per_block: int = 64) -> bytes:
    """Encode a plot batch as CAT048 data blocks (what a radar would send).

    Writes I010, I140, I020, I040 and, where the plot has them, I070 (squawk),
    I090 (altitude as flight level), I220 (Mode S address). ``time`` becomes the
    time of day (1/128 s); ``range_m``/``azimuth_deg`` are the measured polar
    position. Scenarios use this to emit real radar bytes.
    """
    out = bytearray()
    rows = _encode_rows(plots)
    for start in range(0, len(rows), records_per_block):
        body = b"".join(rows[start : start + records_per_block])
        out += bytes([48]) + (3 + len(body)).to_bytes(2, "big") + body
    return bytes(out)


def _encode_rows(plots: pd.DataFrame) -> list[bytes]:
    n = len(plots)
    tod = np.round((np.asarray(plots["time"], float) % DAY) * 128).astype(np.int64) % (1 << 24)
    rho = np.round(np.asarray(plots["range_m"], float) / NM * 256).astype(np.int64)
    theta = np.round(np.asarray(plots["azimuth_deg"], float) % 360 / 360 * 65536
                     ).astype(np.int64) % 65536
    alt = np.asarray(plots["altitude"], float) if "altitude" in plots else np.full(n, np.nan)
    fl4 = np.round(alt / FT / 25)  # flight level in 1/4 FL
    icao = plots["icao24"].to_numpy(object) if "icao24" in plots else np.full(n, None)
    squawk = plots["squawk"].to_numpy(object) if "squawk" in plots else np.full(n, None)
    sac = np.asarray(plots["sac"], np.int64)
    sic = np.asarray(plots["sic"], np.int64)
    if np.any((rho < 0) | (rho > 0xFFFF)):
        raise ValueError("range_m outside the CAT048 I040 range (0-256 NM)")
    rows = []
    for k in range(n):
        has_a3 = isinstance(squawk[k], str) and len(squawk[k]) == 4
        has_fl = bool(np.isfinite(fl4[k]))
        has_s = isinstance(icao[k], str) and len(icao[k]) == 6
        typ = 5 if has_s else (2 if has_a3 or has_fl else 1)
        # FSPEC: FRN1 I010, 2 I140, 3 I020, 4 I040, 5 I070, 6 I090, 7 I130 | 8 I220
        fs1 = 0b11110000 | (0b1000 if has_a3 else 0) | (0b100 if has_fl else 0)
        items = [
            bytes([sac[k], sic[k]]),
            int(tod[k]).to_bytes(3, "big"),
            bytes([typ << 5]),
            int(rho[k]).to_bytes(2, "big") + int(theta[k]).to_bytes(2, "big"),
        ]
        if has_a3:
            items.append(int(squawk[k], 8).to_bytes(2, "big"))
        if has_fl:
            items.append((int(fl4[k]) & 0x3FFF).to_bytes(2, "big"))
        if has_s:
            items.append(bytes.fromhex(icao[k]))
            fspec = bytes([fs1 | 1, 0b10000000])
        else:
            fspec = bytes([fs1])
        rows.append(fspec + b"".join(items))
    return rows
