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


def test_workers_of_the_local_engine_are_its_threads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--workers`` reaches the local engine's thread count (threads give the records
    of one thread: tests/scanning/test_local_pool.py)."""
    from skyfence.scanning import engine

    f = positions(tmp_path / "p.csv")
    real, asked = engine.scan_files, []

    def spy(paths: list[Path], opts: engine.ScanOptions) -> engine.ScanResult:
        asked.append(opts.workers)
        return real(paths, opts)

    monkeypatch.setattr(engine, "scan_files", spy)
    for extra in ([], ["--workers", "3"]):
        out = tmp_path / "w.jsonl"
        assert main(["scan", str(f), "--circle", "A:0,0,30", "--all-entries", "--format",
                     "jsonl", "-o", str(out), *extra]) == 0
        assert out.read_text().count("\n") == 1  # the one entry
    assert asked == [None, 3]
    assert main(["scan", str(f), "--circle", "A:0,0,30", "--workers", "0"]) == 2
    assert "--workers 0: at least 1 thread" in capsys.readouterr().err


def test_worker_counts_a_local_cluster_can_run() -> None:
    check_workers(None)
    check_workers(1)
    check_workers(max_local_workers())
    for bad in (0, -3, max_local_workers() + 1):
        with pytest.raises(UsageError, match="--workers"):
            check_workers(bad)
    with pytest.raises(UsageError, match="--scheduler"):  # a remote cluster has its own
        check_workers(2, "tcp://127.0.0.1:8786")
