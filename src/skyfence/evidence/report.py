"""The human part of a dossier: ``report.html`` (self-contained) and ``report.pdf``.

Both say the same things in the same order: what happened, in sentences an operator or
a diplomat reads; the figures; the map and the profile; how the figures were obtained;
how anyone can check them; and the chain of custody (who built the dossier, when, from
which inputs, with which software and key). The PDF is drawn with matplotlib's PDF
backend (no system libraries needed), pictures as vector graphics.
"""

from __future__ import annotations

import base64
import html
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from skyfence.evidence.timefmt import clock, human_duration, long_date, parse_iso
from skyfence.evidence.trackfacts import TrackFacts
from skyfence.vocab import FT

__all__ = ["figures_table", "narrative", "write_html", "write_pdf"]


def _deg(lat: float, lon: float) -> str:
    return (f"{abs(lat):.4f}°{'N' if lat >= 0 else 'S'} "
            f"{abs(lon):.4f}°{'E' if lon >= 0 else 'W'}")


def _zone_words(claim: dict[str, Any]) -> str:
    z = claim["zone"]
    if z["kind"] == "national":
        title = z.get("title") or z["name"]
        return (f"the national airspace of {title} ({z['name']}: land, internal waters and "
                "territorial sea)")
    return f"the protected zone {z['name']}" + (f" ({z['title']})" if z.get("title") else "")


def _who(rec: dict[str, Any]) -> str:
    cls = rec["classification"]
    if cls["cooperative"]:
        who = f"An aircraft transmitting ICAO address {rec['icao24']}"
        if cls.get("registration_state"):
            who += f" (an address block of {cls['registration_state']})"
        if rec.get("callsign"):
            who += f", callsign {rec['callsign']},"
        return who
    return (f"A target seen without a transponder identity (track {rec['track']}: "
            "radar only, or no ICAO address)")


def narrative(claim: dict[str, Any], facts: TrackFacts) -> list[str]:
    """The account of the incident, one paragraph per string."""
    rec = claim["incident"]
    t_in = parse_iso(rec["entered_at"])
    entry_at = (f" at {_deg(rec['entry_point']['lat'], rec['entry_point']['lon'])}"
                if rec.get("entry_point") else "")
    first = (f"{_who(rec)} entered {_zone_words(claim)} at {clock(t_in)} UTC on "
             f"{long_date(t_in)}{entry_at}")
    if not rec["entry_interpolated"]:
        first += " (it was already inside at its first recorded position)"
    if rec["exited_at"]:
        t_out = parse_iso(rec["exited_at"])
        exit_at = (f" at {_deg(rec['exit_point']['lat'], rec['exit_point']['lon'])}"
                   if rec.get("exit_point") else "")
        first += (f" and left it at {clock(t_out)} UTC{exit_at}, "
                  f"{human_duration(rec['duration_s'])} later.")
    else:
        first += (f"; it was still inside when the data end (last inside at "
                  f"{clock(parse_iso(rec['last_inside_at']))} UTC, "
                  f"{human_duration(rec['duration_s'])} after the entry).")
    paras = [first]
    depth = f"At its deepest it was {rec['max_depth_m'] / 1000:.2f} km inside the boundary"
    if facts.deepest is not None:
        i = facts.deepest
        depth += (f" (the fix at {clock(facts.time[i])} UTC, {_deg(facts.lat[i], facts.lon[i])})")
    depth += (", measured along the Earth's surface (WGS84 geodesic) to the nearest point "
              "of the boundary.")
    if rec["min_altitude_m"] is not None:
        lo, hi = rec["min_altitude_m"], rec["max_altitude_m"]
        depth += (f" Inside, it flew between {lo:,.0f} m and {hi:,.0f} m "
                  f"({lo / FT:,.0f}-{hi / FT:,.0f} ft).")
    cls = rec["classification"]
    if cls["category"] != "unknown":
        conf = f", confidence {cls['confidence']:.0%}" if cls.get("confidence") else ""
        depth += f" Its speed and altitude are those of a {cls['category']}{conf}."
    paras.append(depth)
    sensors = claim.get("sensors") or []
    names = ", ".join(s.get("name") or s["kind"] for s in sensors)
    paras.append(f"The account rests on {rec['observations']} position fixes inside the zone"
                 + (f", from {names}" if names else "")
                 + f"; the dossier holds all {claim['observations']['rows']} fixes of the "
                   "track from 10 minutes before the entry to 10 minutes after the exit.")
    verdict = ("judged this entry a violation" if rec["violation"]
               else "did not judge this entry a violation")
    paras.append(f"Under the policy '{claim['policy']['name']}', skyfence {verdict}, "
                 f"severity {rec['severity'].upper()}: " + "; ".join(rec["reasons"]) + ".")
    return paras


