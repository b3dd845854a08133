"""`skyfence scan FILE.ast --radar ... --date`: real CAT048 bytes to a critical entry."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from skyfence.asterix_writer import encode_cat048
from skyfence.cli import main
from skyfence.radar import RadarSite
from skyfence.tracking.simulate import simulate_plots, straight_truth


def test_primary_radar_track_entering_a_zone_is_critical(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = RadarSite(7, 9, 59.40, 24.70, 50.0)
    t0 = pd.Timestamp("2025-09-19T09:50:00Z").timestamp()
    # a target flying east at 200 m/s through a 20 km circle 60 km from the radar
    truth = straight_truth("T1", 59.80, 25.20, 90.0, 200.0, 8000.0, t0, 600.0)
    plots = simulate_plots(truth, [site], period_s=4.0, p_detect=0.95, seed=1,
                           sigma_height_m=100.0)
    f = tmp_path / "radar.ast"
    f.write_bytes(encode_cat048(plots))
    code = main(["scan", str(f), "--radar", "7:9:59.40,24.70,50", "--date", "2025-09-19",
                 "--circle", "ZONE:59.80,26.50,20", "--format", "jsonl"])
    out, err = capsys.readouterr()
    assert code == 0, err
    (rec,) = [json.loads(x) for x in out.splitlines()]
    assert rec["severity"] == "critical" and not rec["classification"]["cooperative"]
    # the truth enters the circle where it is 20 km west of its centre
    lon_entry = truth.lon.to_numpy()
    enter = truth.time[(abs(lon_entry - 26.5) * 111.32 * 0.5095 < 20.0)].iloc[0]
    assert abs(pd.Timestamp(rec["entered_at"]).timestamp() - enter) < 8.0
    code = main(["scan", str(f), "--circle", "ZONE:59.80,26.50,20"])
    assert code != 0
    assert "radar" in capsys.readouterr().err
