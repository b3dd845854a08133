"""``skyfence incidents``: list, show and work on the incidents of a store.

::

    skyfence incidents list [--store S] [--all] [--state ST]... [--zone Z] [--track T]
                            [--format table|jsonl|csv|geojson] [-o FILE]
    skyfence incidents export [same options as list; default --all --format jsonl]
    skyfence incidents show ID [--store S] [--format table|json]
    skyfence incidents ack|close|reopen ID [--operator NAME] [--note TEXT]
    skyfence incidents note ID TEXT [--operator NAME]
    skyfence incidents step ID N [--operator NAME] [--note TEXT]

``ID`` is an incident id or a unique prefix of 6 or more characters. The operator is
``--operator``, else ``$SKYFENCE_OPERATOR``, else the login name; every change is in
the incident's audit with the operator, the time and the note.
"""

from __future__ import annotations

import argparse
import csv
import getpass
import json
import os
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from skyfence.errors import UsageError

__all__ = ["add_incident_commands", "write_incidents"]

_FORMATS = ("table", "jsonl", "csv", "geojson")


def add_incident_commands(sub: Any) -> None:
    """Register ``skyfence incidents ...`` on the top-level subparsers."""
    from skyfence.incidents.session import STORE_HELP

    p = sub.add_parser("incidents", help="list, show, acknowledge and close stored incidents")
    isub = p.add_subparsers(dest="incidents_command", required=True,
                            metavar="list|show|ack|close|reopen|note|step|export")

    def store_opt(q: argparse.ArgumentParser) -> None:
        q.add_argument("--store", nargs="?", const="", metavar="PATH_OR_URL", help=STORE_HELP)

    def operator_opts(q: argparse.ArgumentParser, note: bool = True) -> None:
        q.add_argument("--operator", metavar="NAME",
                       help="who does it (default: $SKYFENCE_OPERATOR or the login name)")
        if note:
            q.add_argument("--note", metavar="TEXT", help="why, for the audit")

    for name, text, every, fmt in (
            ("list", "incidents (default: open violations; --all: every incident)", False,
             "table"),
            ("export", "every incident, as JSON Lines (or --format csv|geojson)", True,
             "jsonl")):
        q = isub.add_parser(name, help=text)
        store_opt(q)
        q.add_argument("--all", action="store_true", default=every, help="every incident")
        q.add_argument("--state", action="append", default=[],
                       choices=("open", "acknowledged", "closed"), help="only this state")
        q.add_argument("--zone", metavar="Z", help="only incidents in (or also in) zone Z")
        q.add_argument("--track", metavar="ID", help="only this track")
        q.add_argument("--format", choices=_FORMATS, default=fmt)
        q.add_argument("-o", "--output", metavar="FILE", help="write to FILE")
        q.set_defaults(func=_cmd_list)

    s = isub.add_parser("show", help="one incident: entries, steps, audit, alert delivery")
    s.add_argument("id", metavar="ID")
    store_opt(s)
    s.add_argument("--format", choices=("table", "json"), default="table")
    s.set_defaults(func=_cmd_show)

    for action, text in (("ack", "acknowledge: the operator has taken charge (no escalation)"),
                         ("close", "close the incident"),
                         ("reopen", "open a closed or acknowledged incident again")):
        a = isub.add_parser(action, help=text)
        a.add_argument("id", metavar="ID")
        store_opt(a)
        operator_opts(a)
        a.set_defaults(func=_cmd_state, action=action)

    n = isub.add_parser("note", help="add a note to the incident's audit")
    n.add_argument("id", metavar="ID")
    n.add_argument("text", metavar="TEXT")
    store_opt(n)
    operator_opts(n, note=False)
    n.set_defaults(func=_cmd_note)

    st = isub.add_parser("step", help="mark protocol step N done")
    st.add_argument("id", metavar="ID")
    st.add_argument("n", type=int, metavar="N", help="the step's number in `incidents show`")
    store_opt(st)
    operator_opts(st)
    st.set_defaults(func=_cmd_step)


def _store(args: argparse.Namespace) -> Any:
    from skyfence.incidents.store import IncidentStore

    return IncidentStore.open(args.store or None)


def _operator(args: argparse.Namespace) -> str:
    if args.operator:
        return str(args.operator)
    env = os.environ.get("SKYFENCE_OPERATOR")
    if env:
        return env
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        raise UsageError("who is the operator? give --operator NAME") from None


