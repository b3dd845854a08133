"""The two pictures of a dossier, drawn with matplotlib (no network, no tiles).

- **map**: the track in a local azimuthal equidistant projection centred on the entry
  (distances from the centre are true, north is up at the centre), red inside the zone
  and blue outside, the zone boundary, entry and exit points with UTC times, the
  deepest fix with its distance to the boundary, minute marks along the track, a scale
  bar, a north arrow and a longitude/latitude graticule. National airspace areas (land,
  internal waters and territorial sea, from the bundled OpenStreetMap boundaries) are
  the background, labelled with their ISO codes.
- **profile**: signed distance to the boundary (positive inside) and altitude over
  UTC time, with the inside interval shaded and entry, exit and deepest fix marked.
  Heights that scatter (a 3D radar's) are drawn as faint dots under the line of
  :func:`skyfence.evidence.altitude.altitude_profile`, the same line the operators'
  screen draws; a transponder's heights are drawn as reported.

Both are returned as figures so that the PNG files and the PDF report draw the same.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import shapely
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.patches import PathPatch, Rectangle
from matplotlib.path import Path as MplPath
from pyproj import Transformer
from shapely.ops import nearest_points

from skyfence.airspace.antimeridian import lon_delta
from skyfence.airspace.prepared import intersects
from skyfence.airspace.zones import Zone
from skyfence.evidence.altitude import WINDOW_S, altitude_profile
from skyfence.evidence.timefmt import clock, parse_iso
from skyfence.evidence.trackfacts import TrackFacts
from skyfence.vocab import FT

__all__ = ["draw_map", "draw_profile"]

INSIDE = "#c62828"
OUTSIDE = "#1f5fa8"
BOUNDARY = "#4a148c"
LAND = "#efe9dc"
SEA = "#dcebf5"
DPI = 110


class _Projection:
    """Local azimuthal equidistant projection around (lat0, lon0), in km."""

    def __init__(self, lat0: float, lon0: float) -> None:
        self.lat0, self.lon0 = lat0, lon0
        crs = f"+proj=aeqd +lat_0={lat0} +lon_0={lon0} +datum=WGS84 +units=m +no_defs"
        self._fwd = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
        self._inv = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)

    def xy(self, lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
        x, y = self._fwd.transform(np.asarray(lon, float), np.asarray(lat, float))
        return np.asarray(x) / 1000.0, np.asarray(y) / 1000.0

    def lonlat(self, x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        lon, lat = self._inv.transform(np.asarray(x, float) * 1000.0,
                                       np.asarray(y, float) * 1000.0)
        return np.asarray(lon), np.asarray(lat)

    def geometry(self, geom: shapely.Geometry) -> shapely.Geometry:
        return shapely.transform(geom, lambda c: np.column_stack(self.xy(c[:, 0], c[:, 1])))


def _nice(value: float) -> float:
    """The largest 1, 2 or 5 x 10^k not above ``value``."""
    k = 10 ** math.floor(math.log10(value))
    return max(m * k for m in (1, 2, 5) if m * k <= value)


def _extent(x: np.ndarray, y: np.ndarray, aspect: float) -> tuple[float, float, float, float]:
    x0, x1, y0, y1 = float(x.min()), float(x.max()), float(y.min()), float(y.max())
    w, h = max(x1 - x0, 4.0), max(y1 - y0, 4.0)
    w, h = w * 1.16, h * 1.16
    if w / h < aspect:
        w = h * aspect
    else:
        h = w / aspect
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return cx - w / 2, cx + w / 2, cy - h / 2, cy + h / 2


def _lonlat_box(proj: _Projection, ext: tuple[float, float, float, float]
                ) -> tuple[float, float, float, float]:
    """Lon/lat bounds of the map frame, longitudes unwrapped around the centre."""
    x0, x1, y0, y1 = ext
    s = np.linspace(0, 1, 41)
    xs = np.concatenate([x0 + (x1 - x0) * s, np.full(41, x1), x1 - (x1 - x0) * s, np.full(41, x0)])
    ys = np.concatenate([np.full(41, y0), y0 + (y1 - y0) * s, np.full(41, y1), y1 - (y1 - y0) * s])
    lon, lat = proj.lonlat(xs, ys)
    lon = proj.lon0 + lon_delta(proj.lon0, lon)
    return float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())


def _clip(geom: shapely.Geometry, box: tuple[float, float, float, float]) -> shapely.Geometry:
    """``geom`` within the box, whose longitudes may run past ±180."""
    parts = []
    for shift in (-360.0, 0.0, 360.0):
        b = shapely.box(box[0] + shift, box[1], box[2] + shift, box[3])
        if intersects(geom, b):
            parts.append(shapely.intersection(geom, b))
    return shapely.union_all(parts) if parts else shapely.Polygon()


def _patch(geom: shapely.Geometry, **kw: Any) -> PathPatch | None:
    polys = [g for g in shapely.get_parts(geom) if g.geom_type == "Polygon" and not g.is_empty]
    if not polys:
        return None
    verts, codes = [], []
    for poly in polys:
        for ring in [poly.exterior, *poly.interiors]:
            c = np.asarray(ring.coords)
            if len(c) < 3:
                continue
            verts.append(c)
            codes.append([MplPath.MOVETO] + [MplPath.LINETO] * (len(c) - 2) + [MplPath.CLOSEPOLY])
    if not verts:
        return None
    return PathPatch(MplPath(np.concatenate(verts), np.concatenate(codes)), **kw)


def _background(ax: Any, proj: _Projection, box: tuple[float, float, float, float],
                zone: Zone, track_xy: tuple[np.ndarray, np.ndarray]) -> None:
    from skyfence.airspace.national import national_zones

    ax.set_facecolor(SEA)
    for code, state in national_zones().items():
        _, gy0, _, gy1 = state.bounds
        if gy1 < box[1] or gy0 > box[3]:
            continue
        clipped = _clip(state.geometry, box)
        if clipped.is_empty:
            continue
        shown = proj.geometry(clipped)
        p = _patch(shown, facecolor=LAND, edgecolor="#9a9080", linewidth=0.6, zorder=1)
        if p is None:
            continue
        ax.add_patch(p)
        pt = shown.representative_point()
        (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
        clear = 0.06 * math.hypot(x1 - x0, y1 - y0)
        near_track = bool(np.any(np.hypot(track_xy[0] - pt.x, track_xy[1] - pt.y) < clear))
        if shown.area > 0.02 * _frame_area(ax) and code != zone.name and not near_track:
            ax.text(pt.x, pt.y, code, color="#6d6556", fontsize=10, ha="center",
                    va="center", zorder=2, alpha=0.9)


def _frame_area(ax: Any) -> float:
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    return float((x1 - x0) * (y1 - y0))


def _graticule(ax: Any, proj: _Projection, ext: tuple[float, float, float, float],
               box: tuple[float, float, float, float]) -> None:
    lon_span, lat_span = box[2] - box[0], box[3] - box[1]
    steps = (0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0)
    dlon = next((s for s in steps if lon_span / s <= 6), 10.0)
    dlat = next((s for s in steps if lat_span / s <= 6), 10.0)
    x0, x1, y0, y1 = ext
    xticks, xlabels, yticks, ylabels = [], [], [], []
    lat_s = np.linspace(box[1] - lat_span, box[3] + lat_span, 200)
    for lon in np.arange(math.ceil(box[0] / dlon) * dlon, box[2], dlon):
        x, y = proj.xy(np.full(200, lon), lat_s)
        ax.plot(x, y, color="#7a8a99", lw=0.4, alpha=0.6, zorder=1.5)
        if y.min() <= y0 <= y.max():
            order = np.argsort(y)
            xb = float(np.interp(y0, y[order], x[order]))
            if x0 < xb < x1:
                xticks.append(xb)
                w = (lon + 180) % 360 - 180
                xlabels.append(f"{abs(w):.{_decimals(dlon)}f}°{'E' if w >= 0 else 'W'}")
    lon_s = np.linspace(box[0] - lon_span, box[2] + lon_span, 200)
    for lat in np.arange(math.ceil(box[1] / dlat) * dlat, box[3], dlat):
        x, y = proj.xy(lon_s, np.full(200, lat))
        ax.plot(x, y, color="#7a8a99", lw=0.4, alpha=0.6, zorder=1.5)
        if x.min() <= x0 <= x.max():
            order = np.argsort(x)
            yb = float(np.interp(x0, x[order], y[order]))
            if y0 < yb < y1:
                yticks.append(yb)
                ylabels.append(f"{abs(lat):.{_decimals(dlat)}f}°{'N' if lat >= 0 else 'S'}")
    ax.set_xticks(xticks, xlabels, fontsize=8)
    ax.set_yticks(yticks, ylabels, fontsize=8)


def _decimals(step: float) -> int:
    return max(0, -math.floor(math.log10(step) + 1e-9)) + (1 if step in (0.25, 0.05) else 0)


def _scale_bar(ax: Any, ext: tuple[float, float, float, float]) -> None:
    x0, x1, y0, y1 = ext
    length = _nice((x1 - x0) / 4)
    bx, by, h = x0 + 0.04 * (x1 - x0), y0 + 0.05 * (y1 - y0), 0.012 * (y1 - y0)
    ax.add_patch(Rectangle((bx - 0.015 * (x1 - x0), by - 0.035 * (y1 - y0)),
                           length + 0.03 * (x1 - x0), 0.09 * (y1 - y0), facecolor="white",
                           alpha=0.85, edgecolor="#555", lw=0.5, zorder=8))
    for i in range(4):
        ax.add_patch(Rectangle((bx + i * length / 4, by), length / 4, h,
                               facecolor="black" if i % 2 == 0 else "white",
                               edgecolor="black", lw=0.6, zorder=9))
    unit_len = f"{length:g} km" if length >= 1 else f"{length * 1000:g} m"
    ax.text(bx, by + 2.2 * h, "0", ha="center", fontsize=8, zorder=9)
    ax.text(bx + length, by + 2.2 * h, unit_len, ha="center", fontsize=8, zorder=9)
    ax.text(bx + length / 2, by - 1.6 * h, "scale true at the map centre", ha="center",
            va="top", fontsize=6.5, color="#333", zorder=9)


def _north_arrow(ax: Any) -> None:
    ax.annotate("", xy=(0.955, 0.95), xytext=(0.955, 0.83), xycoords="axes fraction",
                arrowprops={"arrowstyle": "-|>,head_width=0.5,head_length=0.9", "lw": 2,
                            "color": "black"}, zorder=10)
    ax.text(0.955, 0.79, "N", transform=ax.transAxes, ha="center", va="top",
            fontsize=13, fontweight="bold", zorder=10)


def _track(ax: Any, proj: _Projection, f: TrackFacts) -> tuple[np.ndarray, np.ndarray]:
    x, y = proj.xy(f.lon, f.lat)
    segs, colours = [], []
    for i in range(len(x) - 1):
        a, b = (x[i], y[i]), (x[i + 1], y[i + 1])
        fr = f.crossing_fraction[i]
        if f.inside[i] != f.inside[i + 1] and np.isfinite(fr):
            m = (a[0] + fr * (b[0] - a[0]), a[1] + fr * (b[1] - a[1]))
            segs += [[a, m], [m, b]]
            colours += [INSIDE if f.inside[i] else OUTSIDE, INSIDE if f.inside[i + 1] else OUTSIDE]
        else:
            segs.append([a, b])
            colours.append(INSIDE if f.inside[i] and f.inside[i + 1] else OUTSIDE)
    ax.add_collection(LineCollection(segs, colors=colours, linewidths=2.2, zorder=5,
                                     capstyle="round"))
    ax.scatter(x, y, s=4, c=np.where(f.inside, INSIDE, OUTSIDE), zorder=5.5, linewidths=0)
    return x, y


def _minute_marks(ax: Any, x: np.ndarray, y: np.ndarray, t: np.ndarray,
                  visible_t: np.ndarray) -> None:
    """Time marks along the track: about 4-12 within the frame, HH:MM (HH:MM:SS when
    they are less than a minute apart)."""
    span = float(visible_t.max() - visible_t.min()) if len(visible_t) else 0.0
    step = next(s for s in (10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 86400)
                if span / s <= 12)
    for m in np.arange(math.ceil(t[0] / step) * step, t[-1], step):
        xm, ym = float(np.interp(m, t, x)), float(np.interp(m, t, y))
        ax.plot(xm, ym, marker="o", ms=4, mfc="white", mec="#222", mew=0.8, zorder=6)
        ax.annotate(clock(m, ms=False)[:5 if step >= 60 else 8], (xm, ym), xytext=(4, -9),
                    textcoords="offset points", fontsize=7, color="#222", zorder=6,
                    annotation_clip=True,
                    bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none",
                          "alpha": 0.7})


def draw_map(f: TrackFacts, zone: Zone, record: Mapping[str, Any], title: str) -> Figure:
    """The map of one entry (see the module docstring)."""
    sel = f.in_entry if f.in_entry.any() else np.ones(len(f.time), bool)
    lon_c = float(f.lon[sel][0] + lon_delta(f.lon[sel][0], f.lon[sel][-1]) / 2)
    lat_c = float((f.lat[sel].min() + f.lat[sel].max()) / 2)
    proj = _Projection(lat_c, lon_c)
    fig = plt.figure(figsize=(10, 8.0), dpi=DPI)
    ax = fig.add_axes((0.08, 0.09, 0.89, 0.84))
    x, y = proj.xy(f.lon, f.lat)
    # frame the entry: the inside fixes, the crossings and a small custom zone, doubled
    fx, fy = list(x[sel]), list(y[sel])
    for key in ("entry_point", "exit_point"):
        pt = record.get(key)
        if pt:
            px, py = proj.xy(pt["lon"], pt["lat"])
            fx.append(float(px))
            fy.append(float(py))
    span = max(np.ptp(fx), np.ptp(fy), 2.0)
    if zone.kind == "custom":
        bx0, by0, bx1, by1 = proj.geometry(zone.geometry).bounds
        if max(bx1 - bx0, by1 - by0) < 4 * span:
            fx += [bx0, bx1]
            fy += [by0, by1]
    cx, cy = (min(fx) + max(fx)) / 2, (min(fy) + max(fy)) / 2
    half_x, half_y = (max(fx) - min(fx)) * 0.8 + 1.5, (max(fy) - min(fy)) * 0.8 + 1.5
    ext = _extent(np.array([cx - half_x, cx + half_x]), np.array([cy - half_y, cy + half_y]),
                  aspect=0.89 * 10 / (0.84 * 8.0))
    ax.set_xlim(ext[0], ext[1])
    ax.set_ylim(ext[2], ext[3])
    ax.set_aspect("equal")
    box = _lonlat_box(proj, ext)
    _background(ax, proj, box, zone, (x, y))
    zone_shown = proj.geometry(_clip(zone.geometry, box))
    p = _patch(zone_shown, facecolor=INSIDE, alpha=0.08, edgecolor="none", zorder=2)
    if p is not None:
        ax.add_patch(p)
    for line in shapely.get_parts(proj.geometry(_clip(zone.boundary, box))):
        if line.geom_type == "LineString" and not line.is_empty:
            c = np.asarray(line.coords)
            ax.plot(c[:, 0], c[:, 1], color=BOUNDARY, lw=1.5, ls=(0, (6, 2)), zorder=3)
    _graticule(ax, proj, ext, box)
    tx, ty = _track(ax, proj, f)
    shown = (tx >= ext[0]) & (tx <= ext[1]) & (ty >= ext[2]) & (ty <= ext[3])
    _minute_marks(ax, tx, ty, f.time, f.time[shown] if shown.any() else f.time)
    _scale_bar(ax, ext)
    _north_arrow(ax)
    ax.set_title(title, fontsize=12, loc="left", pad=8)
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], color=INSIDE, lw=2.2, label=f"track inside {zone.name}"),
        Line2D([], [], color=OUTSIDE, lw=2.2, label="track outside"),
        Line2D([], [], color=BOUNDARY, lw=1.5, ls=(0, (6, 2)), label=f"{zone.name} boundary"),
        Line2D([], [], ls="", marker="D", mfc="white", mec=BOUNDARY, mew=2,
               label="entry / exit point"),
        Line2D([], [], ls="", marker="o", mfc="white", mec="#222", label="time marks (UTC)"),
        Line2D([], [], ls="", marker="*", ms=12, mfc="gold", mec="black",
               label="deepest fix"),
    ]
    legend = ax.legend(handles=handles, loc="upper left", fontsize=8, framealpha=0.95)
    legend.set_zorder(20)
    _points(ax, proj, f, zone, record, _Labels(ax, [legend]))
    src = ("background: national airspace (land + territorial sea), © OpenStreetMap "
           "contributors (ODbL); azimuthal equidistant projection centred at "
           f"{abs(lat_c):.3f}°{'N' if lat_c >= 0 else 'S'} "
           f"{abs(lon_c):.3f}°{'E' if lon_c >= 0 else 'W'}; all times UTC")
    fig.text(0.08, 0.02, src, fontsize=7, color="#444")
    return fig


class _Labels:
    """Places callout labels at the first candidate offset that overlaps no label placed
    before, no map furniture and stays inside the frame."""

    OFFSETS = ((22, 26), (22, -40), (-170, 26), (-170, -40), (30, 60), (30, -75),
               (-190, 60), (-190, -75), (60, 0), (-220, 0))

    def __init__(self, ax: Any, avoid: list[Any]) -> None:
        self.ax = ax
        self.renderer = ax.figure.canvas.get_renderer()
        self.taken = [a.get_window_extent(self.renderer) for a in avoid]
        self.frame = ax.get_window_extent(self.renderer)

    def add(self, text: str, xy: tuple[float, float], offsets: Any = None) -> None:
        box = {"boxstyle": "round,pad=0.25", "fc": "white", "ec": "#444", "alpha": 0.92}
        ann = None
        for off in offsets or self.OFFSETS:
            if ann is not None:
                ann.remove()
            ann = self.ax.annotate(text, xy, xytext=off, textcoords="offset points",
                                   fontsize=8.5, zorder=11, bbox=box,
                                   arrowprops={"arrowstyle": "-", "color": "#444", "lw": 0.8})
            bb = ann.get_window_extent(self.renderer).expanded(1.05, 1.15)
            inside = (bb.x0 >= self.frame.x0 and bb.x1 <= self.frame.x1
                      and bb.y0 >= self.frame.y0 and bb.y1 <= self.frame.y1)
            if inside and not any(bb.overlaps(t) for t in self.taken):
                break
        if ann is not None:
            self.taken.append(ann.get_window_extent(self.renderer))


def _points(ax: Any, proj: _Projection, f: TrackFacts, zone: Zone,
            record: Mapping[str, Any], labels: _Labels) -> None:
    marks = []
    for key, when, name in (("entry_point", record["entered_at"], "entry"),
                            ("exit_point", record["exited_at"], "exit")):
        pt = record.get(key)
        if not pt or when is None:
            continue
        ex, ey = proj.xy(pt["lon"], pt["lat"])
        ax.plot(ex, ey, marker="D", ms=8, mfc="white", mec=BOUNDARY, mew=2, zorder=7)
        marks.append((f"{name} {clock(parse_iso(when))} UTC", (float(ex), float(ey))))
    if f.deepest is not None:
        i = f.deepest
        px, py = proj.xy(f.lon[i], f.lat[i])
        dx, dy = float(px), float(py)
        near = nearest_points(proj.geometry(_clip(zone.boundary, _lonlat_box(
            proj, (dx - 400, dx + 400, dy - 400, dy + 400)))), shapely.Point(dx, dy))[0]
        if not near.is_empty:
            ax.plot([dx, near.x], [dy, near.y], color="black", lw=1, ls=":", zorder=6)
        ax.plot(dx, dy, marker="*", ms=16, mfc="gold", mec="black", zorder=8)
        marks.append((f"deepest fix {f.signed_distance_m[i] / 1000:.2f} km inside\n"
                      f"at {clock(f.time[i])} UTC", (dx, dy)))
    for text, xy in marks:
        labels.add(text, xy)


def draw_profile(f: TrackFacts, record: Mapping[str, Any], title: str) -> Figure:
    """Signed distance to the boundary and altitude over time (see the module docstring)."""
    fig, (a1, a2) = plt.subplots(2, 1, figsize=(10, 6.6), dpi=DPI, sharex=True,
                                 gridspec_kw={"height_ratios": [3, 2], "hspace": 0.08})
    fig.subplots_adjust(left=0.1, right=0.91, top=0.9, bottom=0.1)
    when = np.array(f.time * 1000, dtype="datetime64[ms]")
    d_km = f.signed_distance_m / 1000
    a1.plot(when, d_km, color="#333", lw=1.2, zorder=3)
    a1.scatter(when, d_km, s=6, c=np.where(f.inside, INSIDE, OUTSIDE), zorder=4, linewidths=0)
    a1.fill_between(when, 0, d_km, where=d_km > 0, color=INSIDE, alpha=0.18, interpolate=True,
                    label="inside the zone")
    a1.fill_between(when, 0, d_km, where=d_km <= 0, color=OUTSIDE, alpha=0.12,
                    interpolate=True, label="outside")
    a1.axhline(0, color=BOUNDARY, lw=1.4)
    a1.text(0.005, 0.0, " boundary", color=BOUNDARY, fontsize=8, va="bottom",
            transform=a1.get_yaxis_transform())
    a1.set_ylabel("distance to boundary (km)\n+ inside, − outside", fontsize=9)
    a1.grid(alpha=0.3)
    alt = f.altitude_m
    if np.isfinite(alt).any():
        line = altitude_profile(f.time, alt)
        colours = np.where(f.inside, INSIDE, OUTSIDE)
        if line.smoothed:  # scattered heights (3D radar): faint dots, the smoothed line
            a2.scatter(when, alt, s=5, c=colours, alpha=0.3, linewidths=0, zorder=3,
                       label=f"reported heights (scatter ±{line.scatter_m:.0f} m)")
            a2.plot(when, line.altitude_m, color="#222", lw=1.8, zorder=4,
                    label=f"smoothed (running median and mean over {WINDOW_S:.0f} s)")
            a2.legend(loc="lower left", fontsize=7.5, framealpha=0.9)
        else:
            a2.plot(when, alt, color="#444", lw=1.2)
            a2.scatter(when, alt, s=6, c=colours, linewidths=0, zorder=4)
        a2.set_ylabel("altitude (m)", fontsize=9)
        sec = a2.secondary_yaxis("right", functions=(lambda m: m / FT,
                                                     lambda ft: ft * FT))
        sec.set_ylabel("ft", fontsize=9)
    else:
        a2.text(0.5, 0.5, "no altitude reported for this track", ha="center", va="center",
                transform=a2.transAxes, fontsize=10, color="#555")
        a2.set_yticks([])
    a2.grid(alpha=0.3)
    t_in, t_out = parse_iso(record["entered_at"]), record["exited_at"]
    for ax in (a1, a2):
        end = parse_iso(t_out) if t_out else parse_iso(record["last_inside_at"])
        ax.axvspan(np.datetime64(round(t_in * 1000), "ms"), np.datetime64(round(end * 1000), "ms"),
                   color=INSIDE, alpha=0.06, zorder=0)
        for t, style in ((t_in, "-"), (parse_iso(t_out) if t_out else None, "--")):
            if t is not None:
                ax.axvline(np.datetime64(round(t * 1000), "ms"), color=BOUNDARY, lw=1, ls=style)
    depth_km = max(float(np.nanmax(d_km)), 0.05) if len(d_km) else 1.0
    lowest = float(np.nanmin(d_km)) if len(d_km) else -1.0
    floor = max(lowest, -3.0 * depth_km) - 0.08 * depth_km
    a1.set_ylim(floor, 1.45 * depth_km)
    cut_note = (f"axis cut at {floor:.1f} km; lowest {lowest:.1f} km" if lowest < floor
                else None)
    ymax = a1.get_ylim()[1]
    a1.annotate(f"entry {clock(t_in)}", (np.datetime64(round(t_in * 1000), "ms"), ymax),
                xytext=(-3, -12), textcoords="offset points", fontsize=8.5, color=BOUNDARY,
                ha="right")
    if t_out:
        a1.annotate(f"exit {clock(parse_iso(t_out))}",
                    (np.datetime64(round(parse_iso(t_out) * 1000), "ms"), ymax),
                    xytext=(3, -12), textcoords="offset points", fontsize=8.5,
                    color=BOUNDARY)
    if f.deepest is not None:
        i = f.deepest
        a1.plot(when[i], d_km[i], marker="*", ms=15, mfc="gold", mec="black", zorder=5)
        a1.annotate(f"deepest {d_km[i]:.2f} km at {clock(f.time[i])}", (when[i], d_km[i]),
                    xytext=(16, 0.95), textcoords=("offset points", "axes fraction"),
                    fontsize=8.5, va="top",
                    arrowprops={"arrowstyle": "-", "color": "#444", "lw": 0.8},
                    bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "#444",
                          "alpha": 0.9})
    a1.legend(loc="lower left", fontsize=8, framealpha=0.9, title=cut_note,
              title_fontsize=7.5)
    a2.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M"))
    a2.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=5, maxticks=12))
    day = np.datetime_as_string(when[0], unit="D") if len(when) else ""
    a2.set_xlabel(f"time (UTC) on {day}", fontsize=9)
    fig.suptitle(title, fontsize=12, x=0.1, ha="left")
    return fig
