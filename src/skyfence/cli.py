"""The ``skyfence`` command: scan, watch, serve, zones, demo, eval, bench, keys, dossier,
log, incidents, users, tokens.

Exit codes: 0 success, 1 data error, 2 usage error. Errors are one line on stderr,
never a traceback (set ``SKYFENCE_DEBUG=1`` to see one).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from skyfence import __version__
from skyfence.errors import SkyfenceError, UsageError

if TYPE_CHECKING:
    from skyfence.records import EntryRecord

Handler = Callable[[argparse.Namespace], int]


def _add_zone_options(p: argparse.ArgumentParser, output: bool = True) -> None:
    g = p.add_argument_group("zones and policy")
    g.add_argument("--zone", action="append", default=[], metavar="Z",
                   help="national airspace by ISO3 code or English name; repeat; "
                        "'all' for every state")
    g.add_argument("--zones-file", action="append", default=[], metavar="F.geojson",
                   help="custom zones: GeoJSON Polygon/MultiPolygon features with 'name', "
                        "optional 'floor_m', 'ceiling_m'")
    g.add_argument("--circle", action="append", default=[], metavar="NAME:LAT,LON,RADIUS_KM",
                   help="a circular zone, e.g. EKYT:57.0928,9.8492,5")
    g.add_argument("--watch-state", action="append", default=[], metavar="ISO3",
                   help="aircraft registered in this state are violations; repeat")
    g.add_argument("--policy", metavar="FILE.yaml",
                   help="policy rules (default: the shipped policy; see 'skyfence policy check')")
    g.add_argument("--aircraft-db", metavar="FILE.csv",
                   help="known aircraft: ICAO address, type, operator, military flag")
    g.add_argument("--config", metavar="FILE.yaml",
                   help="zones, circles and watch list from a file")
    g.add_argument("--gap", type=float, default=None, metavar="S",
                   help="split a track where fixes are more than S seconds apart (300)")
    if not output:
        return
    o = p.add_argument_group("output")
    o.add_argument("--all-entries", action="store_true",
                   help="list every entry, not only violations")
    o.add_argument("--format", choices=("table", "jsonl", "geojson", "csv"), default="table")
    o.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    p = argparse.ArgumentParser(
        prog="skyfence",
        description="Detect, track and document airspace incursions.",
    )
    p.add_argument("--version", action="version", version=f"skyfence {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("scan", help="find entries into zones in recorded positions")
    s.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="CSV, CSV.gz or Parquet files of positions (OpenSky state-vector columns)")
    s.add_argument("--columns", metavar="MAP",
                   help="column mapping SRC=FIELD[:UNIT],... or a preset: traffic, opensky")
    s.add_argument("--on-error", choices=("abort", "skip"), default="abort",
                   help="stop at the first bad row (default) or count and skip bad rows")
    s.add_argument("--input-format", default="auto", metavar="FMT",
                   help="auto (by file name), csv, parquet, sbs, beast, raw, asterix")
    s.add_argument("--radar", action="append", default=[], metavar="SAC:SIC:LAT,LON[,ALT_M]",
                   help="a radar site of ASTERIX CAT048 input; repeat for each")
    s.add_argument("--date", metavar="YYYY-MM-DD",
                   help="UTC date of the first ASTERIX record (ASTERIX carries time of day)")
    s.add_argument("--ref", metavar="LAT,LON",
                   help="receiver position for Mode S CPR decoding; positions more than "
                   "700 km from it are left out as implausible")
    s.add_argument("--fuse", action="store_true",
                   help="correlate tracks that are not ICAO addresses (radar tracks in a "
                        "table) with the transponder tracks, as radar files always are "
                        "(reads the input whole)")
    s.add_argument("--engine", choices=("local", "dask"), default="local",
                   help="run on this machine (default) or on a Dask cluster")
    s.add_argument("--scheduler", metavar="ADDR",
                   help="Dask scheduler address (tcp://host:8786); none: a local cluster")
    s.add_argument("--workers", type=int, default=None, metavar="N",
                   help="threads screening tracks at once, or with --engine dask the "
                        "workers of the local Dask cluster (default: one per core)")
    s.add_argument("--memory", default="2G", metavar="SIZE",
                   help="memory budget of the scan, e.g. 2G (default) or 512M: larger "
                        "inputs are partitioned on disk")
    from skyfence.incidents.session import STORE_HELP, add_store_options

    s.add_argument("--store", nargs="?", const="", metavar="PATH_OR_URL", help=STORE_HELP)
    _add_zone_options(s)
    s.set_defaults(func=_cmd_scan)

    w = sub.add_parser("watch", help="alert on entries in live feeds or replayed files")
    src = w.add_argument_group(
        "sources (at least one; each may repeat; live feeds and replays do not mix)")
    src.add_argument("--sbs", action="append", default=[], metavar="HOST:PORT",
                     help="SBS-1 BaseStation feed (port 30003)")
    src.add_argument("--beast", action="append", default=[], metavar="HOST:PORT",
                     help="Beast binary feed (port 30005)")
    src.add_argument("--raw", action="append", default=[], metavar="HOST:PORT",
                     help="raw hex Mode S feed (port 30002)")
    src.add_argument("--asterix-udp", action="append", default=[], metavar="[HOST:]PORT",
                     help="ASTERIX CAT048/CAT062 datagrams on UDP (needs --radar for CAT048)")
    src.add_argument("--replay", action="append", default=[], metavar="FILE",
                     help="replay a recorded file of any format")
    src.add_argument("--asterix", action="append", default=[], metavar="FILE",
                     help="replay an ASTERIX recording (raw blocks, pcap, pcapng)")
    w.add_argument("--radar", action="append", default=[],
                   metavar="SAC:SIC:LAT,LON[,ALT_M[,SIGMA_RANGE_M,SIGMA_AZIMUTH_DEG]]",
                   help="a radar site of the ASTERIX CAT048 input; repeat for each")
    w.add_argument("--date", metavar="YYYY-MM-DD",
                   help="UTC date of the first ASTERIX record (ASTERIX carries time of day)")
    w.add_argument("--speed", type=float, default=1.0, metavar="X",
                   help="replay at X times real time; 0 as fast as possible (default 1)")
    w.add_argument("--ref", metavar="LAT,LON",
                   help="receiver position for CPR decoding; positions more than 700 km "
                   "from it are left out as implausible")
    w.add_argument("--webhook", action="append", default=[], metavar="URL",
                   help="POST every event as JSON to URL (retried, never blocking); repeat")
    w.add_argument("--webhook-drain", type=float, default=10.0, metavar="S",
                   help="on stop, give queued webhook events up to S seconds to go out "
                        "(default 10); the rest are counted as undelivered")
    w.add_argument("--horizon", type=float, default=300.0, metavar="S",
                   help="warn of a predicted entry within S seconds (default 300; 0: off)")
    w.add_argument("--stats-every", type=float, default=60.0, metavar="S",
                   help="print a feed summary line every S seconds (default 60), "
                        "also while the feed is not connected")
    w.add_argument("--feed-idle", type=float, default=60.0, metavar="S",
                   help="reconnect a live feed that sends nothing for S seconds (a stalled "
                        "link; default 60; 0: never)")
    w.add_argument("--input-format", default="auto", metavar="FMT",
                   help="format of --replay: auto, csv, parquet, sbs, beast, raw")
    w.add_argument("--columns", metavar="MAP", help="column mapping of a tabular --replay file")
    add_store_options(w)
    _add_zone_options(w)
    w.set_defaults(func=_cmd_watch)

    z = sub.add_parser("zones", help="list or show the bundled national airspaces")
    zsub = z.add_subparsers(dest="zones_command", required=True, metavar="list|show")
    zl = zsub.add_parser("list", help="every national airspace")
    zl.set_defaults(func=_cmd_zones_list)
    zs = zsub.add_parser("show", help="one zone: name, area, bounds, vertices, source")
    zs.add_argument("zone", metavar="Z")
    zs.set_defaults(func=_cmd_zones_show)

    b = sub.add_parser("bench", help="measure our speed against a baseline in the same run")
    b.add_argument("name", choices=("lookup", "scan", "latency", "decode", "track", "memory",
                                    "soak", "serve"))
    b.add_argument("--json", action="store_true", help="one JSON object instead of a table")
    b.add_argument("--minutes", type=float, default=2.0, metavar="N",
                   help="soak: how long to run (default 2)")
    b.add_argument("--rate", type=float, default=50_000.0, metavar="PER_S",
                   help="soak: positions per second (default 50,000)")
    b.add_argument("--clients", type=int, default=50, metavar="N",
                   help="soak: browsers' event streams reading the web server (default 50; "
                        "0: watch alone)")
    b.set_defaults(func=_cmd_bench)

    pc = sub.add_parser("policy", help="check a policy file")
    pcs = pc.add_subparsers(dest="policy_command", required=True, metavar="check")
    pchk = pcs.add_parser("check", help="validate a policy file; exit 2 when invalid")
    pchk.add_argument("file")
    pchk.set_defaults(func=_cmd_policy_check)

    d = sub.add_parser("demo", help="scan the built-in sample, or run a built-in scenario")
    d.add_argument("scenario", nargs="?", default=None,
                   help="a built-in scenario name or a scenario YAML file")
    d.add_argument("--export", metavar="DIR",
                   help="write the scenario's inputs (radar.ast, adsb.csv, zones) to DIR with "
                        "the skyfence scan and watch commands that run them, instead")
    d.set_defaults(func=_cmd_demo)

    e = sub.add_parser("eval", help="score the pipeline against a scenario's ground truth")
    e.add_argument("scenario", help="a built-in scenario name, a YAML file, or 'all'")
    e.add_argument("--json", action="store_true", help="one JSON object (per scenario)")
    e.add_argument("--seed", type=int, default=None,
                   help="draw the noise, misses and clutter with this seed instead of the "
                        "scenario's (does the figure hold for other draws?)")
    e.set_defaults(func=_cmd_eval)

    from skyfence.evidence.commands import add_evidence_commands
    from skyfence.incidents.commands import add_incident_commands
    from skyfence.service.commands import add_service_commands

    add_evidence_commands(sub, lambda parser: _add_zone_options(parser, output=False))
    add_incident_commands(sub)
    add_service_commands(sub)
    return p


@contextlib.contextmanager
def _output(path: str | None, append: bool = False) -> Iterator[TextIO]:
    if path is None:
        yield sys.stdout
        return
    try:
        f = open(path, "a" if append else "w", encoding="utf-8", newline="")  # noqa: SIM115
    except OSError as exc:
        raise UsageError(f"-o {path}: cannot write ({exc.strerror})") from None
    with f:
        yield f


def _progress(enabled: bool) -> Any:
    """A rich progress counter on stderr, or a no-op."""
    if not enabled:
        return contextlib.nullcontext(None)
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    return Progress(SpinnerColumn(), TextColumn("{task.description}"),
                    TextColumn("{task.completed:,} positions"), TimeElapsedColumn(),
                    console=Console(stderr=True), transient=True)


def _scan_setup(args: argparse.Namespace) -> tuple[list[Any], Any, float]:
    from skyfence.airspace.zones import resolve_zones
    from skyfence.config import ScanConfig, load_config
    from skyfence.policy import Policy

    cfg = load_config(args.config) if args.config else ScanConfig()
    zones = resolve_zones(cfg.zones + args.zone, cfg.zones_files + args.zones_file,
                          cfg.circles + args.circle)
    policy = Policy.from_options(cfg.watch_states + args.watch_state, args.policy or cfg.policy)
    # --gap replaces the file's gap_s; 0 is a gap like any other (every fix its own track)
    if args.gap is not None:
        from skyfence.config import check_gap_s

        try:
            check_gap_s(args.gap)
        except ValueError as exc:
            raise UsageError(f"--gap {args.gap}: {exc}") from None
    gap = args.gap if args.gap is not None else (cfg.gap_s if cfg.gap_s is not None else 300.0)
    return zones, policy, gap


def _military_db(args: argparse.Namespace) -> Any:
    if not args.aircraft_db:
        return None
    from skyfence.identify.classify import load_aircraft_db

    return load_aircraft_db(args.aircraft_db)


def _cmd_scan(args: argparse.Namespace) -> int:
    from skyfence.incidents.formats import write_records
    from skyfence.radar import RadarSite
    from skyfence.scanning.budget import parse_memory
    from skyfence.scanning.engine import ScanOptions, scan_files
    from skyfence.scanning.inputs import expand_inputs
    from skyfence.sources.tabular import ColumnMap

    memory_mb = parse_memory(args.memory)
    zones, policy, gap = _scan_setup(args)
    cmap = ColumnMap.parse(args.columns) if args.columns else None
    paths = expand_inputs(args.inputs)
    _refuse_overwriting_inputs(args.output, [*paths, *_option_files(args)])
    if args.workers is not None and args.engine != "dask" and args.workers < 1:
        raise UsageError(f"--workers {args.workers}: at least 1 thread")
    with _progress(sys.stderr.isatty()) as prog:
        tick = None
        if prog is not None:
            task = prog.add_task("scanning", total=None)

            def tick(n: int) -> None:
                prog.advance(task, n)

        opts = ScanOptions(zones=zones, policy=policy, gap_s=gap, columns=cmap,
                           keep_path=args.format == "geojson", on_error=args.on_error,
                           progress=tick, military_db=_military_db(args),
                           input_format=args.input_format, ref=_latlon(args.ref, "--ref"),
                           radar_sites=[RadarSite.parse(r) for r in args.radar],
                           date=args.date, memory_mb=memory_mb, fuse=args.fuse,
                           workers=args.workers if args.engine == "local" else None)
        if args.engine == "dask":
            from skyfence.scanning.distributed import scan_dask

            if args.scheduler is not None:
                _check_scheduler(args.scheduler)
            result = scan_dask(paths, opts, scheduler=args.scheduler, workers=args.workers)
        else:
            if args.scheduler:
                raise UsageError("--scheduler needs --engine dask")
            result = scan_files(paths, opts)
    records = result.records if args.all_entries else _violations(result.records)
    with _output(args.output) as out:
        write_records(args.format, records, result.entries, out)
    if args.store is not None:  # the reported records, grouped into incidents
        from skyfence.incidents.session import store_scan

        print("skyfence: " + store_scan(args, zones=zones, policy=policy, gap_s=gap,
                                        paths=paths, records=records), file=sys.stderr)
    if result.rejects.count:
        print(f"skyfence: {result.rejects.summary()}; first: {result.rejects.examples[0]}",
              file=sys.stderr)
    if args.format == "table":
        nv = sum(r["violation"] for r in result.records)
        print(f"{result.positions:,} positions, {len(result.records)} entries, "
              f"{nv} violation(s) in {len(zones)} zone(s)", file=sys.stderr)
    return 0


def _option_files(args: argparse.Namespace) -> list[str]:
    """The files the zone, policy and config options name (all read by the command)."""
    return [f for f in (args.config, args.policy, args.aircraft_db, *args.zones_file) if f]


def _violations(records: Sequence[EntryRecord]) -> Sequence[EntryRecord]:
    """The records that are violations, in order: a spilled scan's as a view of its file
    (neither read nor held in memory), any other's as a list."""
    from skyfence.scanning.spill import SpilledRecords

    if isinstance(records, SpilledRecords):
        return records.violations()
    return [r for r in records if r["violation"]]


