"""Radar plots to tracks: filters, association, initiation, deletion, the tracker.

Start with :func:`track_plots` (batch) or :class:`Tracker` (streaming); plots come from
:mod:`skyfence.sources.asterix` or :func:`skyfence.tracking.simulate.simulate_plots`.
"""

from skyfence.tracking.tracker import TRACK_STATE_COLUMNS, Tracker, track_plots

__all__ = ["TRACK_STATE_COLUMNS", "Tracker", "track_plots"]
