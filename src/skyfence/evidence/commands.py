"""``skyfence keys``, ``skyfence dossier`` and ``skyfence log``: parsers and handlers.

::

    skyfence keys init|show [--dir DIR]
    skyfence dossier build (INCIDENT_ID [--store S] | --scan FILE... [zone options] --track ID
                            | --scenario NAME --track ID) [--key-dir DIR] [--log DIR] -o DIR
    skyfence dossier verify DIR|ZIP [--key FILE.pub] [--log DIR]
    skyfence log show [--log DIR]
    skyfence log prove INDEX [--size N] [--log DIR]
    skyfence log consistency OLD [NEW] [--log DIR]

Handlers return the exit code; errors are :class:`~skyfence.errors.SkyfenceError`.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from skyfence.errors import UsageError

__all__ = ["add_evidence_commands"]


def add_evidence_commands(
    sub: Any, add_zone_options: Callable[[argparse.ArgumentParser], None]
) -> None:
    """Register the keys, dossier and log subcommands on ``sub``."""
    k = sub.add_parser("keys", help="create or show the station's signing key")
    ksub = k.add_subparsers(dest="keys_command", required=True, metavar="init|show")
    for name, func, text in (("init", _cmd_keys_init, "create a new Ed25519 key pair"),
                             ("show", _cmd_keys_show, "list the keys in the key directory")):
        kp = ksub.add_parser(name, help=text)
        kp.add_argument("--dir", metavar="DIR",
                        help="key directory (default: $SKYFENCE_KEY_DIR or "
                             "~/.config/skyfence/keys)")
        kp.set_defaults(func=func)

    d = sub.add_parser("dossier", help="build or verify a signed evidence dossier")
    dsub = d.add_subparsers(dest="dossier_command", required=True, metavar="build|verify")
    b = dsub.add_parser("build", help="build the dossier of one incident")
    b.add_argument("incident", nargs="?", metavar="INCIDENT_ID",
                   help="the incident record's id (as `skyfence scan --format jsonl` prints)")
    b.add_argument("--scan", nargs="+", metavar="FILE", help="input files to scan")
    b.add_argument("--scenario", metavar="NAME",
                   help="a built-in scenario (simulated data; the dossier says so)")
    b.add_argument("--track", metavar="ID", help="the track whose entry to document")
    b.add_argument("--store", nargs="?", const="", metavar="PATH_OR_URL",
                   help="find INCIDENT_ID in this incident store (an incident id documents "
                        "its deepest entry; an entry id that entry)")
    b.add_argument("--key-dir", metavar="DIR", help="signing key directory (or .key file)")
    b.add_argument("--log", metavar="DIR", help="station log directory "
                                                "(default: $SKYFENCE_LOG_DIR or "
                                                "~/.local/share/skyfence/log)")
    b.add_argument("-o", "--output", required=True, metavar="DIR",
                   help="new directory for the dossier (DIR.zip is written beside it)")
    i = b.add_argument_group("input (as for scan)")
    i.add_argument("--columns", metavar="MAP", help="column mapping SRC=FIELD[:UNIT],...")
    i.add_argument("--on-error", choices=("abort", "skip"), default="abort")
    i.add_argument("--input-format", default="auto", metavar="FMT")
    i.add_argument("--radar", action="append", default=[], metavar="SAC:SIC:LAT,LON[,ALT_M]")
    i.add_argument("--date", metavar="YYYY-MM-DD")
    i.add_argument("--ref", metavar="LAT,LON")
    add_zone_options(b)
    b.set_defaults(func=_cmd_dossier_build)

    v = dsub.add_parser("verify", help="check a dossier: hashes, signature, log proof, and "
                                       "re-derive the claim")
    v.add_argument("path", metavar="DIR", help="dossier folder or .zip")
    v.add_argument("--key", metavar="FILE.pub|DIR",
                   help="the station's public key to require (a .pub file, or a directory "
                        "of published keys: the one that signed is required)")
    v.add_argument("--log", metavar="DIR", help="also check the station log in DIR")
    v.set_defaults(func=_cmd_dossier_verify)

    lg = sub.add_parser("log", help="the station's Merkle log of dossiers")
    lsub = lg.add_subparsers(dest="log_command", required=True, metavar="show|prove|consistency")
    ls = lsub.add_parser("show", help="size, root, checkpoint and entries; checks the log")
    lp = lsub.add_parser("prove", help="inclusion proof of entry INDEX (0-based)")
    lp.add_argument("index", type=int, metavar="INDEX")
    lp.add_argument("--size", type=int, metavar="N", help="tree size (default: current)")
    lc = lsub.add_parser("consistency", help="consistency proof between two tree sizes")
    lc.add_argument("old", type=int, metavar="OLD")
    lc.add_argument("new", type=int, nargs="?", metavar="NEW")
    for p, func in ((ls, _cmd_log_show), (lp, _cmd_log_prove), (lc, _cmd_log_consistency)):
        p.add_argument("--log", metavar="DIR", help="station log directory")
        p.set_defaults(func=func)


# ----------------------------------------------------------------------------- keys
def _cmd_keys_init(args: argparse.Namespace) -> int:
    from skyfence.evidence.keys import PRIVATE_SUFFIX, PUBLIC_SUFFIX, init_keys

    key = init_keys(args.dir)
    assert key.path is not None
    d = key.path.parent
    print(f"key id       {key.key_id}")
    print(f"public key   {d / (key.key_id + PUBLIC_SUFFIX)}   (publish it: verifiers need it)")
    print(f"private key  {d / (key.key_id + PRIVATE_SUFFIX)}   (mode 0600; keep it secret)")
    return 0


def _cmd_keys_show(args: argparse.Namespace) -> int:
    from skyfence.evidence.keys import default_key_dir, list_public_keys

    d = Path(args.dir) if args.dir else default_key_dir()
    keys = list_public_keys(d)
    if not keys:
        raise UsageError(f"no keys in {d}: create one with `skyfence keys init --dir {d}`")
    for kid, pub, private in keys:
        print(f"{kid}  {pub}  {'signing key present' if private else 'public key only'}")
        print(pub.read_text(encoding="ascii").rstrip())
    return 0


# -------------------------------------------------------------------------- dossier
def _cmd_dossier_build(args: argparse.Namespace) -> int:
    from skyfence.evidence.dossier import build_dossier
    from skyfence.evidence.keys import load_signing_key
    from skyfence.evidence.log import StationLog
    from skyfence.evidence.sources import evidence_from_scan, evidence_from_scenario

    command = shlex.join(["skyfence", *sys.argv[1:]]) if sys.argv[1:] else None
    if args.scan and args.scenario:
        raise UsageError("give --scan FILE... or --scenario NAME, not both")
    if args.incident is None and args.track is None:
        raise UsageError("give INCIDENT_ID or --track ID")
    key = load_signing_key(args.key_dir)  # fail early, before the scan
    if args.store is not None and (args.scan or args.scenario):
        raise UsageError("give INCIDENT_ID --store S, or --scan/--scenario, not both")
    if args.store is not None or (args.incident and not (args.scan or args.scenario)):
        from skyfence.incidents.dossiers import evidence_from_store
        from skyfence.incidents.store import IncidentStore

        if args.incident is None:
            raise UsageError("--store needs INCIDENT_ID")
        # an incident id alone is looked up in the store (the user's, without --store)
        with IncidentStore.open(args.store or None) as store:
            evidence = evidence_from_store(store, args.incident, command=command)
    elif args.scenario:
        evidence = evidence_from_scenario(args.scenario, incident_id=args.incident,
                                          track=args.track, command=command)
    elif args.scan:
        paths, opts = _scan_options(args)
        evidence = evidence_from_scan(paths, opts, incident_id=args.incident, track=args.track,
                                      command=command,
                                      aircraft_db=Path(args.aircraft_db) if args.aircraft_db
                                      else None)
    else:
        raise UsageError("give an INCIDENT_ID of the incident store (--store S), or the scan "
                         "it comes from as --scan FILE... [zone options] (or --scenario NAME)")
    d = build_dossier(evidence, args.output, key, StationLog(args.log))
    rec = evidence.record
    print(f"dossier {d.path} (and {d.zip_path.name}): {rec['track']} in {rec['zone']} "
          f"{rec['entered_at']} to {rec['exited_at'] or 'still inside'}, "
          f"{rec['max_depth_m']:,.1f} m deep")
    print(f"signed by key {key.key_id}; logged as entry {d.receipt['index']} of "
          f"{d.receipt['origin']} (tree size {d.receipt['tree_size']})")
    return 0


def _scan_options(args: argparse.Namespace) -> tuple[list[Path], Any]:
    from skyfence.cli import _latlon, _military_db, _scan_setup
    from skyfence.radar import RadarSite
    from skyfence.scanning.engine import ScanOptions
    from skyfence.scanning.inputs import expand_inputs
    from skyfence.sources.tabular import ColumnMap

    zones, policy, gap = _scan_setup(args)
    opts = ScanOptions(zones=zones, policy=policy, gap_s=gap,
                       columns=ColumnMap.parse(args.columns) if args.columns else None,
                       on_error=args.on_error, military_db=_military_db(args),
                       input_format=args.input_format, ref=_latlon(args.ref, "--ref"),
                       radar_sites=[RadarSite.parse(r) for r in args.radar], date=args.date)
    return expand_inputs(args.scan), opts


def _cmd_dossier_verify(args: argparse.Namespace) -> int:
    from skyfence.evidence.log import StationLog
    from skyfence.evidence.verify import verify_dossier

    res = verify_dossier(args.path, args.key, StationLog(args.log) if args.log else None)
    print(res.render())
    return 0 if res.ok else 1


# ------------------------------------------------------------------------------ log
def _log(args: argparse.Namespace) -> Any:
    from skyfence.evidence.log import StationLog

    return StationLog(args.log)


def _cmd_log_show(args: argparse.Namespace) -> int:
    slog = _log(args)
    entries = slog.entries()
    cp = slog.checkpoint()
    print(f"log       {slog.dir}")
    print(f"origin    {slog.origin}")
    print(f"key       {slog.config['key_id']}")
    print(f"entries   {len(entries)}")
    print(f"root      {slog.root().hex()}")
    if cp is not None:
        print("checkpoint (newest, signed):")
        print("  " + cp.text.rstrip().replace("\n", "\n  "))
    for e in entries[-20:]:
        what = ", ".join(f"{k} {v}" for k, v in sorted(e.meta.items()))
        print(f"  #{e.index:<5} {e.logged_at}  {e.data.hex()[:16]}...  {what}")
    problems = slog.problems()
    for p in problems:
        print(f"skyfence: log: {p}", file=sys.stderr)
    return 1 if problems else 0


def _cmd_log_prove(args: argparse.Namespace) -> int:
    from skyfence.evidence import merkle

    slog = _log(args)
    leaves = slog.leaf_hashes()
    size = args.size if args.size is not None else len(leaves)
    proof = slog.inclusion(args.index, size)
    root = merkle.tree_root(leaves[:size])
    ok = merkle.verify_inclusion(args.index, size, leaves[args.index], proof, root)
    print(json.dumps({"origin": slog.origin, "index": args.index, "tree_size": size,
                      "leaf_hash": leaves[args.index].hex(), "root": root.hex(),
                      "inclusion_proof": [p.hex() for p in proof], "verified": ok}, indent=2))
    return 0 if ok else 1


def _cmd_log_consistency(args: argparse.Namespace) -> int:
    from skyfence.evidence import merkle

    slog = _log(args)
    leaves = slog.leaf_hashes()
    new = args.new if args.new is not None else len(leaves)
    proof = slog.consistency(args.old, new)
    old_root, new_root = merkle.tree_root(leaves[:args.old]), merkle.tree_root(leaves[:new])
    ok = merkle.verify_consistency(args.old, new, old_root, new_root, proof)
    signed = {}
    for size, root in ((args.old, old_root), (new, new_root)):
        cp = slog.checkpoint(size)
        signed[str(size)] = None if cp is None else (cp.root == root)
    print(json.dumps({"origin": slog.origin, "old_size": args.old, "new_size": new,
                      "old_root": old_root.hex(), "new_root": new_root.hex(),
                      "consistency_proof": [p.hex() for p in proof], "verified": ok,
                      "matches_signed_checkpoint": signed}, indent=2))
    return 0 if ok and all(v is not False for v in signed.values()) else 1
