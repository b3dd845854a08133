"""Writing incident records: readable table, JSON Lines, GeoJSON and CSV."""

from __future__ import annotations

import csv
import itertools
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol, TextIO, runtime_checkable

from skyfence.airspace.antimeridian import lon_delta
from skyfence.incidents.json_line import encode_line
from skyfence.incidents.record import RECORD_FIELDS, entry_id
from skyfence.model import Entry

FORMATS = ("table", "jsonl", "geojson", "csv")
#: record fields holding a {lat, lon} point (two columns each in CSV)
POINT_FIELDS = ("entry_point", "exit_point", "first_inside_point", "last_inside_point")


def jsonl_line(record: Mapping[str, Any]) -> str:
    """One record as one compact JSON line (byte-stable for the same record).

    Never writes ``NaN`` or ``Infinity`` (not JSON): inputs are checked against
    plausible ranges first, and a non-finite number that still reaches a record is a
    :class:`DataError` naming the record and field, not an invalid line.
    """
    try:
        return encode_line(record).decode()
    except ValueError:
        from skyfence.errors import DataError

        raise DataError(f"record {record.get('id')}: field(s) {', '.join(_non_finite(record))} "
                        "hold a non-finite number; not written") from None


def _non_finite(value: Any, path: str = "") -> list[str]:
    """Dotted paths of the NaN / infinite floats inside a record."""
    if isinstance(value, float):
        finite = value == value and abs(value) != float("inf")  # not NaN, not infinite
        return [] if finite else [path or "value"]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _non_finite(v, f"{path}.{k}" if path
                                                                   else str(k))]
    if isinstance(value, (list, tuple)):
        return [p for i, v in enumerate(value) for p in _non_finite(v, f"{path}[{i}]")]
    return []


@runtime_checkable
class EncodedRecords(Protocol):
    """Records already held as the lines :func:`jsonl_line` writes (a scan's spill file):
    text made of whole lines, each with its newline, or a record to encode here."""

    def jsonl_lines(self) -> Iterator[str | Mapping[str, Any]]: ...


def write_jsonl(records: Iterable[Mapping[str, Any]], out: TextIO) -> None:
    """JSON Lines: the contract's incident records, one per line (records already
    encoded are copied as they are)."""
    if isinstance(records, EncodedRecords):
        for item in records.jsonl_lines():
            out.write(item if isinstance(item, str) else jsonl_line(item) + "\n")
        return
    for r in records:
        out.write(jsonl_line(r) + "\n")


def flat_record(r: Mapping[str, Any]) -> dict[str, Any]:
    """A record with nested fields spread into columns (for CSV and DataFrames)."""
    flat: dict[str, Any] = {}
    for k, v in r.items():
        if k in POINT_FIELDS:
            flat[f"{k}_lat"] = None if v is None else v["lat"]
            flat[f"{k}_lon"] = None if v is None else v["lon"]
        elif k == "classification":
            for ck in ("cooperative", "category", "registration_state", "military"):
                flat[f"classification_{ck}"] = v.get(ck)
        elif k in ("reasons", "integrity"):
            flat[k] = "; ".join(v)
        elif k == "protocol":
            flat[k] = "; ".join(s["step"] + (f" (after {s['after_s']:g} s)"
                                             if s.get("after_s") else "") for s in v)
        else:
            flat[k] = v
    return flat


def write_csv(records: Iterable[Mapping[str, Any]], out: TextIO) -> None:
    """CSV with one row per record and nested fields flattened."""
    cols = list(flat_record(_blank()).keys())
    w = csv.DictWriter(out, fieldnames=cols, lineterminator="\n")
    w.writeheader()
    for r in records:
        w.writerow({k: ("" if v is None else v) for k, v in flat_record(r).items()})


def _blank() -> dict[str, Any]:
    r: dict[str, Any] = dict.fromkeys(RECORD_FIELDS)
    r["classification"] = {}
    r["reasons"] = []
    r["integrity"] = []
    r["protocol"] = []
    return r


def write_geojson(
    records: Sequence[Mapping[str, Any]], entries: Sequence[Entry], out: TextIO
) -> None:
    """GeoJSON: the inside part of each entry as a LineString carrying the record."""
    by_id = {entry_id(e.zone, e.track, e.entered_at): e for e in entries}
    feats = []
    for r in records:
        found = by_id.get(r["id"])
        path = found.path if found is not None else []
        geom = path_geometry([(lon, lat) for _, lat, lon in path])
        feats.append({"type": "Feature", "geometry": geom, "properties": r})
    json.dump({"type": "FeatureCollection", "features": feats}, out, ensure_ascii=False)
    out.write("\n")