def figures_table(claim: dict[str, Any]) -> list[tuple[str, str]]:
    """The incident's figures as (label, value) rows."""
    rec = claim["incident"]

    def pt(p: dict[str, float] | None) -> str:
        return "-" if not p else _deg(p["lat"], p["lon"])

    coop = "cooperative" if rec["classification"]["cooperative"] else "non-cooperative"
    alt = ("unknown" if rec["min_altitude_m"] is None
           else f"{rec['min_altitude_m']:,.1f} - {rec['max_altitude_m']:,.1f} m")
    return [
        ("incident id", rec["id"]),
        ("zone", f"{rec['zone']} ({rec['zone_kind']})"),
        ("track", rec["track"] + (f" / callsign {rec['callsign']}" if rec["callsign"] else "")),
        ("entered (UTC)", rec["entered_at"] + ("" if rec["entry_interpolated"]
                                               else " (first fix, already inside)")),
        ("exited (UTC)", rec["exited_at"] or "still inside at the end of data"),
        ("last inside fix (UTC)", rec["last_inside_at"]),
        ("duration", f"{rec['duration_s']:.3f} s ({human_duration(rec['duration_s'])})"),
        ("maximum depth", f"{rec['max_depth_m']:,.1f} m"),
        ("entry point", pt(rec["entry_point"])),
        ("exit point", pt(rec["exit_point"])),
        ("altitude inside", alt),
        ("fixes inside", str(rec["observations"])),
        ("classification", f"{coop}, {rec['classification']['category']}"),
        ("verdict", f"{'violation' if rec['violation'] else 'no violation'}, {rec['severity']}"),
    ]


def _method(claim: dict[str, Any]) -> list[str]:
    z = claim["zone"]
    data = z.get("data", {})
    src = (f"{data['source']} {data['version']} ({data['attribution']}, {data['licence']}; "
           f"source file SHA-256 {data['source_sha256']}; bundled as {data['bundle_file']}, "
           f"SHA-256 {data['bundle_sha256']})") if "source" in data else data.get("description", "")
    return [
        "Between two consecutive fixes the track is a straight line in longitude and "
        "latitude, the shorter way round, and time runs linearly along it; a track is "
        f"split where fixes are more than {claim['window']['gap_s']:g} s apart. The entry "
        "time is where that line crosses the boundary inwards, the exit time where it "
        "crosses outwards; the depth is the largest geodesic distance on the WGS84 "
        "ellipsoid from an inside fix to the boundary.",
        f"Zone boundary: the exact geometry in zone.geojson (SHA-256 {z['sha256']}). "
        f"Data: {src}.",
        f"Software: skyfence {claim['software']['skyfence']} with GEOS "
        f"{claim['software']['geos']}, PROJ {claim['software']['proj']}, numpy "
        f"{claim['software']['numpy']}. Policy: {claim['policy']['source']} "
        f"(SHA-256 {claim['policy']['sha256']}), watched states: "
        f"{', '.join(claim['policy']['watch_states']) or 'none'}.",
    ]


def _check_text(claim: dict[str, Any]) -> list[str]:
    kid = claim["custody"]["signing_key"]
    tol = claim["tolerances"]
    return [
        "Every file of this dossier is listed with its SHA-256 in statement.dsse.json, an "
        "in-toto Statement signed with Ed25519 (DSSE envelope) by the station key "
        f"{kid}. The statement is also recorded in the station's append-only Merkle log "
        "(RFC 6962); its inclusion proof and the log's signed checkpoint are in the "
        "statement.",
        "To check it, with only this folder and the station's public key, run the "
        "command below. It checks every hash, the "
        "signature and the log proof, then runs skyfence's own scan on "
        "observations.parquet and zone.geojson and compares the entry time, exit time, "
        f"duration and depth with this claim (tolerances: {tol['time_s'] * 1000:g} ms for "
        f"times and duration, {tol['depth_m']:g} m for depth).",
    ]


def _verify_command(claim: dict[str, Any]) -> str:
    return f"skyfence dossier verify DOSSIER --key {claim['custody']['signing_key']}.pub"


