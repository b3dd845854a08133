"""Every example of README.md runs as written (issue 8, class 11).

The README's fenced ``sh`` blocks are read line by line and every command is run; the
``python`` block is executed. The files the commands name are built here, in a temporary
directory, from data shipped with skyfence (``skyfence.demo``: OpenSky traffic over
Switzerland on 1 Aug 2018 and the demo's radar-only track near Vaindloo) or with its
dependencies (asterix-decoder's sample recording), and from the recorded dump1090 output
under ``tests/sources/data``. What each file is, is said where it is built.

Live-feed commands (``watch --sbs/--beast/--raw HOST:PORT``) run in a subprocess against
a loopback TCP server this test starts: the host and port of the command are replaced by
the server's, and a webhook URL by a loopback HTTP server's, nothing else. The Dask
command with ``--scheduler tcp://SCHEDULER:8786`` gets the address of a scheduler this
test starts. ``make demo`` runs the skyfence commands its recipe runs; ``make test`` is
checked with ``make -n`` (running it here would run this test inside itself).

A README command this test does not know how to check fails the test, so a new example
cannot go untested.
"""

from __future__ import annotations

import gzip
import http.server
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import skyfence.scenarios.commands as commands
from loopback import wait_drained
from skyfence.cli import main
from skyfence.demo import sample_traffic, vaindloo_track

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DATA = ROOT / "tests" / "sources" / "data"


def fenced(lang: str) -> list[str]:
    """The bodies of the README's fenced blocks of language ``lang``."""
    return re.findall(rf"```{lang}\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def readme_commands() -> list[str]:
    """Every command of the README's ``sh`` blocks (lines ending in a backslash joined
    with the next, as the shell does), comments removed."""
    out = []
    for block in fenced("sh"):
        for line in block.replace("\\\n", " ").splitlines():
            if shlex.split(line, comments=True):
                out.append(line)
    return out


COMMANDS = readme_commands()


# ---------------------------------------------------------------- files the README names


def span_rows(df: pd.DataFrame, seconds: float) -> pd.DataFrame:
    return df[df.time < df.time.min() + seconds].reset_index(drop=True)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("readme")
    swiss = sample_traffic()  # real OpenSky traffic over Switzerland, 06:00-09:00 UTC
    dark = vaindloo_track()  # the demo's radar-only track through Estonian airspace
    # flights.parquet: both, so the Baltic examples have something to find
    pd.concat([swiss, dark], ignore_index=True).to_parquet(d / "flights.parquet", index=False)
    # history/*.csv.gz: the Swiss traffic, one file per hour
    (d / "history").mkdir()
    hour = (swiss.time // 3600).astype(int)
    for h, part in swiss.groupby(hour):
        stamp = datetime.fromtimestamp(h * 3600, UTC).strftime("%Y-%m-%d-%H")
        with gzip.open(d / "history" / f"{stamp}.csv.gz", "wt") as fh:
            part.to_csv(fh, index=False)
    # states/: both as hive-partitioned Parquet, one directory per hour, as OpenSky
    # lays it out (the radar-only track gives the Baltic examples an entry)
    both = pd.concat([swiss, dark], ignore_index=True)
    for h, part in both.groupby((both.time // 3600).astype(int)):
        stamp = datetime.fromtimestamp(h * 3600, UTC).strftime("%Y-%m-%d-%H")
        (d / "states" / f"hour={stamp}").mkdir(parents=True)
        part.to_parquet(d / "states" / f"hour={stamp}" / "part-0.parquet", index=False)
    swiss.to_csv(d / "day.csv", index=False)
    # day.parquet (replayed at 10x): the first 40 s of the day, so the replay takes 4 s
    span_rows(swiss, 40.0).to_parquet(d / "day.parquet", index=False)
    # airports.geojson: a square of about 7 x 11 km around Zurich airport (LSZH)
    square = [[8.50, 47.43], [8.60, 47.43], [8.60, 47.50], [8.50, 47.50], [8.50, 47.43]]
    (d / "airports.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "LSZH"},
         "geometry": {"type": "Polygon", "coordinates": [square]}}]}))
    # traffic_export.csv: the traffic library's names and units (feet, knots, ft/min)
    t = swiss.rename(columns={"time": "timestamp", "lat": "latitude", "lon": "longitude",
                              "heading": "track"})
    t["timestamp"] = pd.to_datetime(t["timestamp"], unit="s", utc=True).astype(str)
    t["altitude"] = t.pop("baroaltitude") / 0.3048
    t["groundspeed"] = t.pop("velocity") / (1852 / 3600)
    t["vertical_rate"] = t.pop("vertrate") / (0.3048 / 60)
    t.to_csv(d / "traffic_export.csv", index=False)
    # dirty.csv: the traffic with three bad rows added (text latitude, no time, inf ft)
    bad = swiss.head(3).copy().astype(object)
    bad.loc[bad.index[0], "lat"] = "abc"
    bad.loc[bad.index[1], "time"] = ""
    bad.loc[bad.index[2], "baroaltitude"] = "inf"
    pd.concat([swiss.astype(object), bad], ignore_index=True).to_csv(d / "dirty.csv",
                                                                     index=False)
    # plots.pcap: asterix-decoder's own sample recording
    asterix = pytest.importorskip("asterix")
    shutil.copy(asterix.get_sample_file("cat_034_048.pcap"), d / "plots.pcap")
    # big.parquet: stands for a large per-aircraft export (here the flights above)
    shutil.copy(d / "flights.parquet", d / "big.parquet")
    # hook.key: the webhook's shared secret (any bytes)
    (d / "hook.key").write_text("readme-test-secret\n")
    return d