def path_geometry(points: Sequence[tuple[float, float]]) -> dict[str, Any] | None:
    """A GeoJSON LineString of (lon, lat) points, cut where it crosses ±180 (RFC 7946
    section 3.1.9): a MultiLineString then, each part ending on the antimeridian."""
    if not points:
        return None
    if len(points) == 1:
        points = [points[0], points[0]]
    parts: list[list[list[float]]] = [[]]
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        if not parts[-1]:
            parts[-1].append([round(x0, 6), round(y0, 6)])
        dx = float(lon_delta(x0, x1))
        if abs(x0 + dx) > 180.0:  # the shorter way goes over the antimeridian
            edge = 180.0 if x0 + dx > 0 else -180.0
            f = (edge - x0) / dx
            y = round(y0 + f * (y1 - y0), 6)
            parts[-1].append([edge, y])
            parts.append([[-edge, y]])
        parts[-1].append([round(x1, 6), round(y1, 6)])
    if len(parts) == 1:
        return {"type": "LineString", "coordinates": parts[0]}
    return {"type": "MultiLineString", "coordinates": parts}


#: the table's columns, in order
TABLE_COLUMNS = ("severity", "zone", "track", "callsign", "entered", "exited", "dur",
                 "depth", "alt m", "obs", "why")
#: above this many rows the table is written as plain aligned text: rich measures every
#: cell (about 1 ms a row), so a table of a large ``--all-entries`` scan took minutes
RICH_MAX_ROWS = 1000


def table_cells(r: Mapping[str, Any]) -> tuple[str, ...]:
    """The cells of one record's row in :data:`TABLE_COLUMNS` order.

    >>> r = {"severity": "critical", "violation": True, "zone": "EST", "track": "4b1a2c",
    ...      "callsign": None, "entered_at": "2025-09-19T09:58:02.000Z",
    ...      "entry_interpolated": True, "exited_at": None, "duration_s": 724.4,
    ...      "max_depth_m": 9260.0, "min_altitude_m": None, "observations": 41,
    ...      "reasons": ["non-cooperative aircraft inside EST airspace"]}
    >>> table_cells(r)[:3]
    ('critical ⚑', 'EST', '4b1a2c')
    >>> table_cells(r)[4:9]
    ('2025-09-19 09:58:02', 'still inside', '12:04', '9.26 km', '')
    """
    alt = "" if r["min_altitude_m"] is None else \
        f"{r['min_altitude_m']:.0f}-{r['max_altitude_m']:.0f}"
    return (
        r["severity"] + (" ⚑" if r["violation"] else ""),
        r["zone"],
        r["track"],
        r["callsign"] or "",
        (r["entered_at"] or "")[:19].replace("T", " ") + ("" if r["entry_interpolated"]
                                                           else " (first fix)"),
        (r["exited_at"] or "still inside")[:19].replace("T", " "),
        _duration(r["duration_s"]),
        f"{r['max_depth_m'] / 1000:.2f} km",
        alt,
        str(r["observations"]),
        r["reasons"][0] if r["reasons"] else "",
    )


def render_table(records: Sequence[Mapping[str, Any]], out: TextIO, *, title: str = "",
                 rich_max_rows: int = RICH_MAX_ROWS) -> None:
    """A readable table for the terminal: rich (boxes, severity colours) up to
    ``rich_max_rows`` rows, plain aligned text beyond (the same cells, written in a
    fraction of the time)."""
    rows = [table_cells(r) for r in records]
    if len(rows) > rich_max_rows:
        _plain_table(rows, out, title=title)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title or None, show_lines=False)
    for col in TABLE_COLUMNS:
        table.add_column(col, overflow="fold")
    style = {"critical": "bold red", "warning": "yellow", "info": "dim"}
    for r, cells in zip(records, rows, strict=True):
        table.add_row(*cells, style=style.get(r["severity"], ""))
    # a terminal: its width and the severity colours; a file or pipe: 200 columns
    # and no colour codes whatever the environment says
    tty = out.isatty()
    Console(file=out, width=None if tty else 200,
            force_terminal=None if tty else False).print(table)


def _plain_table(rows: Sequence[tuple[str, ...]], out: TextIO, *, title: str = "") -> None:
    """Rows as text columns two spaces apart, each as wide as its widest cell; the last
    column (the reason, the longest) is not padded."""
    widths = [max([len(c), *(len(row[i]) for row in rows)])
              for i, c in enumerate(TABLE_COLUMNS)]
    widths[-1] = 0
    if title:
        out.write(f"{title}\n")
    for row in (TABLE_COLUMNS, (*("-" * w for w in widths[:-1]), "---"), *rows):
        out.write("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
                  + "\n")


def _duration(s: float) -> str:
    m, sec = divmod(round(s), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


def write_records(
    fmt: str, records: Iterable[Mapping[str, Any]], entries: Sequence[Entry], out: TextIO
) -> None:
    """Write ``records`` in one of :data:`FORMATS` (JSON Lines and CSV stream them)."""
    if fmt == "jsonl":
        write_jsonl(records, out)
    elif fmt == "csv":
        write_csv(records, out)
    elif fmt == "geojson":
        write_geojson(list(records), entries, out)
    else:
        render_table(list(records), out)