# ----------------------------------------------------------------------- list
def _cmd_list(args: argparse.Namespace) -> int:
    from skyfence.cli import _output
    from skyfence.incidents.queries import incident_records

    with _store(args) as store:
        records = incident_records(store, every=args.all, states=args.state, zone=args.zone,
                                   track=args.track)
        points = _points(store, records) if args.format == "geojson" else {}
        shown = store.shown
    with _output(args.output) as out:
        write_incidents(args.format, records, out, points)
    if args.format == "table":
        what = "incidents" if args.all else "open violations"
        print(f"{len(records)} {what} in {shown}", file=sys.stderr)
    return 0


def _points(store: Any, records: Sequence[Any]) -> dict[str, list[list[float]]]:
    """Entry and exit points ([lon, lat]) of each incident's entries."""
    import sqlalchemy as sa

    from skyfence.incidents.schema import ENTRIES

    out: dict[str, list[list[float]]] = {r["id"]: [] for r in records}
    ids = list(out)
    with store.engine.connect() as conn:
        for i in range(0, len(ids), 500):
            q = (sa.select(ENTRIES.c.incident_id, ENTRIES.c.record)
                 .where(ENTRIES.c.incident_id.in_(ids[i:i + 500]))
                 .order_by(ENTRIES.c.entered_at))
            for inc, rec in conn.execute(q):
                r = json.loads(rec)
                for p in (r["entry_point"], r["exit_point"]):
                    if p is not None:
                        out[inc].append([p["lon"], p["lat"]])
    return out


def write_incidents(fmt: str, records: Sequence[Any], out: TextIO,
                    points: dict[str, list[list[float]]] | None = None) -> None:
    """Incident records as a table, JSON Lines, CSV or GeoJSON (one MultiPoint feature per
    incident: its entry and exit points)."""
    from skyfence.incidents.queries import INCIDENT_FIELDS

    if fmt == "jsonl":
        for r in records:
            out.write(json.dumps(r, ensure_ascii=False) + "\n")
    elif fmt == "csv":
        w = csv.writer(out, lineterminator="\n")
        w.writerow(INCIDENT_FIELDS)
        for r in records:
            w.writerow([" ".join(v) if isinstance(v, list) else _csv(v)
                        for v in (r[f] for f in INCIDENT_FIELDS)])
    elif fmt == "geojson":
        feats = [{"type": "Feature", "properties": dict(r),
                  "geometry": {"type": "MultiPoint", "coordinates": (points or {}).get(r["id"],
                                                                                       [])}}
                 for r in records]
        json.dump({"type": "FeatureCollection", "features": feats}, out, ensure_ascii=False)
        out.write("\n")
    else:
        _table(records, out)


