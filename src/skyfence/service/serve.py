"""``skyfence serve``: the watch of a configuration file, plus the web server.

One process: :func:`~skyfence.service.runner.open_watch` assembles the same watch as
``skyfence watch`` (sources, zones, policy, store, outbox, dossiers) with two more
sinks: the current picture (fed by every batch the detector screens) and the event
streams of the browsers (fed by each incident event once the store committed it). The
watch runs in a thread; uvicorn serves :func:`~skyfence.service.app.create_app` in the
main thread and stops both on Ctrl-C or SIGTERM.

``--demo`` serves a built-in scenario (``vaindloo-2025-09-19`` by default) replayed in
a loop at 10 x real time, with its own store, signing key and dossiers under the user
data directory (``serve-demo/``), so that a newcomer sees a live incursion at once.

No default password: when the store has no admin yet, a one-time setup token is made
and printed with the address to open (or ``skyfence users add NAME --role admin``
creates one beforehand).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Any

from skyfence.errors import UsageError

__all__ = ["DEMO_SCENARIO", "build_state", "demo_config", "serve_main"]

log = logging.getLogger(__name__)

DEMO_SCENARIO = "vaindloo-2025-09-19"
DEMO_SPEED = 10.0


def demo_dir() -> Path:
    """Where ``--demo`` keeps its store, key and dossiers."""
    env = os.environ.get("SKYFENCE_DEMO_DIR")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_data_dir("skyfence")) / "serve-demo"


def demo_config(base: Any = None, scenario: str = DEMO_SCENARIO,
                speed: float = DEMO_SPEED) -> Any:
    """A serve configuration replaying ``scenario`` in a loop (its inputs exported as
    files, as ``skyfence demo NAME --export DIR`` writes them); ``base`` (a loaded
    configuration) gives host, port, auth and store when set."""
    from skyfence.evidence.keys import init_keys
    from skyfence.scenarios.catalog import get_scenario
    from skyfence.scenarios.export import export_scenario
    from skyfence.scenarios.generate import generate
    from skyfence.service.config import Sensor, ServeConfig, SourcesConfig

    root = demo_dir()
    inputs = root / "inputs" / scenario
    sc = get_scenario(scenario)
    exported = export_scenario(generate(sc), inputs)
    opts = list(exported.options)
    zones, files, states, radar, date, policy = [], [], [], [], None, None
    for opt, val in zip(opts[::2], opts[1::2], strict=True):
        if opt == "--zone":
            zones.append(val)
        elif opt == "--zones-file":
            files.append(val)
        elif opt == "--watch-state":
            states.append(val)
        elif opt == "--radar":
            radar.append(val)
        elif opt == "--date":
            date = val
        elif opt == "--policy":
            policy = val
    keys = root / "keys"
    if not any(keys.glob("*.key")):
        init_keys(keys)
    sensors = [Sensor(name=r.name, lat=r.lat, lon=r.lon, range_km=r.range_km)
               for r in sc.radars]
    cfg = base if base is not None else ServeConfig()
    return cfg.model_copy(update={
        "store": cfg.store if base is not None and cfg.store else str(root / "demo.sqlite"),
        "zones": zones, "zones_files": files, "circles": [], "watch_states": states,
        "policy": policy, "title": f"skyfence demo: {sc.title}",
        "sources": SourcesConfig(
            replay=[str(exported.adsb)] if exported.adsb else [],
            asterix=[str(exported.radar)] if exported.radar else [],
            radar=radar, date=date, speed=speed, loop=True),
        "sensors": [*cfg.sensors, *sensors],
        "dossiers": cfg.dossiers.model_copy(update={"dir": str(root / "dossiers"),
                                                    "key_dir": str(keys)}),
    })


def build_state(cfg: Any, *, out: Any = None) -> Any:
    """The watch of ``cfg`` assembled, and the web server's shared state over it."""
    from skyfence.alerts.console import ConsoleSink
    from skyfence.cli import _log_to_stderr, _scan_setup
    from skyfence.service import auth
    from skyfence.service.app import ServeState
    from skyfence.service.auth import LoginLimiter, SessionKeys
    from skyfence.service.picture import Picture
    from skyfence.service.runner import check_sources, open_watch

    args = cfg.watch_args()
    check_sources(args)
    _log_to_stderr()
    zones, _, gap = _scan_setup(args)
    picture = Picture(forget_after_s=gap if gap > 0 else 300.0, trail_s=cfg.picture.trail_s)
    holder: dict[str, Any] = {}

    def to_state(event: dict[str, Any]) -> None:
        holder["state"].on_event(event)

    service = open_watch(args, ConsoleSink(out or sys.stdout), stats_every=60.0, drain_s=10.0,
                         dossier_drain_s=30.0, extra_sinks=[to_state], on_batch=picture.update,
                         loop=cfg.sources.loop)
    store = service.session.store
    key = None
    if cfg.auth.key_file:
        try:
            key = Path(cfg.auth.key_file).read_bytes().strip()
        except OSError as exc:
            raise UsageError(f"auth.key_file {cfg.auth.key_file}: cannot read "
                             f"({exc.strerror})") from None
        if len(key) < 32:
            raise UsageError(f"auth.key_file {cfg.auth.key_file}: at least 32 bytes needed")
    state = ServeState(
        config=cfg, store=store, zones=zones, picture=picture, service=service,
        keys=SessionKeys(key, ttl_s=cfg.auth.session_ttl_s),
        limiter=LoginLimiter(cfg.auth.login_attempts, cfg.auth.login_window_s),
        setup_token=None if auth.has_admin(store) else auth.setup_token())
    holder["state"] = state
    return state


