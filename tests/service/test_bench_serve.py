"""The data and the client-side timing of ``skyfence bench serve`` (the run itself takes
a minute and 200 connections: it is a benchmark, not a test).

The benchmark's claim is that 40 aircraft enter its 15 km circle one after the other
while the other 960 stay out, so that the stream carries incident events all through the
measured window. Checked here with pyproj's geodesic distances (WGS84), not with
skyfence's own zone code.
"""

from __future__ import annotations

import numpy as np
from pyproj import Geod

from skyfence.benchmarks import serve as bench
from skyfence.benchmarks.serve_clients import _Client
from skyfence.service.hub import Hub

ZONE_LAT, ZONE_LON, RADIUS_KM = 59.4, 24.0, 15.0


def test_the_intruders_enter_one_after_the_other_and_the_others_stay_out() -> None:
    t, ids, lat, lon, _ = bench.traffic()
    assert len(t) == bench.AIRCRAFT * bench.RATE_HZ * bench.TRAFFIC_S  # 5,000 a second
    _, _, dist_m = Geod(ellps="WGS84").inv(np.full(len(lat), ZONE_LON),
                                           np.full(len(lat), ZONE_LAT), lon, lat)
    inside = dist_m < RADIUS_KM * 1000.0
    intruders = sorted({i for i in ids if i.startswith("15")})
    assert len(intruders) == bench.INTRUDERS
    # ICAO Annex 10: 100000-1FFFFF is Russia's block (the config watches RUS)
    assert all(0x100000 <= int(i, 16) <= 0x1FFFFF for i in intruders)
    assert not inside[~np.isin(ids, intruders)].any()
    entries = []
    for icao in intruders:
        mine = ids == icao
        assert not inside[mine][0]  # starts outside
        assert inside[mine].any()  # and gets in
        entries.append(t[mine][np.argmax(inside[mine])])
    # entries spread over the traffic (not one burst): at least 10 distinct seconds, the
    # first within the first 5 s of traffic and the last after 10 s
    assert len(np.unique(np.floor(entries))) >= 10
    assert min(entries) < bench.LEAD_S + 5.0 and max(entries) > bench.LEAD_S + 10.0


def test_a_client_times_each_message_from_its_stamp() -> None:
    hub = Hub()
    msg = hub.message("incident", {"id": "abc123", "event": "entry"})
    import json

    sent_at = json.loads(msg.data)["sent_at"]
    c = _Client()
    block = msg.frame.rstrip(b"\n")  # the client splits the stream on blank lines
    c.feed(block, sent_at + 0.125)
    assert c.messages == 1
    assert list(c.samples) == ["incident"]
    assert abs(c.samples["incident"][0] - 125.0) < 1e-3
    c.feed(b": keep-alive", sent_at + 1.0)  # a comment is no message
    assert c.messages == 1