def _refuse_overwriting_inputs(output: str | None, inputs: Sequence[str | os.PathLike[str]]
                               ) -> None:
    """A usage error when ``-o`` names a file the command reads (the same file by path,
    symbolic or hard link): writing would destroy the input before or while reading it."""
    if output is None:
        return
    try:
        out = os.stat(output)
    except OSError:
        return  # does not exist yet: it cannot be an input
    for src in inputs:
        try:
            st = os.stat(src)
        except OSError:
            continue  # the reader reports a missing input
        if (st.st_dev, st.st_ino) == (out.st_dev, out.st_ino):
            raise UsageError(f"-o {output}: is also an input ({os.fspath(src)}); "
                             "refusing to overwrite it, choose another output file")


def _host_port(spec: str, option: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[IPv6]:PORT``; empty host: loopback) with a port in 1..65535.

    >>> _host_port("[::1]:30003", "--sbs")
    ('::1', 30003)
    """
    host, sep, port = spec.rpartition(":")
    if not sep or not port.isdigit():
        raise UsageError(f"{option} {spec}: expected HOST:PORT")
    if not 1 <= int(port) <= 65535:
        raise UsageError(f"{option} {spec}: port must be 1..65535")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host or "127.0.0.1", int(port)


def _seconds(value: float, option: str, *, positive: bool = False) -> float:
    """A finite number of seconds >= 0 (> 0 when ``positive``), else a usage error."""
    import math

    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        need = "a number > 0" if positive else "a number >= 0"
        raise UsageError(f"{option} {value}: expected {need}")
    return value


def _clients(n: int) -> int:
    """``bench soak --clients N``: 0..1000 event streams, else a usage error."""
    if not 0 <= n <= 1000:
        raise UsageError(f"--clients {n}: expected 0 to 1000")
    return n


def _webhook_url(url: str) -> str:
    """An http(s) URL with a host, else a usage error (not an event lost at run time)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--webhook {url}: expected an http:// or https:// URL")
    return url