def _custody_rows(claim: dict[str, Any]) -> list[tuple[str, str]]:
    c = claim["custody"]
    rows = [("built by", c["built_by"]), ("built at (UTC)", c["built_at"]),
            ("command", c["command"]), ("data", c["data_origin"]),
            ("signing key", c["signing_key"])]
    for f in c["inputs"]:
        rows.append(("input", f"{f['name']} ({f['format']}, {f['size_bytes']:,} bytes, "
                              f"SHA-256 {f['sha256']})"))
    if c.get("aircraft_db"):
        rows.append(("aircraft database", f"{c['aircraft_db']['name']} "
                                          f"(SHA-256 {c['aircraft_db']['sha256']})"))
    for s in claim.get("sensors") or []:
        rows.append(("sensor", ", ".join(f"{k} {v}" for k, v in s.items())))
    w = claim["window"]
    rows.append(("observation window (UTC)", f"{w['start']} to {w['end']}"))
    return rows


def _banner(claim: dict[str, Any]) -> str | None:
    origin = claim["custody"]["data_origin"]
    if origin == "recorded":
        return None
    return f"SIMULATED DATA ({origin.removeprefix('simulated: ')}): not a real observation"


def _b64_png(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode("ascii")


_CSS = """
body{font-family:Georgia,'DejaVu Serif',serif;max-width:60rem;margin:2rem auto;padding:0 1rem;
color:#1b1b1b;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;border-bottom:1px solid #bbb;
margin-top:2rem}.sub{color:#555;margin-top:0}.banner{background:#fff3cd;border:2px solid #b8860b;
padding:.6rem 1rem;font-weight:bold}table{border-collapse:collapse;width:100%;font-size:.92rem}
td{border-bottom:1px solid #ddd;padding:.25rem .5rem;vertical-align:top}
td:first-child{white-space:nowrap;color:#444;width:14rem}code{font-size:.85rem;
word-break:break-all}img{width:100%;border:1px solid #ccc}.summary p{font-size:1.05rem}
"""


def write_html(path: Path, claim: dict[str, Any], facts: TrackFacts, map_png: Path,
               profile_png: Path, title: str, files: Sequence[tuple[str, str]]) -> None:
    """``report.html`` with the pictures inline (base64): one file, opens offline."""
    e = html.escape
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{e(title)}"
             f"</title><style>{_CSS}</style></head><body>",
             f"<h1>{e(title)}</h1><p class='sub'>skyfence evidence dossier "
             f"{e(claim['incident']['id'])}; all times UTC</p>"]
    banner = _banner(claim)
    if banner:
        parts.append(f"<p class='banner'>{e(banner)}</p>")
    parts.append("<h2>What happened</h2><div class='summary'>")
    parts += [f"<p>{e(p)}</p>" for p in narrative(claim, facts)]
    parts.append("</div><h2>Figures</h2><table>")
    parts += [f"<tr><td>{e(k)}</td><td>{e(v)}</td></tr>" for k, v in figures_table(claim)]
    parts.append("</table>")
    steps = claim["incident"].get("protocol") or []
    if steps:
        parts.append("<h2>Response protocol (from the policy)</h2><ol>")
        parts += [f"<li>{e(s['step'])}"
                  + (f" (after {s['after_s']:g} s)" if s.get("after_s") else "") + "</li>"
                  for s in steps]
        parts.append("</ol>")
    parts.append("<h2>Map</h2>"
                 f"<img alt='map of the track and the boundary' "
                 f"src='data:image/png;base64,{_b64_png(map_png)}'>")
    parts.append("<h2>Distance to the boundary and altitude</h2>"
                 f"<img alt='profile: distance to boundary and altitude over time' "
                 f"src='data:image/png;base64,{_b64_png(profile_png)}'>")
    parts.append("<h2>How the figures were obtained</h2>")
    parts += [f"<p>{e(p)}</p>" for p in _method(claim)]
    parts.append("<h2>How to check this dossier</h2>")
    parts += [f"<p>{e(p)}</p>" for p in _check_text(claim)]
    parts.append(f"<p><code>{e(_verify_command(claim))}</code></p>")
    parts.append("<h2>Chain of custody</h2><table>")
    parts += [f"<tr><td>{e(k)}</td><td><code>{e(v)}</code></td></tr>"
              for k, v in _custody_rows(claim)]
    parts.append("</table><h2>Files</h2><table>")
    parts += [f"<tr><td>{e(n)}</td><td><code>{e(d)}</code></td></tr>" for n, d in files]
    parts.append("</table><p class='sub'>report.html and report.pdf are signed in "
                 "statement.dsse.json like every other file.</p></body></html>\n")
    path.write_text("".join(parts), encoding="utf-8")


