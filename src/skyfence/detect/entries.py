"""Entries into zones, found incrementally from batches of observations.

:class:`EntryDetector` keeps, per track, the last fix and the entries still open, so
the same code serves a one-shot scan (one batch, then :meth:`EntryDetector.close`), an
out-of-core scan (many time-ordered chunks) and a live feed (small batches as they
arrive). Work inside a batch is columnar; Python loops run per entry, not per fix.

A batch goes through three parts: :mod:`~skyfence.detect.track_state` joins it with the
carried last fixes and works out the track structure; the screen and
:mod:`~skyfence.detect.crossings` tell which fixes are inside each zone and where
segments cross its boundary; :mod:`~skyfence.detect.zone_pass` turns that into typed
items (first fix inside, crossing, run of inside fixes, end of a track piece) and plays
them, one handler per kind, into :class:`EntryEvent` s.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from skyfence.airspace.boundary import Boundary
from skyfence.airspace.depth_cache import DepthCache
from skyfence.airspace.zones import Zone
from skyfence.detect.crossings import SEAM_NUDGE_DEG, segment_transitions, without_touches
from skyfence.detect.integrity import IntegrityConfig, IntegrityScreen
from skyfence.detect.run_facts import RunFacts
from skyfence.detect.screen import CellScreening, Screen, ScreeningLike, default_screen
from skyfence.detect.track_state import BatchWork, TrackTable
from skyfence.detect.zone_pass import EntryEvent, ZonePass, inside_runs, zone_items
from skyfence.model import REQUIRED_COLUMNS, Entry

__all__ = ["DetectorConfig", "EntryDetector", "EntryEvent"]

log = logging.getLogger(__name__)


@dataclass
class DetectorConfig:
    """How tracks are cut and which events are produced."""

    #: split a track where two consecutive fixes are further apart than this (s)
    gap_s: float = 300.0
    #: keep the inside path of each entry (for GeoJSON output and dossiers)
    keep_path: bool = False
    #: emit ``update`` events when depth or altitude range changes (live use)
    updates: bool = False
    #: emit ``entry`` events as entries open (a live watch alerts on them); a scan that
    #: keeps only the final entries (exits and ``close``) turns them off
    entries: bool = True
    #: limits of plausible fixes (see :mod:`skyfence.detect.integrity`); None: every
    #: fix is screened as it is
    integrity: IntegrityConfig | None = field(default_factory=IntegrityConfig)
    #: where the zones' distance fields are kept between runs (see
    #: :mod:`skyfence.airspace.depth_cache`); None: measured afresh by every detector
    depth_cache_dir: Path | None = None


class EntryDetector:
    """Find entries of tracks into zones, batch after batch.

    Parameters
    ----------
    zones
        The zones to watch.
    config
        Track splitting and event options.

    Examples
    --------
    >>> from skyfence.airspace.zones import circle_zone
    >>> from skyfence.model import make_observations
    >>> det = EntryDetector([circle_zone("X", 0.0, 0.0, 10.0)])
    >>> obs = make_observations(time=[0.0, 60.0], icao24=["abc123"] * 2,
    ...                         lat=[0.0, 0.0], lon=[-0.2, 0.2])
    >>> [e.kind for e in det.process(obs) + det.close()]
    ['entry', 'exit']
    """

    def __init__(
        self,
        zones: Sequence[Zone],
        config: DetectorConfig | None = None,
        *,
        screen: Screen | None = None,
        reference: bool = False,
    ) -> None:
        self.zones = list(zones)
        #: find candidate segments and depth the way the detector first did (STRtree
        #: boxes, stride-sampled depth): the reference the fast path is tested against
        self.reference = reference
        self.config = config or DetectorConfig()
        self.screen = screen if screen is not None else default_screen(self.zones)
        self._boundaries: dict[int, Boundary] = {}
        self._boundary_lock = threading.Lock()  # shared with fresh() copies (threads)
        self._tracks = TrackTable()
        #: implausible fixes: left out of screening, counted, named in the records
        self.integrity = (IntegrityScreen(self.config.integrity)
                          if self.config.integrity is not None else None)
        bounds = np.array([z.geometry.bounds for z in self.zones], dtype=np.float64)
        self._zone_boxes = shapely.STRtree(shapely.box(*bounds.T))
        #: rows dropped because they were older than, or as old as, the track's last fix
        self.dropped_out_of_order = 0
        #: rows left out because they are implausible (by reason: ``integrity.rejected``)
        self.rejected_implausible = 0
        self.positions = 0

    def fresh(self) -> EntryDetector:
        """A detector of the same zones and configuration with no track state, sharing
        this one's screen and boundaries (so a scan cut into partitions builds them once)."""
        det = EntryDetector(self.zones, self.config, screen=self.screen,
                            reference=self.reference)
        det._boundaries = self._boundaries
        det._boundary_lock = self._boundary_lock
        return det

    def boundary(self, zi: int) -> Boundary:
        """The boundary segments of zone ``zi`` (built on first use)."""
        b = self._boundaries.get(zi)
        if b is None:
            with self._boundary_lock:
                b = self._boundaries.get(zi)
                if b is None:
                    b = Boundary(self.zones[zi].geometry)
                    if self.config.depth_cache_dir is not None and not self.reference:
                        DepthCache(self.config.depth_cache_dir).load(
                            self.zones[zi].geometry, b.depth_field)
                    self._boundaries[zi] = b
        return b

    def save_depth_fields(self) -> int:
        """Write the distance fields that measured new cells to the disk cache
        (``config.depth_cache_dir``); how many files were written."""
        if self.config.depth_cache_dir is None:
            return 0
        cache = DepthCache(self.config.depth_cache_dir)
        with self._boundary_lock:
            built = list(self._boundaries.items())
        return cache.save_all((self.zones[zi].geometry, b.depth_field) for zi, b in built
                              if "depth_field" in vars(b))

    @property
    def open_entries(self) -> list[Entry]:
        """Entries currently open, in track order."""
        return [o.entry for d in self._tracks.open.values() for o in d.values()]

    # ------------------------------------------------------------------ batches
    def process(self, batch: pd.DataFrame, rows: np.ndarray | None = None
                ) -> list[EntryEvent]:
        """Consume one batch of observations; return the events it caused, in time order.

        ``rows`` (ascending): only these rows of the batch are this detector's, as when
        detectors share a batch split by track (no copy of it is made); None: all."""
        missing = [c for c in REQUIRED_COLUMNS if c not in batch.columns]
        if missing:
            raise ValueError(f"an observation batch needs the column(s) {', '.join(missing)}"
                             f" (it has: {', '.join(map(str, batch.columns)) or 'none'})")
        if len(batch) == 0 or (rows is not None and len(rows) == 0):
            return []
        w = BatchWork.build(batch, self._tracks, self.config.gap_s, self.integrity, rows)
        self.dropped_out_of_order += w.dropped
        if w.dropped:
            log.debug("dropped %d fixes not newer than their track's last fix", w.dropped)
        self.rejected_implausible += w.rejected
        if w.rejected:
            log.info("left out %d implausible fixes (%s)", w.rejected,
                     ", ".join(f"{k}: {n}" for k, n in sorted(self.integrity.rejected.items()))
                     if self.integrity is not None else "")
        self.positions += w.n_new
        scr = self.screen.screen(w.lon, w.lat)
        seam = np.flatnonzero((np.abs(w.lon) == 180.0) | (np.abs(w.lat) == 90.0))
        if len(seam):
            scr = _screen_seam(self.screen, scr, w.lon, w.lat, seam)
        seg_zone_pairs = self._candidate_pairs(w, scr)
        if len(seam):
            seg_zone_pairs = _with_seam_legs(seg_zone_pairs, w.seg_start, scr.zone, seam,
                                             len(self.zones))
        # inside rows (horizontally) grouped by zone, rows ascending within a zone (a
        # screening has a layer per zone at least: a detector has at least one zone)
        rows_l, zones_l = [], []
        for layer in range(scr.zone.shape[1]):
            col = scr.zone[:, layer]
            r = np.flatnonzero(col >= 0)
            rows_l.append(r)
            zones_l.append(col[r])
        in_rows, in_zone = np.concatenate(rows_l), np.concatenate(zones_l)
        w.inside = np.zeros(len(w.time), bool)
        w.inside[in_rows] = True  # only these make runs: the turn table needs no other
        order = np.lexsort((in_rows, in_zone))
        in_rows, in_zone = in_rows[order], in_zone[order]
        sp_order = np.lexsort((seg_zone_pairs[0], seg_zone_pairs[1]))
        sp_seg, sp_zone = seg_zone_pairs[0][sp_order], seg_zone_pairs[1][sp_order]
        active = set(np.unique(in_zone).tolist()) | set(np.unique(sp_zone).tolist())
        active |= {zi for d in w.carried_open.values() for zi in d}
        events: list[EntryEvent] = []
        for zi in sorted(active):
            a, b = np.searchsorted(in_zone, [zi, zi + 1])
            c, d = np.searchsorted(sp_zone, [zi, zi + 1])
            events.extend(self._zone_events(zi, w, in_rows[a:b], sp_seg[c:d]))
        w.carry(self._tracks)
        events.sort(key=lambda e: e.at)
        return self._with_integrity(events)

    def close(self) -> list[EntryEvent]:
        """End of data: every entry still open is reported once as ``open``."""
        out: list[EntryEvent] = []
        for d in self._tracks.open.values():
            for o in d.values():
                out.append(EntryEvent("open", o.entry, o.entry.last_inside_at))
        self._tracks.open.clear()
        out.sort(key=lambda e: (e.entry.track, e.entry.entered_at, e.entry.zone))
        return self._with_integrity(out)

    def expire(self, now: float, silence_s: float) -> list[EntryEvent]:
        """Forget tracks silent for more than ``silence_s``; their open entries end open."""
        out: list[EntryEvent] = []
        for _, last, opened in self._tracks.expire(now - silence_s):
            out.extend(EntryEvent("exit", o.entry, last) for o in opened.values())
        return self._with_integrity(out)

    def _with_integrity(self, events: list[EntryEvent]) -> list[EntryEvent]:
        """Events whose entries carry their track's integrity reasons so far (one
        lookup per event; only tracks with a rejected fix have any)."""
        if self.integrity is not None and self.integrity.flagged_tracks:
            for e in events:
                x = e.entry
                end = x.exited_at if x.exited_at is not None else x.last_inside_at
                x.integrity = self.integrity.reasons(
                    x.track, end, entered_at=x.entered_at if x.entry_interpolated else None,
                    exited_at=x.exited_at)
        return events

    @property
    def tracked(self) -> int:
        """Number of tracks whose state is kept."""
        return len(self._tracks)

    # ------------------------------------------------------------------ candidates
    def _candidate_pairs(self, w: BatchWork, scr: ScreeningLike) -> np.ndarray:
        """``(2, k)`` (segment start row, zone) pairs whose segment may cross the zone's
        boundary: from the index grid (:meth:`ZoneIndex.segment_zones`), and for the
        segments the grid does not answer (and with ``reference``), from the cells of
        the ends and the zones' bounding boxes."""
        seg = w.seg_start
        grid = None if self.reference else getattr(self.screen, "segment_zones", None)
        if grid is None:
            return self._box_pairs(w, scr, seg)
        # a segment between two fixes of one cell that holds no boundary crosses none
        # (what a screening promises): most segments of a batch, which then never
        # reach the grid's rectangle walk
        cell, edge = scr.cell, scr.boundary
        seg = seg[(cell[seg] != cell[seg + 1]) | (cell[seg] < 0) | edge[seg] | edge[seg + 1]]
        k, zi, unknown = grid(w.lon[seg], w.lat[seg], w.lon_next[seg], w.lat[seg + 1])
        pairs = np.vstack([seg[k], zi])
        if len(unknown):
            pairs = np.hstack([pairs, self._box_pairs(w, scr, seg[unknown])])
        return pairs

    def _box_pairs(self, w: BatchWork, scr: ScreeningLike, seg: np.ndarray) -> np.ndarray:
        """Candidate pairs of the segments ``seg`` as the detector first found them:
        ends in cells that are neither the same nor edge neighbours, or a boundary
        cell, then the zones whose bounding boxes meet the segment's."""
        i0, i1 = seg, seg + 1
        clear_between = getattr(self.screen, "clear_between", None)
        clear = (clear_between(scr.cell[i0], scr.cell[i1]) if clear_between is not None
                 else scr.cell[i0] == scr.cell[i1])
        maybe = seg[~clear | scr.boundary[i0] | scr.boundary[i1]]
        if not len(maybe):
            return np.empty((2, 0), np.intp)
        k, zi = _query_segment_boxes(self._zone_boxes, w.lon[maybe], w.lat[maybe],
                                     w.lon_next[maybe], w.lat[maybe + 1])
        return np.vstack([maybe[k], zi])

    # ------------------------------------------------------------------ one zone
    def _zone_events(
        self, zi: int, w: BatchWork, h_rows: np.ndarray, cand: np.ndarray
    ) -> list[EntryEvent]:
        """Events of zone ``zi``: ``h_rows`` are inside it horizontally, ``cand`` are
        segments that may cross its boundary (see :mod:`skyfence.detect.zone_pass`)."""
        zone = self.zones[zi]
        rows, cand = _inside_rows(zone, w, h_rows, cand)
        tr = without_touches(segment_transitions(
            zone, self.boundary(zi), w.lon, w.lat, w.alt, cand, _among(rows, cand),
            _among(rows, cand + 1), lon_next=w.lon_next,
        ))
        stats = rows[~w.is_carried[rows]]  # inside rows new in this batch
        carried_open = {c: d.pop(zi) for c, d in w.carried_open.items() if zi in d}
        if len(stats) == 0 and len(tr.row) == 0 and not carried_open:
            return []
        starts, run_first, run_last = inside_runs(stats, w, tr)
        depth = np.zeros(len(w.lon))  # each run's deepest value, stored at its first row
        facts = None
        if len(stats):
            b = self.boundary(zi)
            deepest = b.max_distance_m if self.reference else b.deepest_m
            depth[run_first] = deepest(w.lon[stats], w.lat[stats], starts)
            facts = None if self.reference else RunFacts(w, stats, starts)
        items = zone_items(w, rows, stats, tr, (run_first, run_last), carried_open)
        events = ZonePass(zone, w, depth, carried_open, keep_path=self.config.keep_path,
                          updates=self.config.updates, entries=self.config.entries,
                          run_facts=facts).play(items)
        # entries still open go back to their tracks' carried state
        for c, o in carried_open.items():
            w.pending_open.setdefault(c, {})[zi] = o
        return events


