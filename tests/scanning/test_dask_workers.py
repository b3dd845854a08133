"""`--workers` is checked before any Dask cluster starts: a local cluster with no
worker would wait for one forever (the hang of `--workers 0`)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from skyfence.cli import main
from skyfence.errors import UsageError
from skyfence.scanning.distributed import check_workers, max_local_workers

pytestmark = pytest.mark.timeout(60)


def positions(path: Path) -> Path:
    pd.DataFrame({"time": [1.7e9, 1.7e9 + 10], "icao24": "R0001", "lat": 0.0,
                  "lon": [-0.5, 0.5]}).to_csv(path, index=False)
    return path


@pytest.mark.parametrize("workers", ["0", "-1"])
def test_no_worker_is_a_usage_error_not_a_hang(
    workers: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = positions(tmp_path / "p.csv")
    code = main(["scan", str(f), "--circle", "A:0,0,30", "--engine", "dask",
                 "--workers", workers])
    assert code == 2
    assert f"--workers {workers}: a local Dask cluster needs at least 1 worker" in (
        capsys.readouterr().err)


def test_workers_without_dask_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = positions(tmp_path / "p.csv")
    assert main(["scan", str(f), "--circle", "A:0,0,30", "--workers", "2"]) == 2
    assert "--workers needs --engine dask" in capsys.readouterr().err


def test_worker_counts_a_local_cluster_can_run() -> None:
    check_workers(None)
    check_workers(1)
    check_workers(max_local_workers())
    for bad in (0, -3, max_local_workers() + 1):
        with pytest.raises(UsageError, match="--workers"):
            check_workers(bad)
    with pytest.raises(UsageError, match="--scheduler"):  # a remote cluster has its own
        check_workers(2, "tcp://127.0.0.1:8786")