# ---------------------------------------------------------------------------- PDF
_A4 = (8.27, 11.69)


class _Pages:
    """Text laid out top-down on A4 pages of a PdfPages file."""

    def __init__(self, pdf: PdfPages, header: str) -> None:
        self.pdf, self.header = pdf, header
        self.fig: Figure | None = None
        self.y = 0.0

    def _new(self) -> None:
        self.flush()
        self.fig = Figure(figsize=_A4)
        self.fig.text(0.08, 0.975, self.header, fontsize=7, color="#666", va="top")
        self.y = 0.95

    def flush(self) -> None:
        if self.fig is not None:
            self.pdf.savefig(self.fig)
            self.fig = None

    def _need(self, h: float) -> Figure:
        if self.fig is None or self.y - h < 0.05:
            self._new()
        assert self.fig is not None
        return self.fig

    def heading(self, text: str, size: float = 13) -> None:
        lines = textwrap.wrap(text, int(900 / size))
        fig = self._need(0.06 * len(lines))
        self.y -= 0.012
        for line in lines:
            fig.text(0.08, self.y, line, fontsize=size, fontweight="bold", va="top")
            self.y -= size / 72 / _A4[1] * 1.5
        self.y -= size / 72 / _A4[1] * 0.3

    def para(self, text: str, size: float = 9.5, width: int = 92, color: str = "black",
             family: str = "serif") -> None:
        lines = textwrap.wrap(text, width) or [""]
        step = size / 72 / _A4[1] * 1.35
        for line in lines:
            fig = self._need(step)
            fig.text(0.08, self.y, line, fontsize=size, va="top", color=color, family=family)
            self.y -= step
        self.y -= step * 0.5

    def rows(self, rows: Sequence[tuple[str, str]], size: float = 8.5) -> None:
        step = size / 72 / _A4[1] * 1.35
        for k, v in rows:
            lines = textwrap.wrap(v, 78) or [""]
            fig = self._need(step * len(lines))
            fig.text(0.08, self.y, k, fontsize=size, va="top", color="#444")
            for line in lines:
                fig.text(0.32, self.y, line, fontsize=size, va="top", family="monospace"
                         if len(v) > 60 and " " not in v[:40] else "serif")
                self.y -= step
            self.y -= step * 0.25


def write_pdf(path: Path, claim: dict[str, Any], facts: TrackFacts, map_fig: Figure,
              profile_fig: Figure, title: str, files: Sequence[tuple[str, str]]) -> None:
    """``report.pdf``: the same content as the HTML, pictures as vector pages."""
    header = f"skyfence evidence dossier {claim['incident']['id']} - all times UTC"
    meta = {"Title": title, "Subject": "airspace incursion evidence dossier",
            "Creator": f"skyfence {claim['software']['skyfence']}"}
    with PdfPages(path, metadata=meta) as pdf:
        pages = _Pages(pdf, header)
        pages.heading(title, 15)
        banner = _banner(claim)
        if banner:
            pages.para(banner, size=11, color="#8a5a00")
        pages.heading("What happened")
        for p in narrative(claim, facts):
            pages.para(p, size=10.5, width=88)
        pages.heading("Figures")
        pages.rows(figures_table(claim))
        steps = claim["incident"].get("protocol") or []
        if steps:
            pages.heading("Response protocol (from the policy)")
            for k, s in enumerate(steps, start=1):
                pages.para(f"{k}. {s['step']}"
                           + (f" (after {s['after_s']:g} s)" if s.get("after_s") else ""))
        pages.flush()
        pdf.savefig(map_fig)
        pdf.savefig(profile_fig)
        pages.heading("How the figures were obtained")
        for p in _method(claim):
            pages.para(p)
        pages.heading("How to check this dossier")
        for p in _check_text(claim):
            pages.para(p)
        pages.para(_verify_command(claim), size=8.5, family="monospace", width=90)
        pages.heading("Chain of custody")
        pages.rows(_custody_rows(claim))
        pages.heading("Files (SHA-256)")
        pages.rows(list(files))
        pages.para("report.html and report.pdf are signed in statement.dsse.json like every "
                   "other file.", size=8.5, color="#555")
        pages.flush()