def _inside_rows(
    zone: Zone, w: BatchWork, h_rows: np.ndarray, cand: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The rows inside ``zone`` (between its floor and ceiling too) and the segments to
    test for transitions: ``cand``, plus, under altitude limits, every segment with a
    horizontally inside end (it may climb or descend through a limit)."""
    if zone.has_altitude_limits and len(h_rows):
        rows = h_rows[zone.altitude_ok(w.alt[h_rows])]
        return rows, np.union1d(cand, w.seg_ok_from(h_rows))
    return h_rows, np.unique(cand)


def _among(rows: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Whether each of ``r`` is one of the ascending ``rows``."""
    if len(rows) == 0:
        return np.zeros(len(r), bool)
    pos = np.minimum(np.searchsorted(rows, r), len(rows) - 1)
    return np.asarray(rows[pos] == r)


def _query_segment_boxes(
    tree: shapely.STRtree, x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(segment, zone) pairs whose bounding boxes meet; ``x1`` may be unwrapped beyond
    ±180: the part of such a box beyond the antimeridian is asked on the other side."""
    lo, hi = np.minimum(x0, x1), np.maximum(x0, x1)
    ylo, yhi = np.minimum(y0, y1), np.maximum(y0, y1)
    segs, zones = [], []
    for shift, part in ((0.0, np.arange(len(x0))), (-360.0, np.flatnonzero(hi > 180.0)),
                        (360.0, np.flatnonzero(lo < -180.0))):
        if len(part):
            a = np.maximum(lo[part] + shift, -180.0)
            b = np.minimum(hi[part] + shift, 180.0)
            k, z = tree.query(shapely.box(a, ylo[part], b, yhi[part]))
            segs.append(part[k])
            zones.append(z)
    seg, zone = np.concatenate(segs), np.concatenate(zones)
    if len(seg) == 0:
        return seg.astype(np.intp), zone.astype(np.intp)
    return _unique_pairs(seg, zone, int(zone.max()) + 1)


def _with_seam_legs(pairs: np.ndarray, seg_start: np.ndarray, zone: np.ndarray,
                    seam: np.ndarray, n_zones: int) -> np.ndarray:
    """``pairs`` (``(2, k)`` segment start row, zone) with the leg that leaves each fix on
    ±180 or a pole added for every zone that holds the fix, each pair once.

    Such a fix is inside a zone that holds it on either side of the seam
    (:func:`_screen_seam`), but a leg's line lies on one side only: a track inside a zone
    east of the antimeridian that reaches 180.0 (written so, not -180.0) and goes on west
    leaves the zone at that fix, though the leg 180.0 -> 179.5 never meets the zone's
    box. Its two ends differ, so the leg must be examined; the boxes alone never name it.
    (The leg that arrives at such a fix needs no pair: an entry there begins at the fix,
    the first of its inside run.)
    """
    legs = seam[_among(seg_start, seam)]  # a seam fix that starts a leg
    k, layer = np.nonzero(zone[legs] >= 0)
    if not len(k):
        return pairs
    seg, zi = _unique_pairs(np.concatenate([pairs[0], legs[k]]),
                            np.concatenate([pairs[1], zone[legs[k], layer]]), n_zones)
    return np.vstack([seg, zi])


def _unique_pairs(seg: np.ndarray, zone: np.ndarray, n_zones: int
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(segment, zone) pairs each once, ordered by segment then zone (``zone`` <
    ``n_zones``)."""
    key = np.unique(seg.astype(np.int64) * n_zones + zone)
    return (key // n_zones).astype(np.intp), (key % n_zones).astype(np.intp)


def _screen_seam(
    screen: Screen, scr: ScreeningLike, lon: np.ndarray, lat: np.ndarray, rows: np.ndarray
) -> CellScreening:
    """The screening with positions exactly on ±180 or a pole asked just off the seam on
    both sides: such a position is in a zone that holds it on either side."""
    y = np.clip(lat[rows], -90.0 + 1e-9, 90.0 - 1e-9)
    x = lon[rows]
    east = screen.screen(np.where(np.abs(x) == 180.0, -180.0 + SEAM_NUDGE_DEG, x), y).zone
    west = screen.screen(np.where(np.abs(x) == 180.0, 180.0 - SEAM_NUDGE_DEG, x), y).zone
    zone = np.array(scr.zone, copy=True)
    zone[rows] = np.where(east >= 0, east, west)
    boundary = np.array(scr.boundary, copy=True)
    boundary[rows] = True
    return CellScreening(zone, np.asarray(scr.cell), boundary)
