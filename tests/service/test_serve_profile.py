"""The incident track's altitude line when the heights scatter (a 3D radar's heights).

The crossing of ``serve_helpers`` with seeded normal noise of sigma 300 m on the
intruder's 9,000 m (one height a second, 91 of them). The reference is the truth the
noise was added to: 9,000 m.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from service.conftest import PASSWORDS, ROLES
from service.serve_helpers import INTRUDER, crossing_csv, write_config

pytestmark = pytest.mark.timeout(120)


def test_noisy_heights_get_a_smoothed_line_near_the_truth(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from skyfence.service import auth
    from skyfence.service.app import create_app
    from skyfence.service.config import load_serve_config
    from skyfence.service.serve import build_state

    csv = crossing_csv(tmp_path / "crossing.csv", height_sigma_m=300.0)
    state = build_state(load_serve_config(write_config(tmp_path, csv)), out=io.StringIO())
    auth.add_user(state.store, "vik", PASSWORDS["vik"], ROLES["vik"], "test")
    state.setup_token = None
    token = auth.create_token(state.store, "t-viewer", "viewer", "test")
    h = {"Authorization": f"Bearer {token}"}
    with TestClient(create_app(state), base_url="https://testserver") as client:
        assert state.thread is not None
        state.thread.join(60)
        incs = client.get("/api/incidents", params={"all": "true"}, headers=h).json()
        (inc,) = [i for i in incs["incidents"] if i["track"] == INTRUDER]
        tr = client.get(f"/api/incidents/{inc['id']}/track", headers=h).json()
    raw = np.array([p["altitude_m"] for p in tr["points"]])
    line = np.array([p["altitude_line_m"] for p in tr["points"]])
    assert len(raw) >= 60 and tr["altitude_smoothed"] is True
    # a scatter estimate near sigma (0.75 sigma for a 60-fix running median: see
    # skyfence.evidence.altitude), the raw heights ~300 m RMS off 9,000 m
    assert 150.0 < tr["altitude_scatter_m"] < 400.0
    assert np.sqrt(np.mean((raw - 9000.0) ** 2)) > 200.0
    # a median of 60 heights has sd ~ 1.253 x 300 / sqrt(60) = 49 m; the track is only
    # 91 s long, so the windows near its ends hold 30 heights (sd ~ 69 m): within 150 m
    assert np.abs(line - 9000.0).max() < 150.0, line