@pytest.fixture(autouse=True)
def own_store_and_log(tmp_path_factory: pytest.TempPathFactory,
                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The user's incident store and station log (the defaults the README's commands
    use without --store / --log) in a directory of this test session, not the home's."""
    home = tmp_path_factory.getbasetemp() / "readme-user"
    monkeypatch.setenv("SKYFENCE_STORE", str(home / "incidents.sqlite"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))


# ---------------------------------------------------------------- helpers


def summary_counts(err: str) -> tuple[int, int, int]:
    """(positions, entries, violations) of scan's closing line on stderr."""
    m = re.search(r"([\d,]+) positions, (\d+) entries, (\d+) violation", err)
    assert m, err
    return int(m[1].replace(",", "")), int(m[2]), int(m[3])


def run_main(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "internal error" not in err
    return out, err


class FeedServer:
    """A loopback TCP server: sends ``data`` to its first client and keeps it open."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.sent = threading.Event()
        self.clients: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        try:
            client, _ = self.sock.accept()
        except OSError:
            return
        self.clients.append(client)
        client.sendall(self.data)
        self.sent.set()

    def close(self) -> None:
        for c in self.clients:
            c.close()
        self.sock.close()


class HookServer(http.server.HTTPServer):
    events: list[dict[str, Any]]


class _Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # the http.server API names it
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.events.append(json.loads(body))  # type: ignore[attr-defined]
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def hook_server() -> Iterator[HookServer]:
    server = HookServer(("127.0.0.1", 0), _Hook)
    server.events = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def sbs_lines_across(lat: float, lon0: float, step_deg: float) -> bytes:
    """SBS MSG,3 lines of an aircraft flying west to east along ``lat`` from ``lon0``,
    one fix per second, stamped now (UTC): over Aalborg (EKYT, 57.0928 N 9.8492 E)
    through the README's 8 km circle, or across Estonia for its ``--zone EST``.

    Its address 1521a0 lies in Russia's ICAO block (100000-1FFFFF, Annex 10), so with
    the README's ``--watch-state RUS`` its entry is a violation and goes to the webhook.
    """
    now = time.time() - 60
    lines = []
    for i in range(41):
        t = datetime.fromtimestamp(now + i, UTC)
        lon = lon0 + i * step_deg
        stamp = f"{t:%Y/%m/%d},{t:%H:%M:%S}.{t.microsecond // 1000:03d}"
        lines.append(f"MSG,3,1,1,1521a0,1,{stamp},{stamp},,3000,,,{lat},{lon:.4f},,,,,,0")
    return ("\n".join(lines) + "\n").encode()


def feed_bytes(kind: str) -> bytes:
    if kind == "sbs":  # what a real dump1090 wrote on its SBS port
        return (DATA / "dump1090_sbs.txt").read_bytes()
    if kind == "beast":  # and on its Beast port
        return (DATA / "dump1090_beast.bin").read_bytes()
    frames = [line.split(",")[1] for line in (DATA / "flight_frames.csv").read_text()
              .splitlines() if not line.startswith("#")]
    return "".join(f"*{f};\n" for f in frames[:600]).encode()  # raw port format


def _ctrl_c_as_in_a_terminal() -> None:
    """In the child, before it runs: Ctrl-C (SIGINT) delivered and handled by default, as
    a command typed at a terminal has it. A child inherits its parent's signal mask and
    ignored signals, and somewhere in the full suite the test process ends up with SIGINT
    blocked (found with faulthandler: the watcher sat in its queue, never interrupted;
    reproduced by blocking SIGINT before running this test alone), which is the test
    process's state, not the README's."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run_watch_subprocess(argv: list[str], cwd: Path, server: FeedServer,
                         done: Callable[[], bool] | None = None) -> tuple[int, str]:
    """Run ``watch`` on ``server``'s feed; Ctrl-C once ``done()`` holds (polled, up to
    60 s), or without ``done`` once the watcher has read everything the server sent."""
    # faulthandler: a watcher that does not stop is made to print every thread's stack
    env = dict(os.environ, PYTHONFAULTHANDLER="1", PYTHONPATH=os.pathsep.join(
        [str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen([sys.executable, "-m", "skyfence.cli", *argv[1:]], cwd=cwd,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, preexec_fn=_ctrl_c_as_in_a_terminal)
    try:
        assert server.sent.wait(30), "the watcher never connected"
        if done is None:
            wait_drained(server.port)
        else:
            deadline = time.monotonic() + 60
            while not done():
                assert proc.poll() is None, "watch stopped before it was done"
                assert time.monotonic() < deadline, "watch was not done in 60 s"
                time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        try:
            _, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGABRT)
            _, err = proc.communicate(timeout=10)
            raise AssertionError("watch did not stop 30 s after Ctrl-C; its stacks and "
                                 "log:\n" + err[-6000:]) from None
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return proc.returncode, err


# ---------------------------------------------------------------- the runners


Check = Callable[..., None]


def check_flights(out: str, err: str, d: Path) -> None:
    positions, _, violations = summary_counts(err)
    assert positions == len(pd.read_parquet(d / "flights.parquet"))
    assert violations >= 1 and "R0001" in out  # the radar-only track inside EST


def check_history(out: str, err: str, d: Path) -> None:
    recs = [json.loads(x) for x in (d / "entries.jsonl").read_text().splitlines()]
    assert recs and "CHE" in {r["zone"] for r in recs}


def check_day(out: str, err: str, d: Path) -> None:
    positions, entries, _ = summary_counts(err)
    assert positions == len(pd.read_csv(d / "day.csv")) and entries >= 1  # LSZH arrivals


def check_traffic(out: str, err: str, d: Path) -> None:
    positions, entries, _ = summary_counts(err)
    assert positions == len(pd.read_csv(d / "traffic_export.csv")) and entries >= 1


def check_dirty(out: str, err: str, d: Path) -> None:
    # the three planted rows are skipped and counted; the rest is read
    assert "skipped 3 bad row(s) (baroaltitude: 1, lat: 1, time: 1)" in err
    positions, _, _ = summary_counts(err)
    assert positions == len(pd.read_csv(d / "dirty.csv")) - 3


def check_radar(out: str, err: str, d: Path) -> None:
    import asterix

    from skyfence.sources.asterix import iter_payloads

    # independent count: CAT048 records carrying a polar position (I040) from a radar
    # other than SIC 12, decoded by asterix-decoder itself
    others = sum(1 for _, p in iter_payloads(d / "plots.pcap")
                 for r in asterix.parse(p, verbose=False)
                 if r.get("category") == 48 and "I040" in r and r["I010"]["SIC"]["val"] != 12)
    assert f"skipped {others} bad row(s)" in err and others == 88  # the README says 88
    assert summary_counts(err)[0] == 0  # half a second: no track starts


def check_dask(out: str, err: str, d: Path) -> None:
    positions, _, violations = summary_counts(err)
    assert positions == len(sample_traffic()) + len(vaindloo_track())
    assert violations >= 1 and "R0001" in out  # the radar-only track inside EST


def check_eval_all(out: str, err: str, d: Path) -> None:
    from skyfence.scenarios import catalog

    names = [p.stem for p in Path(catalog.__file__).parent.joinpath("builtin").glob("*.yaml")]
    assert names and all(n in out for n in names)
    # the README's evaluation table is what the command prints, row for row
    rows = [line for line in README.read_text(encoding="utf-8").splitlines()
            if any(line.startswith(f"| {n} |") for n in names)]
    assert len(rows) == len(names)
    printed = set(out.splitlines())
    assert [r for r in rows if r not in printed] == []


def check_json(out: str, err: str, d: Path) -> None:
    assert isinstance(json.loads(out), dict)


def check_zones_list(out: str, err: str, d: Path) -> None:
    assert "EST" in out and "Estonia" in out


def check_zones_show(out: str, err: str, d: Path) -> None:
    assert "zone      EST" in out and "Estonia" in out


def check_demo(out: str, err: str, d: Path) -> None:
    assert out.strip()


def check_export(out: str, err: str, d: Path) -> None:
    for name in ("radar.ast", "adsb.csv", "commands.sh"):
        assert (d / "vaindloo" / name).stat().st_size > 0


def check_fused(out: str, err: str, d: Path) -> None:
    # the three MiG-31s of the scenario, radar-only, are the violations; the civil
    # flights the radar also sees are fused with their ADS-B and not flagged
    _, entries, violations = summary_counts(err)
    assert violations == 3 and entries > violations
    assert out.count("non-cooperative target") == 3


def check_memory(out: str, err: str, d: Path) -> None:
    recs = [json.loads(x) for x in (d / "entries.jsonl").read_text().splitlines()]
    assert any(r["track"] == "R0001" and r["zone"] == "EST" for r in recs)


#: README command (exact text up to any comment) -> its check
IN_PROCESS: dict[str, Check] = {
    "skyfence demo vaindloo-2025-09-19 --export vaindloo": check_export,
    "skyfence scan vaindloo/radar.ast vaindloo/adsb.csv --zone EST --watch-state RUS --radar "
    "20:1:59.07,26.15,200.0,60.0,0.08 --date 2025-09-19": check_fused,
    "skyfence scan big.parquet --zone EST --zone LVA --zone LTU --zone POL --all-entries "
    "--format jsonl -o entries.jsonl --memory 2G": check_memory,
    "skyfence scan flights.parquet --zone EST --zone LVA --watch-state RUS": check_flights,
    "skyfence scan 'history/*.csv.gz' --zone all --all-entries --format jsonl -o entries.jsonl":
        check_history,
    "skyfence scan day.csv --zones-file airports.geojson --circle EKCH:55.618,12.656,5":
        check_day,
    "skyfence scan traffic_export.csv --columns traffic --zone CHE": check_traffic,
    "skyfence scan dirty.csv --zone POL --on-error skip": check_dirty,
    "skyfence scan plots.pcap --radar 25:12:45.80,16.00,100 --date 2016-05-05 --zone HRV "
    "--on-error skip": check_radar,
    "skyfence demo poland-2025-09-10": check_demo,
    "skyfence eval all": check_eval_all,
    "skyfence eval vaindloo-2025-09-19 --json": check_json,
    "skyfence scan states/ --zone EST --zone LVA --zone POL --engine dask": check_dask,
    "skyfence zones list": check_zones_list,
    "skyfence zones show EST": check_zones_show,
}


#: README commands that print a built-in scenario's run: they read the run the suite shares
#: (tests/conftest.py), so under pytest-xdist they go to the worker that holds it
BUILTIN_RUNS = {"skyfence demo poland-2025-09-10", "skyfence eval all",
                "skyfence eval vaindloo-2025-09-19 --json"}


def bare(line: str) -> str:
    return " ".join(shlex.quote(a) if " " in a or "*" in a else a
                    for a in shlex.split(line, comments=True))


#: the incident-store and evidence examples: one story, run in README order in one test
SEQUENCE = ("skyfence incidents ", "skyfence keys ", "skyfence dossier ", "skyfence log ")
STORE_SCAN = "skyfence scan flights.parquet --zone EST --watch-state RUS --store"


def in_sequence(cmd: str) -> bool:
    return cmd == STORE_SCAN or cmd.startswith(SEQUENCE)


#: the operators' screen: a user for the demo, then the demo server (one test, in order)
SERVE = ("skyfence users add olga --role operator --demo", "skyfence serve --demo")


def test_every_readme_command_is_known() -> None:
    known = set(IN_PROCESS) | {"make demo", "make test", *SERVE}
    for line in COMMANDS:
        cmd = bare(line)
        argv = shlex.split(line, comments=True)
        handled = (cmd in known or "--replay" in argv or "--scheduler" in argv
                   or in_sequence(cmd)
                   or any(a in argv for a in ("--sbs", "--beast", "--raw")))
        assert handled, f"README command without a check here: {cmd}"
    assert len(COMMANDS) >= 20


# ---------------------------------------------------------------- the tests


@pytest.mark.slow
@pytest.mark.parametrize("line", [
    pytest.param(c, marks=pytest.mark.builtin_scenarios) if bare(c) in BUILTIN_RUNS else c
    for c in COMMANDS if bare(c) in IN_PROCESS])
def test_readme_command(line: str, workdir: Path, capsys: pytest.CaptureFixture[str],
                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(workdir)
    argv = shlex.split(line, comments=True)
    if bare(line) == "skyfence eval all":
        # eval all scores the six scenarios in a pool of fresh interpreters, one per core,
        # each running its scenarios again (minutes of work the suite has done already):
        # with one worker, as on a one-core machine, it scores them in this process from
        # the runs the suite shares (tests/conftest.py). Runs are deterministic, so the
        # table is the same; the pool itself is checked on a small scenario
        # (tests/scenarios/test_scenario_pipeline.py).
        monkeypatch.setattr(commands, "local_workers", lambda *_: 1)
    if "vaindloo/radar.ast" in argv and not (workdir / "vaindloo" / "radar.ast").exists():
        run_main(capsys, ["demo", "vaindloo-2025-09-19", "--export", "vaindloo"])
    out, err = run_main(capsys, argv[1:])
    IN_PROCESS[bare(line)](out, err, workdir)


@pytest.mark.slow
@pytest.mark.parametrize("line", [c for c in COMMANDS if "--replay" in c])
def test_readme_replay(line: str, workdir: Path, capsys: pytest.CaptureFixture[str],
                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(workdir)
    argv = shlex.split(line, comments=True)
    if "vaindloo/adsb.csv" in argv and not (workdir / "vaindloo" / "adsb.csv").exists():
        run_main(capsys, ["demo", "vaindloo-2025-09-19", "--export", "vaindloo"])
    started = time.monotonic()
    out, err = run_main(capsys, argv[1:])
    replayed = argv[argv.index("--replay") + 1]
    data = (pd.read_parquet(workdir / replayed) if replayed.endswith(".parquet")
            else pd.read_csv(workdir / replayed))
    speed = float(argv[argv.index("--speed") + 1])
    if speed > 0:  # replayed in (span / speed) seconds, give or take
        assert time.monotonic() - started >= 0.8 * (data.time.max() - data.time.min()) / speed
    if "--asterix" in argv:  # ADS-B and radar plots: the three MiG-31s come out, fused
        assert out.count("non-cooperative target") >= 3, out
        assert re.search(r"[\d,]+ positions in", err)
    else:  # every position went through
        assert f"{len(data):,} positions" in err
    if "--store" in argv:
        assert (workdir / argv[argv.index("--store") + 1]).exists()


@pytest.mark.slow
@pytest.mark.parametrize("line", [c for c in COMMANDS
                                  if any(f"--{k} " in c for k in ("sbs", "beast", "raw"))])
def test_readme_live_feed(line: str, workdir: Path) -> None:
    argv = shlex.split(line, comments=True)
    kind = next(k for k in ("sbs", "beast", "raw") if f"--{k}" in argv)
    webhook = "--webhook" in argv
    # 0.01 deg of longitude at 57 N is about 0.6 km; 0.05 deg at 59.4 N about 2.8 km
    zone = "EST" if "EST" in argv else "EKYT"
    track = (sbs_lines_across(57.0928, 9.65, 0.01) if zone == "EKYT"
             else sbs_lines_across(59.4, 24.0, 0.05))
    server = FeedServer(track if webhook else feed_bytes(kind))
    i = argv.index(f"--{kind}")
    argv[i + 1] = f"127.0.0.1:{server.port}"  # the README's address, made local
    try:
        if webhook:
            with hook_server() as hooks:
                argv[argv.index("--webhook") + 1] = f"http://127.0.0.1:{hooks.server_port}/hook"
                code, err = run_watch_subprocess(
                    argv, workdir, server,
                    lambda: zone in {e.get("zone") for e in list(hooks.events)})
                zones = {e.get("zone") for e in hooks.events}
            assert zone in zones, err  # the aircraft flew through the zone
            # without a store the webhook sink reports, with one the store's outbox
            assert re.search(r"webhook[ :]http://127\.0\.0\.1:\d+/hook: [^;\n]*?\b[1-9]\d* "
                             r"delivered", err)
        else:
            code, err = run_watch_subprocess(argv, workdir, server)
    finally:
        server.close()
    assert code == 0, err
    assert "internal error" not in err
    m = re.search(r"feed: [^\n]*?(\d+) positions from (\d+) messages \((\d+) lines, "
                  r"(\d+) frames\)", err)
    assert m, err
    assert int(m[3]) + int(m[4]) > 0  # the feed was read


@pytest.mark.slow
def test_readme_dask_scheduler(workdir: Path, capsys: pytest.CaptureFixture[str],
                               monkeypatch: pytest.MonkeyPatch) -> None:
    distributed = pytest.importorskip("distributed")
    (line,) = [c for c in COMMANDS if "--scheduler" in c]
    argv = shlex.split(line, comments=True)
    assert argv[argv.index("--scheduler") + 1] == "tcp://SCHEDULER:8786"
    # the README's glob names a shared directory; here it is the states/ built above
    pattern = argv[2]
    assert pattern == "/shared/states/*.parquet"
    files = workdir / "shared-states"
    files.mkdir(exist_ok=True)
    for i, p in enumerate(sorted((workdir / "states").rglob("*.parquet"))):
        shutil.copy(p, files / f"part-{i}.parquet")
    argv[2] = str(files / "*.parquet")
    monkeypatch.chdir(workdir)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  protocol="tcp://", dashboard_address=None) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        argv[argv.index("--scheduler") + 1] = cluster.scheduler_address
        out, err = run_main(capsys, argv[1:])
    check_dask(out, err, workdir)


@pytest.mark.slow
def test_readme_python_snippet(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (code,) = fenced("python")
    monkeypatch.chdir(workdir)
    names: dict[str, Any] = {}
    exec(compile(code, "README.md", "exec"), names)
    df = names["df"]
    assert "R0001" in set(df[df.violation].track)
    # the same lines on a file where the scan finds nothing: empty, typed, no KeyError
    sample_traffic().head(100).to_parquet(workdir / "flights.parquet", index=False)
    try:
        names = {}
        exec(compile(code, "README.md", "exec"), names)
        assert len(names["df"]) == 0 and names["df"]["violation"].dtype == bool
    finally:  # put the shared file back for the other tests
        pd.concat([sample_traffic(), vaindloo_track()], ignore_index=True).to_parquet(
            workdir / "flights.parquet", index=False)


@pytest.mark.slow
@pytest.mark.builtin_scenarios
def test_readme_make_targets(capsys: pytest.CaptureFixture[str]) -> None:
    if shutil.which("make") is None:
        pytest.fail("make is needed to check the README's make commands")
    for target in ("demo", "test"):
        assert f"make {target}" in [bare(c) for c in COMMANDS]
        dry = subprocess.run(["make", "-n", target], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout
        if target == "test":  # lint, types and tests, in that order
            steps = [s for s in ("ruff check", "mypy", "pytest") if s in dry]
            assert steps == ["ruff check", "mypy", "pytest"], dry
            continue
        runs = [line.split("bin/skyfence", 1)[1].split() for line in dry.splitlines()
                if "bin/skyfence" in line]
        assert runs == [["demo"], ["demo", "vaindloo-2025-09-19"]], dry
        for argv in runs:
            out, _ = run_main(capsys, argv)
            check_demo(out, "", ROOT)


@pytest.mark.slow
def test_readme_store_and_evidence(workdir: Path, capsys: pytest.CaptureFixture[str],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The incident and dossier examples, in README order: the scan stores the radar-only
    track's incursion under the id the README names; the lifecycle commands act on it;
    the dossiers it builds verify against the published key; the station log holds
    them and proves it."""
    monkeypatch.chdir(workdir)
    lines = [c for c in COMMANDS if in_sequence(bare(c))]
    assert bare(lines[0]) == STORE_SCAN
    outputs: dict[str, str] = {}
    for line in lines:
        out, err = run_main(capsys, shlex.split(line, comments=True)[1:])
        outputs[bare(line)] = out if out.lstrip().startswith("{") else out + err
    listed = next(v for k, v in outputs.items() if k == "skyfence incidents list")
    assert "42fe2ba5" in listed and "R0001" in listed and "critical" in listed
    shown = outputs["skyfence incidents show 42fe2ba5"]
    assert "EST" in shown and "R0001" in shown
    csv_rows = pd.read_csv(workdir / "incidents.csv")
    row = csv_rows[csv_rows["id"].str.startswith("42fe2ba5")].iloc[0]
    assert row["state"] == "closed"  # ack, step, note, close went through, in order
    verified = next(v for k, v in outputs.items() if k.startswith("skyfence dossier verify"))
    assert verified.startswith("OK")
    for d in ("dossier", "dossier-scan", "vaindloo-dossier"):
        assert (workdir / d / "statement.dsse.json").exists()
    shown_log = outputs["skyfence log show"]
    assert re.search(r"entries\s+3\b", shown_log), shown_log
    proof = json.loads(outputs["skyfence log prove 1"])
    assert proof["index"] == 1 and proof["tree_size"] == 3
    consistency = json.loads(outputs["skyfence log consistency 1 3"])
    assert consistency["old_size"] == 1 and consistency["new_size"] == 3


def typed_at_terminal(argv: list[str], env: dict[str, str], answers: list[str],
                      timeout_s: float = 120.0) -> tuple[int, str]:
    """Run ``argv`` on a pseudo-terminal, typing each answer after each ``: `` prompt;
    its exit code and everything it wrote.

    Never blocks: output is awaited with ``select``; a prompt not recognised (other
    output after it) gets its answer after 10 s of silence; past ``timeout_s`` the child
    is killed and its output is in the failure."""
    import pty
    import select
    import signal

    pid, fd = pty.fork()
    if pid == 0:  # the child: the pty is its terminal
        try:
            os.execve(argv[0], argv, env)
        finally:
            os._exit(127)
    said, left = b"", list(answers)
    answered_at = 0  # len(said) when the last answer went: a prompt is new output after it
    deadline = time.monotonic() + timeout_s
    quiet_since = time.monotonic()
    try:
        while True:
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                pytest.fail(f"{argv} still running after {timeout_s} s; it wrote: {said!r}")
            ready, _, _ = select.select([fd], [], [], 0.5)
            if not ready:
                if left and time.monotonic() - quiet_since > 10.0:
                    os.write(fd, left.pop(0).encode() + b"\n")
                    answered_at, quiet_since = len(said), time.monotonic()
                continue
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the child closed the terminal: it ended
                break
            if not chunk:
                break
            said += chunk
            quiet_since = time.monotonic()
            # the newline getpass writes after an answer leaves the old prompt last: an
            # answer sent then is echoed and flushed by the next prompt (seen in CI)
            if left and said[answered_at:].rstrip().endswith(b":"):
                os.write(fd, left.pop(0).encode() + b"\n")
                answered_at = len(said)
    finally:
        os.close(fd)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), said.decode(errors="replace")


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_readme_serve_demo(tmp_path: Path) -> None:
    """The serve example: the user added (her password typed twice at a terminal, a
    pseudo-terminal here) can log in to the demo server, which serves
    the page and the demo's zone; without a login the API answers 401. The demo keeps
    its files in a directory of this test (``SKYFENCE_DEMO_DIR``) and listens on a free
    port (``--port`` added, as the live-feed examples get their server's port)."""
    import httpx

    lines = [bare(c) for c in COMMANDS if bare(c) in SERVE]
    assert lines == list(SERVE)
    env = {**os.environ, "SKYFENCE_DEMO_DIR": str(tmp_path),
           "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    cli = [sys.executable, "-m", "skyfence.cli"]
    password = "readme-password-1"
    code, said = typed_at_terminal([*cli, *shlex.split(SERVE[0])[1:]], env,
                                   [password, password])
    assert code == 0, said
    assert "olga" in said
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = tmp_path / "serve.log"
    with log.open("w") as fh:
        proc = subprocess.Popen([*cli, *shlex.split(SERVE[1])[1:], "--port", str(port)],
                                stdout=fh, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 150
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                if httpx.get(url + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.5)
        assert f"serving on {url}" in log.read_text()
        assert httpx.get(url + "/api/zones", timeout=10).status_code == 401
        login = httpx.post(url + "/api/auth/login", timeout=10,
                           data={"username": "olga", "password": password})
        assert login.status_code == 200, login.text
        # the session is a Secure cookie: sent back by hand over this plain loopback
        cookie = login.headers["set-cookie"].split(";", 1)[0]
        assert "HttpOnly" in login.headers["set-cookie"]
        zones = httpx.get(url + "/api/zones", headers={"Cookie": cookie}, timeout=30).json()
        assert "EST" in {f["properties"]["name"] for f in zones["features"]}, zones
        page = httpx.get(url + "/", timeout=10)
        assert page.status_code == 200 and "maplibre" in page.text.lower()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