def _csv(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    return v


def _table(records: Sequence[Any], out: TextIO) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(show_edge=False, pad_edge=False)
    for c in ("id", "state", "severity", "zone", "track", "callsign", "first entry (UTC)",
              "last exit", "inside", "depth km", "crossings", "steps"):
        t.add_column(c, no_wrap=c in ("id", "first entry (UTC)"))
    for r in records:
        zone = r["zone"] + (f" (+{','.join(r['also_in'])})" if r["also_in"] else "")
        last = "inside" if r["open_entries"] else (r["last_exited_at"] or "")[11:19]
        t.add_row(r["id"], r["state"], r["severity"] + ("" if r["violation"] else " (no viol.)"),
                  zone, r["track"], r["callsign"] or "",
                  (r["first_entered_at"] or "")[:19].replace("T", " "), last,
                  _duration(r["inside_s"]), f"{r['max_depth_m'] / 1000:.2f}",
                  str(r["crossings"]),
                  f"{r['steps_done']}/{r['steps']}" + (f" ({r['steps_escalated']} esc.)"
                                                       if r["steps_escalated"] else ""))
    Console(file=out, width=None if out.isatty() else 160, highlight=False).print(t)


def _duration(s: float) -> str:
    """``12 min 3 s`` / ``45.2 s``.

    >>> _duration(723.4), _duration(45.25)
    ('12 min 3 s', '45.2 s')
    """
    if s < 60:
        return f"{s:.1f} s"
    whole = round(s)
    return f"{whole // 60} min {whole % 60} s"


# ----------------------------------------------------------------------- show
def _cmd_show(args: argparse.Namespace) -> int:
    from skyfence.incidents.lifecycle import resolve_id
    from skyfence.incidents.queries import incident_detail

    with _store(args) as store:
        detail = incident_detail(store, resolve_id(store, args.id))
    if args.format == "json":
        print(json.dumps(detail, indent=2, ensure_ascii=False))
    else:
        print(render_detail(detail))
    return 0


def render_detail(d: dict[str, Any]) -> str:
    """``incidents show``: the incident, its entries, steps, audit, delivery, dossier."""
    r = d["incident"]
    lines = [f"incident  {r['id']}  {r['state'].upper()}  {r['severity']}"
             + ("  violation" if r["violation"] else "  (no violation)"),
             f"zone      {r['zone']} ({r['zone_kind']})"
             + (f", also in {', '.join(r['also_in'])}" if r["also_in"] else ""),
             f"track     {r['track']}" + (f"  icao24 {r['icao24']}" if r["icao24"] else "")
             + (f"  callsign {r['callsign']}" if r["callsign"] else ""),
             f"entered   {r['first_entered_at']}   last exit "
             f"{'(inside)' if r['open_entries'] else r['last_exited_at']}",
             f"inside    {_duration(r['inside_s'])} in {r['crossings']} crossing(s); deepest "
             f"{r['max_depth_m'] / 1000:.2f} km (entry {r['deepest_entry']})",
             f"origin    {r['origin']}"]
    dp = d.get("deepest_point")
    if dp is not None:
        lines.insert(-1, f"deepest   {dp['depth_m'] / 1000:.2f} km at {dp['lat']:.5f}, "
                         f"{dp['lon']:.5f} ({dp['time']})")
    lines += ["", "entries:"]
    for e in d["entries"]:
        lines.append(f"  {e['id']}  {e['zone']:6} {e['entered_at']} -> {e['exited_at'] or '-':24}"
                     f" {_duration(e['duration_s']):>12}  {e['max_depth_m'] / 1000:7.2f} km  "
                     f"{e['observations']:4d} fixes  {e['entry_state']}")
    lines += ["", "protocol:"]
    for s in d["steps"]:
        if s["done_at"]:
            status = f"done by {s['done_by']} at {s['done_at']}"
        elif s["escalated_at"]:
            status = f"ESCALATED at {s['escalated_at']}"
        elif s["after_s"] is None:
            status = "now"
        else:
            status = f"due {s['due_at']}"
        lines.append(f"  {s['n']}. {s['step']}  [{status}]")
    lines += ["", "audit:"]
    for a in d["audit"]:
        extra = f"  {a['note']}" if a["note"] else ""
        feed = f" (data {a['feed_at']})" if a["feed_at"] else ""
        lines.append(f"  {a['at']}{feed}  {a['kind']:12} {a['operator']}{extra}")
    lines += ["", "alerts:"]
    if not d["delivery"]:
        lines.append("  none")
    for s in d["delivery"]:
        err = f"  last error: {s['last_error']}" if s["last_error"] and s["pending"] else ""
        lines.append(f"  {s['sink']}: {s['delivered']} delivered, {s['pending']} pending, "
                     f"{s['rejected']} rejected ({s['attempts']} attempts){err}")
    dos = d["dossier"]
    lines += ["", "dossier:  " + ("none" if dos is None else
                                  f"{dos['state']} {dos['path'] or ''} {dos['error'] or ''}"
                                  .rstrip())]
    return "\n".join(lines)


# ---------------------------------------------------------------------- changes
def _cmd_state(args: argparse.Namespace) -> int:
    from skyfence.incidents.lifecycle import change_state, resolve_id

    with _store(args) as store:
        iid = resolve_id(store, args.id)
        state = change_state(store, iid, args.action, _operator(args), args.note)
    print(f"incident {iid} {state}")
    return 0


def _cmd_note(args: argparse.Namespace) -> int:
    from skyfence.incidents.lifecycle import add_note, resolve_id

    with _store(args) as store:
        iid = resolve_id(store, args.id)
        add_note(store, iid, _operator(args), args.text)
    print(f"incident {iid}: note added")
    return 0


def _cmd_step(args: argparse.Namespace) -> int:
    from skyfence.incidents.lifecycle import mark_step_done, resolve_id

    with _store(args) as store:
        iid = resolve_id(store, args.id)
        text = mark_step_done(store, iid, args.n, _operator(args), args.note)
    print(f"incident {iid}: step {args.n} done ({text})")
    return 0
