"""`skyfence watch` options: impossible feeds and formats are usage errors, and a feed
that never connects still prints its stats line on time."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from loopback import free_port
from skyfence.cli import main

pytestmark = pytest.mark.timeout(60)

SRC = str(Path(__file__).resolve().parents[2] / "src")




def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().err


class Lines:
    """Reads a pipe line by line in a thread, so a test can poll what arrived."""

    def __init__(self, pipe: object) -> None:
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(pipe,), daemon=True)
        self._thread.start()

    def _read(self, pipe: object) -> None:
        for line in pipe:  # type: ignore[attr-defined]
            self.lines.append(line)

    def wait_for(self, text: str, count: int = 1, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while sum(text in ln for ln in self.lines) < count:
            assert time.monotonic() < deadline, f"no {count} x {text!r} in {self.lines}"
            time.sleep(0.02)

    def join(self) -> None:
        self._thread.join(10)


def watch_process(*argv: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.Popen([sys.executable, "-m", "skyfence.cli", "watch", *argv],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


@pytest.mark.parametrize("spec", ["127.0.0.1:99999", "127.0.0.1:0", "[::1]:65536"])
def test_impossible_port_is_a_usage_error(spec: str, capsys: pytest.CaptureFixture[str]
                                          ) -> None:
    code, err = run(capsys, "watch", "--sbs", spec, "--circle", "A:0,0,30")
    assert code == 2
    assert f"--sbs {spec}: port must be 1..65535" in err


@pytest.mark.parametrize("fmt", ["csv", "geojson"])
def test_formats_a_stream_cannot_have_are_refused(
    fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "r.csv"
    pd.DataFrame({"time": [1.7e9], "icao24": ["R1"], "lat": [0.0], "lon": [0.0]}).to_csv(f)
    code, err = run(capsys, "watch", "--replay", str(f), "--circle", "A:0,0,30",
                    "--format", fmt)
    assert code == 2
    assert f"watch --format {fmt}" in err and "jsonl" in err


@pytest.mark.parametrize(("option", "value"), [
    ("--stats-every", "0"), ("--stats-every", "-1"), ("--stats-every", "nan"),
    ("--speed", "-2"), ("--horizon", "inf"), ("--webhook-drain", "-1"),
    ("--webhook", "notaurl"), ("--webhook", "ftp://h/x"),
])
def test_bad_watch_option_is_a_usage_error(
    option: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = run(capsys, "watch", "--sbs", f"127.0.0.1:{free_port()}",
                    "--circle", "A:0,0,30", option, value)
    assert code == 2
    assert option in err and "Traceback" not in err


def test_stats_line_comes_on_time_while_the_feed_never_connects() -> None:
    port = free_port()  # nothing listens: every connect is refused
    proc = watch_process("--sbs", f"127.0.0.1:{port}", "--circle", "A:0,0,30",
                         "--stats-every", "0.3")
    err = Lines(proc.stderr)
    try:
        err.wait_for("not connected", count=4)
        err.wait_for(f"connect to 127.0.0.1:{port}: Connection refused (attempt 1)")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
        err.join()
    assert proc.returncode == 0
    stats = [ln for ln in err.lines if "not connected" in ln]
    assert "attempts, last error: connect to" in stats[0]
    assert all("Traceback" not in ln for ln in err.lines)


def test_sigterm_ends_a_replay_with_its_open_entries(tmp_path: Path) -> None:
    f = tmp_path / "slow.csv"
    t = np.arange(0, 120, 1.0)
    pd.DataFrame({"time": 1.7e9 + t, "icao24": "R0007", "lat": 0.0,
                  "lon": -0.3 + 0.004 * t}).to_csv(f, index=False)
    proc = watch_process("--replay", str(f), "--speed", "4", "--circle", "A:0,0,30",
                         "--format", "jsonl")
    out = Lines(proc.stdout)
    try:
        out.wait_for('"event":"entry"')
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
        out.join()
    assert proc.returncode == 0
    kinds = [ln.split('"event":"')[1].split('"')[0] for ln in out.lines]
    assert kinds[0] == "entry" and kinds[-1] == "open" and kinds.count("open") == 1
