"""The memory budget: sizes derived from it stay within it, and too small a budget is a
clear usage error."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from skyfence.airspace.zones import circle_zone, resolve_zones
from skyfence.cli import main
from skyfence.errors import UsageError
from skyfence.scanning import budget
from skyfence.scanning.budget import MIB, parse_memory, plan_memory, zone_bytes
from skyfence.scanning.engine import ScanOptions, scan_plan


@pytest.mark.parametrize(("text", "mb"), [
    ("2G", 2048), ("2g", 2048), ("512M", 512), ("512MB", 512), ("1.5GiB", 1536),
    ("768", 768), ("1T", 1024 * 1024), ("2097152K", 2048),  # 2,097,152 KiB = 2,048 MiB
])
def test_parse_memory(text: str, mb: int) -> None:
    assert parse_memory(text) == mb


@pytest.mark.parametrize("text", ["lots", "-1G", "0M", "2X", "", "512K"])
def test_parse_memory_rejects(text: str) -> None:
    with pytest.raises(UsageError, match="--memory"):
        parse_memory(text)


def test_plan_fits_its_budget_and_grows_with_it() -> None:
    zones = resolve_zones(["EST", "LVA", "LTU", "POL"], [], [])
    previous = 0
    for mb in (600, 1024, 2048, 8192):
        plan = scan_plan(ScanOptions(zones=zones, memory_mb=mb))
        # the promise: fixed part + the larger of the two phases' measured row costs
        read = plan.chunk_rows * budget.READ_ROW_BYTES
        screen = plan.bucket_rows * budget.DETECT_ROW_BYTES
        assert plan.fixed_bytes + max(read, screen) <= mb * MIB
        assert plan.bucket_rows > previous
        previous = plan.bucket_rows
        # 100 M rows get enough buckets of at most bucket_rows each, or the most buckets
        # there may be (each then split again when read back)
        k = plan.buckets_for(100_000_000)
        assert k * plan.bucket_rows >= 100_000_000 or k == budget.MAX_BUCKETS
    # at 2 GiB a 100 M-row scan is cut into buckets, not held (the defect of issue 8)
    assert scan_plan(ScanOptions(zones=zones)).bucket_rows < 10_000_000


def test_fixed_part_counts_every_zone() -> None:
    four = resolve_zones(["EST", "LVA", "LTU", "POL"], [], [])
    every = resolve_zones(["all"], [], [])
    a, b = zone_bytes(four), zone_bytes(every)
    # the 250 states' boundaries have 1.9 M vertices, the four states' about 36,000:
    # with their pieces that is 862 MB against 14 MB
    assert b["boundaries"] > 400 * MIB > 10 * a["boundaries"]
    assert a["zones"] == b["zones"]  # the national bundle is loaded whole either way
    custom = zone_bytes([circle_zone("C", 47.0, 8.0, 5.0)])
    assert custom["zones"] < MIB  # no national bundle for custom zones


def test_budget_below_the_zones_is_refused_with_what_is_needed() -> None:
    zones = resolve_zones(["all"], [], [])
    with pytest.raises(UsageError) as exc:
        plan_memory(1024, zones)
    msg = str(exc.value)
    assert "--memory 1024M is below" in msg and "boundaries" in msg
    need = int(msg.rsplit("--memory ", 1)[1].split("M")[0])
    assert need > 1024
    plan_memory(need, zones)  # the figure it asks for is enough


def test_cli_memory_option_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "a.csv"
    pd.DataFrame({"time": [0.0], "icao24": ["abc123"], "lat": [59.0], "lon": [25.0]}
                 ).to_csv(f, index=False)
    assert main(["scan", str(f), "--zone", "EST", "--memory", "lots"]) == 2
    assert "--memory lots: expected a size" in capsys.readouterr().err
    assert main(["scan", str(f), "--zone", "EST", "--memory", "100M"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("skyfence: error: --memory 100M is below") and err.count("\n") == 1
    assert main(["scan", str(f), "--zone", "EST", "--memory", "1G"]) == 0