def serve_main(config: str | None, demo: bool, host: str | None, port: int | None) -> int:
    """``skyfence serve``: run until Ctrl-C or SIGTERM."""
    import uvicorn

    from skyfence.service.app import create_app
    from skyfence.service.config import ServeConfig, load_serve_config

    if config is None and not demo:
        raise UsageError("serve needs --config FILE.yaml or --demo")
    cfg = load_serve_config(config) if config else None
    if demo:
        print(f"skyfence: preparing the demo ({DEMO_SCENARIO}, looped at {DEMO_SPEED:g} x "
              "real time) ...", file=sys.stderr, flush=True)
        cfg = demo_config(cfg)
    assert isinstance(cfg, ServeConfig)
    upd: dict[str, Any] = {}
    if host is not None:
        upd["host"] = host
    if port is not None:
        if not 1 <= port <= 65535:
            raise UsageError(f"--port {port}: must be 1..65535")
        upd["port"] = port
    cfg = cfg.model_copy(update=upd)
    # the web server's loop and the pipeline's thread share the GIL: each socket write
    # of the loop gives the GIL up, and getting it back while the pipeline computes
    # waits up to the switch interval (5 ms by default; a convoy over hundreds of
    # clients). A shorter interval keeps the pushes prompt (skyfence bench serve).
    sys.setswitchinterval(float(os.environ.get("SKYFENCE_SWITCH_INTERVAL", "0.0005")))
    state = build_state(cfg)
    _check_web_assets(state.static_dir)
    address = _address(cfg.host, cfg.port)
    print(f"skyfence: serving on {address} (store {state.store.shown})", file=sys.stderr,
          flush=True)
    if state.setup_token is not None:
        print(f"skyfence: no admin yet: open {address}/#setup={state.setup_token} to create "
              "one (this link works once), or run 'skyfence users add NAME --role admin'",
              file=sys.stderr, flush=True)
    server = uvicorn.Server(uvicorn.Config(create_app(state), host=cfg.host, port=cfg.port,
                                           log_level="warning", access_log=False,
                                           timeout_graceful_shutdown=2))
    server.run()
    if state.pipeline_error:
        print(f"skyfence: the pipeline had stopped: {state.pipeline_error}", file=sys.stderr)
        return 1
    return 0


def _address(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    if host in ("0.0.0.0", "::"):
        shown = "127.0.0.1"
    return f"http://{shown}:{port}"


def _check_web_assets(static: Path) -> None:
    """Warn (not fail: the API works without them) when the vendored front-end packages
    are missing."""
    if not (static / "vendor" / "maplibre-gl.mjs").is_file():
        print("skyfence: warning: the web page's map library is missing "
              f"({static / 'vendor'}); run 'make web' (scripts/vendor-web.sh)",
              file=sys.stderr)


def add_serve_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``skyfence serve``."""
    p.add_argument("--config", metavar="FILE.yaml", help="sources, zones, policy, store, auth")
    p.add_argument("--demo", action="store_true",
                   help=f"replay the built-in scenario {DEMO_SCENARIO} in a loop")
    p.add_argument("--host", metavar="H", help="listen address (default 127.0.0.1)")
    p.add_argument("--port", type=int, metavar="P", help="port (default 8080)")
