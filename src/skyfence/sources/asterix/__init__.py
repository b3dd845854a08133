"""EUROCONTROL ASTERIX radar data: CAT048 plots and CAT062 system tracks.

Reads raw ASTERIX files (concatenated data blocks), pcap / pcapng captures of UDP
datagrams, and live UDP. CAT048 monoradar target reports become a *plot batch*
(:data:`~skyfence.model.PLOT_COLUMNS`: WGS84 positions converted from the radar's polar
measurements, with their noise) for the tracker; CAT062 system tracks are already
tracks and become an observation batch directly.

One module per job: :mod:`.capture` (UDP payloads of pcap / pcapng), :mod:`.blocks`
(data block framing), :mod:`.records` (CAT048 / CAT062 items, checked), :mod:`.convert`
(times, polar to WGS84, batches), :mod:`.read` (files and bytes) and :mod:`.udp` (live).
Writing CAT048 (scenarios and tests make radar input) is :mod:`skyfence.asterix_writer`.

Codec choice, by measurement (``benchmarks/asterix_codecs.py``, same bytes, same
fields extracted, best of three, 2-core AMD EPYC): ``asterix-decoder`` (C++ core)
decodes CAT048 at 33 700 records/s and CAT062 at 10 700, ``libasterix`` at 3 200 and
1 450. ``asterix-decoder`` also ships real sample recordings, so it is the decoder here.
``libasterix`` is typed and can encode, but it is pure Python and installs the same
module name, so both cannot be dependencies; the few CAT048 items scenarios emit are
encoded by hand and checked by decoding them back with ``asterix-decoder``.
"""

from skyfence.model import PLOT_COLUMNS, empty_plots
from skyfence.radar import RadarSite
from skyfence.sources.asterix.capture import iter_payloads
from skyfence.sources.asterix.read import AsterixData, decode_asterix, read_asterix
from skyfence.sources.asterix.udp import listen_udp

__all__ = [
    "PLOT_COLUMNS",
    "AsterixData",
    "RadarSite",
    "decode_asterix",
    "empty_plots",
    "iter_payloads",
    "listen_udp",
    "read_asterix",
]