def _latlon(spec: str | None, option: str) -> tuple[float, float] | None:
    if spec is None:
        return None
    try:
        lat, lon = (float(x) for x in spec.split(","))
    except ValueError:
        raise UsageError(f"{option} {spec}: expected LAT,LON") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise UsageError(f"{option} {spec}: not a valid position")
    return lat, lon


def _cmd_watch(args: argparse.Namespace) -> int:
    from skyfence.alerts.console import ConsoleSink, JsonlSink
    from skyfence.service.runner import check_sources, open_watch

    if args.format not in ("table", "jsonl"):
        raise UsageError(f"watch --format {args.format}: a live stream is written as "
                         "'table' or 'jsonl' (one event per line); use 'skyfence scan' "
                         f"for {args.format}")
    stats_every = _seconds(args.stats_every, "--stats-every", positive=True)
    _seconds(args.speed, "--speed")
    _seconds(args.horizon, "--horizon")
    drain_s = _seconds(args.webhook_drain, "--webhook-drain")
    dossier_drain_s = _seconds(args.dossier_drain, "--dossier-drain")
    _seconds(args.feed_idle, "--feed-idle")
    for u in args.webhook:
        _webhook_url(u)
    for kind in ("sbs", "beast", "raw"):
        for spec in getattr(args, kind):
            _host_port(spec, f"--{kind}")
    for spec in args.asterix_udp:
        _host_port(spec if ":" in spec else f":{spec}", "--asterix-udp")
    check_sources(args)
    _refuse_overwriting_inputs(args.output, [*args.replay, *args.asterix, *_option_files(args)])
    _log_to_stderr()
    # with a store, -o is appended to: a restart sends only what the last run had not
    with _output(args.output, append=args.store is not None) as out:
        sink = JsonlSink(out) if args.format == "jsonl" else ConsoleSink(out)
        service = open_watch(args, sink, stats_every=stats_every, drain_s=drain_s,
                             dossier_drain_s=dossier_drain_s)
        try:
            service.run()
        finally:  # every webhook event is accounted for, whatever ended the watch
            service.close()
    service.summary(hooks=False)
    return 0


