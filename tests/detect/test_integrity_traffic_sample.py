"""``traffic``'s GNSS-spoofing sample (issue 16, part 2): a real flight whose positions
jump 261 km into Ukraine and, 34 minutes later, 563 km out of it.

``traffic/data/samples/noisy/noisy_spoofing.json.gz`` (MIT licence) holds one flight of
``4baac6`` (a Turkish address, 4B8000-4BFFFF) from Istanbul towards Sweden, one
position a second. Its positions jump from Romania (47.44 N, 22.92 E) to near Lviv
(49.67 N, 23.98 E) in one second and, later, from there to northern Poland (53.58 N,
18.68 E): a navigation source spoofed, then recovered. With Turkish aircraft watched
(``--watch-state TUR``) the Ukrainian "entry" would be a violation on these data alone;
it must be called out instead, its integrity naming both jumps. The jump lengths are
checked against pyproj's geodesic between the two fixes on either side of each jump
(found here from the data, not from skyfence).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pyproj import Geod

from skyfence.airspace.zones import national_zone
from skyfence.detect.entries import EntryDetector
from skyfence.incidents.assess import Assessor
from skyfence.model import make_observations
from skyfence.policy import Policy

traffic = pytest.importorskip("traffic")
SAMPLE = (Path(traffic.__file__).parent / "data" / "samples" / "noisy"
          / "noisy_spoofing.json.gz")


@pytest.fixture(scope="module")
def flight() -> pd.DataFrame:
    df = pd.read_json(SAMPLE).dropna(subset=["latitude", "longitude"])
    return df.sort_values("timestamp", ignore_index=True)


def test_the_spoofed_entry_into_ukraine_is_called_out_not_a_violation(
        flight: pd.DataFrame) -> None:
    t = flight["timestamp"].astype("int64").to_numpy() / 1e9
    obs = make_observations(time=t, icao24=flight["icao24"].to_numpy(object),
                            lat=flight["latitude"].to_numpy(float),
                            lon=flight["longitude"].to_numpy(float),
                            altitude=flight["altitude"].to_numpy(float) * 0.3048)
    zones = [national_zone(c) for c in ("UKR", "ROU", "POL")]
    det = EntryDetector(zones)
    ev = det.process(obs) + det.close()
    entries = [e.entry for e in ev if e.kind in ("exit", "open")]
    recs = {r["zone"]: r for r in Assessor(Policy.from_options(["TUR"])).records(entries)}
    ukr = recs["UKR"]
    # the two jumps, from the data: steps longer than 100 km
    geod = Geod(ellps="WGS84")
    la, lo = flight["latitude"].to_numpy(float), flight["longitude"].to_numpy(float)
    _, _, step = geod.inv(lo[:-1], la[:-1], lo[1:], la[1:])
    big = np.flatnonzero(step > 100e3)
    assert len(big) == 2
    km_in, km_out = step[big] / 1000
    # skyfence measures on a sphere, the reference on the ellipsoid: within 0.5 %
    entered, left = ukr["integrity"][:2]
    assert entered.startswith("entered by a position jump of ")
    assert left.startswith("left by a position jump of ")
    for text, km in ((entered, km_in), (left, km_out)):
        assert float(text.split(" of ")[1].split(" km")[0]) == pytest.approx(km, rel=5e-3)
    assert ukr["violation"] is False and ukr["severity"] == "warning"
    assert any("position jump no aircraft can make" in r for r in ukr["reasons"])
    # Romania, flown before the jump and left by it: the same Turkish aircraft inside,
    # so a violation under this watch list, its record naming the jump out
    assert recs["ROU"]["violation"] is True
    assert recs["ROU"]["integrity"][0].startswith("left by a position jump of")