class _StderrHandler(logging.StreamHandler):
    """Log records on whatever ``sys.stderr`` is when they are emitted."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def _log_to_stderr() -> None:
    """Warnings of skyfence's loggers (feed reconnects, webhook failures) on stderr,
    one line each, like the other messages."""
    logger = logging.getLogger("skyfence")
    if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("skyfence: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)


def _cmd_zones_list(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from skyfence.airspace.national import national_zones

    t = Table(title="National airspace (land + territorial sea, OpenStreetMap)")
    for c in ("code", "name", "vertices"):
        t.add_column(c)
    for code, z in sorted(national_zones().items()):
        t.add_row(code, z.name, f"{z.vertex_count:,}")
    Console(width=None if sys.stdout.isatty() else 120).print(t)
    return 0


def _cmd_zones_show(args: argparse.Namespace) -> int:
    from skyfence.airspace.national import SOURCE, find_national

    z = find_national(args.zone)
    x0, y0, x1, y1 = z.bounds
    print(f"zone      {z.code}")
    print(f"name      {z.name}")
    print("kind      national (land + internal waters + territorial sea)")
    print(f"area      {z.area_km2:,.0f} km²")
    print(f"bounds    lon {x0:.5f} .. {x1:.5f}, lat {y0:.5f} .. {y1:.5f}")
    print(f"vertices  {z.vertex_count:,}")
    print(f"source    {SOURCE.describe()}")
    return 0


def _cmd_policy_check(args: argparse.Namespace) -> int:
    from skyfence.policy import policy_check_main

    return policy_check_main(args.file)


#: a Dask scheduler address: [PROTOCOL://]HOST:PORT
_SCHEDULER = r"(?:[a-z][a-z0-9+.-]*://)?(?:\[[0-9A-Fa-f:.]+\]|[^\s:/\[\]]+):(\d{1,5})"


def _check_scheduler(spec: str) -> None:
    if spec.startswith("inproc://"):  # a scheduler inside this process (tests, notebooks)
        return
    import re

    m = re.fullmatch(_SCHEDULER, spec)
    if m is None or not 0 < int(m.group(1)) < 65536:
        raise UsageError(f"--scheduler {spec[:60]!r}: expected an address such as "
                         "tcp://HOST:8786")


#: optional package -> the extra that installs it
_EXTRA_OF = {"stonesoup": "bench", "rs1090": "feeds", "pyModeS": "feeds", "asterix": "radar",
             "dask": "dask", "distributed": "dask"}


#: benchmark -> (package, extra) its baselines need
_BENCH_NEEDS = {"track": (("stonesoup", "bench"),),
                "decode": (("pyModeS", "feeds"),)}


def _installed(package: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(package) is not None
    except (ImportError, ValueError):  # ValueError: a module set to None in sys.modules
        return False


def _cmd_bench(args: argparse.Namespace) -> int:
    import importlib
    import json

    from skyfence.benchmarks import render

    for package, extra in _BENCH_NEEDS.get(args.name, ()):
        if not _installed(package):
            raise UsageError(f"bench {args.name} needs {package}, which is not installed: "
                             f"pip install 'skyfence[{extra}]'")
    module = importlib.import_module(f"skyfence.benchmarks.{args.name}")
    kwargs: dict[str, Any] = {}
    if args.name == "soak":  # a sample line on stderr every 10 s while it runs
        kwargs = {"minutes": _seconds(args.minutes, "--minutes", positive=True),
                  "rate_per_s": _seconds(args.rate, "--rate", positive=True),
                  "clients": _clients(args.clients),
                  "progress": lambda line: print(f"skyfence: soak {line}", file=sys.stderr,
                                                 flush=True)}
    try:
        rec = module.run(json=args.json, **kwargs)
    except ImportError as exc:  # a baseline lives in an optional extra
        missing = (getattr(exc, "name", None) or "").split(".")[0]
        extra = _EXTRA_OF.get(missing, "bench")
        raise UsageError(f"bench {args.name} needs {missing or 'a package'}, which is not "
                         f"installed: pip install 'skyfence[{extra}]'") from None
    print(json.dumps(rec) if args.json else render(rec))
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    if args.export:
        if args.scenario is None:
            raise UsageError("demo --export needs a SCENARIO")
        from skyfence.scenarios import export_main

        return export_main(args.scenario, args.export)
    if args.scenario is None:
        from skyfence.demo import run_demo

        return run_demo()
    from skyfence.scenarios import demo_main

    return demo_main(args.scenario)


def _cmd_eval(args: argparse.Namespace) -> int:
    from skyfence.scenarios import eval_main

    return eval_main(args.scenario, args.json, seed=args.seed)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``skyfence`` command; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except SkyfenceError as exc:
        from skyfence.messages import one_line

        print(f"skyfence: error: {one_line(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("skyfence: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug: one line unless debugging
        if os.environ.get("SKYFENCE_DEBUG"):
            raise
        from skyfence.messages import one_line

        print(f"skyfence: internal error: {type(exc).__name__}: {one_line(str(exc), 300)} "
              "(set SKYFENCE_DEBUG=1 for a traceback)", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
