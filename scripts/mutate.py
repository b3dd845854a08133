"""Mutation testing of skyfence's core with mutmut: one group of modules at a time.

Why groups: mutmut collects, once per run, which test covers which function by running
its whole test selection, then runs only the covering tests for each mutant. On a small
shared machine the whole suite is far too slow for that first pass, so each group of
core modules names the few test files that are meant to catch its bugs. Each group runs
in its own copy of the tree under ``build/mutate/GROUP`` (mutmut writes ``mutants/``
beside the ``pyproject.toml`` it reads), so groups can run one after the other or side
by side and leave the work tree untouched.

Usage::

    python scripts/mutate.py                 # every group, one after the other
    python scripts/mutate.py tracking sbs    # some groups
    python scripts/mutate.py --list          # the groups, their modules and tests
    python scripts/mutate.py --report        # scores of the last runs, no new run
    python scripts/mutate.py --survivors sbs # the surviving mutants of a group, as diffs
    python scripts/mutate.py --again sbs     # after adding tests: re-test the survivors only
    python scripts/mutate.py --resume sbs    # finish an interrupted run, or re-run the
                                             # functions changed since (then --again)

The score of a module is killed / (killed + survived + no tests + timeouts counted as
killed): a mutant that no test runs counts against the module; mutants not run yet
(an interrupted run) or that mutmut calls suspicious are shown apart and not counted.
Mutants that cannot be killed (equivalent mutants) are listed in ``docs/mutation.md``
with the reason.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import fnmatch
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "build" / "mutate"


@dataclass(frozen=True)
class Group:
    """Modules mutated together and the tests that are meant to catch their bugs."""

    modules: tuple[str, ...]
    tests: tuple[str, ...]
    #: more pytest options for this group's runs (e.g. leaving out a slow test)
    pytest_args: tuple[str, ...] = ()
    #: run each mutant's tests in a process forked from mutmut's fork server (which never
    #: runs a test) instead of from mutmut's own process (which ran the stats and the
    #: clean tests, and keeps whatever they started)
    forkserver: bool = False


S = "src/skyfence/"
GROUPS: dict[str, Group] = {
    # where alarms come from: crossings of a boundary become entries
    # test_zone_pass_rules.py (since the seventeenth session): its turn tests are the ones
    # that read ``process``'s inside flags (the turn table's asked rows)
    "entries": Group(
        (S + "detect/crossings.py", S + "detect/entries.py"),
        ("tests/detect/test_entries.py", "tests/detect/test_entries_globe.py",
         "tests/detect/test_contract_cases.py", "tests/detect/test_zone_pass.py",
         "tests/detect/test_hand_built_batches.py", "tests/detect/test_contract_properties.py",
         "tests/detect/test_zone_pass_rules.py")),
    # factorize.py (since the sixteenth session): ``factorize_runs`` gives track_state.py
    # its track ids, callsigns and squawks as codes (and the readers theirs):
    # test_factorize.py compares it with pandas' own factorize. test_hand_built_batches.py
    # reads batches without the optional columns (track_state.py's missing-column paths)
    "detect": Group(
        (S + "detect/zone_pass.py", S + "detect/track_state.py", S + "detect/screen.py",
         S + "factorize.py"),
        ("tests/detect/test_entries.py", "tests/detect/test_zone_pass.py",
         "tests/detect/test_contract_cases.py", "tests/detect/test_entries_globe.py",
         "tests/airspace/test_antimeridian.py", "tests/detect/test_zone_pass_rules.py",
         "tests/test_factorize.py", "tests/detect/test_hand_built_batches.py")),
    # approach, loitering, went dark. test_went_dark.py (the coverage model learnt from
    # 640 generated tracks: 5-15 s a mutant) and test_went_dark_swiss_day.py (a day of
    # real traffic, 25 s) are left out: too slow for a mutant each;
    # test_went_dark_rules.py holds the went-dark rules on hand-built looks instead
    "early_warning": Group(
        (S + "detect/early_warning.py",),
        ("tests/detect/test_early_warning.py", "tests/detect/test_early_warning_rules.py",
         "tests/detect/test_went_dark_rules.py")),
    # the integrity screen: which fixes are left out as implausible (a wrong rejection
    # hides an incursion), and the per-run reductions an entry's facts come from
    "integrity": Group(
        (S + "detect/integrity.py", S + "detect/run_facts.py"),
        ("tests/detect/test_integrity.py", "tests/detect/test_run_facts.py",
         "tests/detect/test_integrity_traffic_sample.py", "tests/detect/test_integrity_walk.py",
         "tests/detect/test_integrity_rules.py", "tests/detect/test_integrity_geometry.py"),
        # test_scan_with_a_receiver_position_... runs ``skyfence scan`` on a dask cluster.
        # With mutmut's default isolation the stats and clean runs start dask in mutmut's
        # own process, and in every mutant's test process forked from it the scan's
        # compute waits for ever (Client.gather, no CPU): each mutant that passed every
        # faster test ran into the wall-clock timeout and counted as killed
        forkserver=True),
    # containment: is a point inside a zone, and where does a leg cross its edge
    # geodesy.py (since the sixteenth session): the geodesic, its cheap upper bound (the
    # boundary's ``_arc_upper_m`` until 67a4af3) and the radii of curvature the
    # boundary's distances and bounds are made of
    "boundary": Group(
        (S + "airspace/boundary.py", S + "airspace/geodesy.py"),
        ("tests/airspace/test_boundary.py", "tests/airspace/test_antimeridian.py",
         "tests/airspace/test_boundary_rules.py")),
    # the cache directory: zone indexes and distance fields written atomically, loaded
    # only when they match, and the directory kept within SKYFENCE_CACHE_MB (least
    # recently used first): a wrong answer here is a stale field or a lost index
    "cache": Group(
        (S + "airspace/cache_files.py", S + "airspace/depth_cache.py"),
        ("tests/airspace/test_cache_files.py", "tests/airspace/test_depth_cache.py")),
    "index": Group(
        (S + "airspace/index.py",),
        ("tests/airspace/test_index.py", "tests/airspace/test_index_cells.py",
         "tests/airspace/test_index_segments.py", "tests/airspace/test_antimeridian.py",
         "tests/airspace/test_index_rules.py"),
        # the whole-world comparison with GEOS takes minutes per mutant; the subset of
        # hard cases (enclaves, the antimeridian, overlapping custom zones) stays
        ("-m", "not slow")),
    # the assessor: an entry, its classification and the policy verdict become the record
    "assess": Group(
        (S + "incidents/assess.py", S + "incidents/record.py"),
        ("tests/incidents/test_record.py", "tests/service/test_watch_entry_fields.py",
         "tests/incidents/test_assess_rules.py", "tests/incidents/test_border_contact.py")),
    # grouping (rules 1-3, summaries) and the lifecycle (ack/close/reopen, notes, steps);
    # on SQLite only: the PostgreSQL runs of the same tests start a server per mutant.
    # test_escalation.py (the watcher's timers, 25 s a mutant) was in the first run only
    "incidents": Group(
        (S + "incidents/grouping.py", S + "incidents/lifecycle.py"),
        ("tests/incidents/test_grouping.py", "tests/incidents/test_grouping_rules.py",
         "tests/incidents/test_linking.py", "tests/incidents/test_lifecycle.py",
         "tests/incidents/test_incidents_cli.py"),
        ("-k", "not postgresql")),
    # the persistence path: nothing detected is lost, stored before it is alerted. The
    # store (open, migrate, insert_new), the writer (record_alert, store_records, one
    # entry into its incident), the recorder (the fixes dossiers need) and the journal
    # (a watcher's events committed, then queued; retries while the store is away).
    # Left out: timers.py (escalation: test_escalation.py, 25 s a mutant) and session.py
    # (the CLI's set-up of sinks and workers); on SQLite only, and without the tests
    # that run ``skyfence watch`` in a new interpreter (kill -9, the full disk, the
    # dossier worker): it imports the installed tree, not the mutant. Also left out (the
    # twelfth session): test_outbox.py (11 s of the selection's 33 s, mostly waiting on
    # the outbox's threads and a webhook receiver; it tests outbox.py's delivery, and the
    # rows it reads are pinned by test_persist_rules.py) and test_fault_units.py's sink
    # that goes down and back (1.4 s, the outbox's log lines): every surviving mutant of
    # a function each store test runs waited for them
    "persist": Group(
        (S + "incidents/store.py", S + "incidents/writer.py", S + "incidents/recorder.py",
         S + "incidents/journal.py"),
        ("tests/incidents/test_store_schema.py", "tests/incidents/test_recorder.py",
         "tests/incidents/test_grouping.py", "tests/incidents/test_linking.py",
         "tests/faults/test_fault_units.py", "tests/incidents/test_persist_rules.py",
         "tests/incidents/test_journal_advance.py", "tests/incidents/test_writer_rules.py",
         "tests/incidents/test_writer_entries.py"),
        ("-k", "not postgresql and not sink_down_then_back")),
    # the protocol timers (escalations) and the set-up of ``watch --store`` / ``scan
    # --store`` (options, sinks, journal, dossier worker, close), on hand-built stores and
    # stand-ins: test_escalation.py (whole watchers, 25 s a mutant) is left out
    "timers": Group(
        (S + "incidents/timers.py", S + "incidents/session.py"),
        ("tests/incidents/test_timers_rules.py", "tests/incidents/test_session_rules.py",
         "tests/incidents/test_journal_advance.py")),
    # reading the store (incident records, one incident's detail, its deepest point) and
    # ``skyfence incidents`` (list, export, show, ack/close/reopen, note, step); schema.py
    # is tables only, no function, so mutmut makes no mutant of it (module-level code is
    # not mutated) and test_store_schema.py checks it against the migrations. SQLite
    # only. Left out of test_incidents_cli.py: the early warnings stored by a watcher
    # (5.8 s), the store that stays away (5.7 s) and the live timers (2.3 s): they test
    # the watcher, the journal and timers.py, and run no code of these modules that the
    # other tests do not; test_dossier_store.py (10 s: ``watch`` and ``dossier build``)
    # too, its reading of the detail is pinned by test_queries_rules.py
    "queries": Group(
        (S + "incidents/queries.py", S + "incidents/commands.py", S + "incidents/schema.py"),
        ("tests/incidents/test_incidents_cli.py", "tests/incidents/test_store_schema.py",
         "tests/incidents/test_linking.py", "tests/incidents/test_grouping.py",
         "tests/incidents/test_queries_rules.py", "tests/incidents/test_commands_rules.py"),
        ("-k", "not postgresql and not early_warnings_are_stored and not stays_away"
               " and not live_timers")),
    # dossiers from the store (``dossier build ID --store``: the evidence of a watched or
    # a scanned incident, the zone it was detected in) and the watcher's background worker
    # (failures stored, a folder left by a build cut short moved aside). The watchers and
    # ``dossier build`` run in-process (``cli.main``), so they run the mutant; the worker's
    # thread is why the fork server: no test thread is left in mutmut's own process
    "dossiers": Group(
        (S + "incidents/dossiers.py",),
        ("tests/incidents/test_dossier_store.py", "tests/incidents/test_dossier_rules.py"),
        forkserver=True),
    # how records are written (JSON Lines as the contract fixes them, CSV, GeoJSON, the
    # table), read back from a scan's spill file in blocks
    "formats": Group(
        (S + "incidents/formats.py",),
        ("tests/incidents/test_table_format.py", "tests/scanning/test_spill.py",
         "tests/cli/test_scan_cli.py", "tests/cli/test_output_guard.py",
         "tests/incidents/test_format_rules.py")),
    # the coverage model went-dark warnings ask (cells, bands, evidence, decay, files)
    "coverage": Group(
        (S + "detect/coverage.py",),
        ("tests/detect/test_coverage.py", "tests/detect/test_went_dark_rules.py",
         "tests/detect/test_coverage_rules.py")),
    "policy": Group(
        (S + "policy.py", S + "policy_schema.py"),
        ("tests/policy",)),
    "sbs": Group(
        (S + "sources/sbs.py",),
        ("tests/sources/test_sbs_parser.py", "tests/sources/test_sbs_fast_path.py",
         "tests/sources/test_sbs_fields.py")),
    "beast": Group(
        (S + "sources/beast.py",),
        ("tests/sources/test_beast_framer.py",)),
    # two tests are left out (4.1 of the selection's 6.7 s): the script read from stdin
    # (2.9 s) decodes in a new interpreter, which imports skyfence from the installed
    # tree, not the mutant, and tests isolate.py's start of the decoder's worker; the UDP
    # loopback test (1.2 s, mostly its idle timeout) tests udp.py's socket loop and
    # compares with decode_asterix of the same bytes, mutant on both sides
    "asterix": Group(
        (S + "sources/asterix/records.py", S + "sources/asterix/blocks.py",
         S + "sources/asterix/convert.py"),
        ("tests/sources/test_asterix.py", "tests/sources/test_asterix_items.py",
         "tests/sources/test_asterix_cat062_items.py", "tests/sources/test_asterix_rules.py"),
        ("-k", "not script_read_from_stdin and not listen_udp"),
        # the decoder runs in a worker process (isolate.py) that the tests start. With
        # mutmut's default isolation its stats and clean runs start it in mutmut's own
        # process, and every mutant's forked test process inherits a pool with no thread
        # behind it (and a multiprocessing fork server that is not its child): decoding
        # hung until the timeout, so surviving mutants counted as killed
        forkserver=True),
    # the two dense-clutter tests (38 s and 11 s, the first file in collection order) are
    # left out: every mutant of the track score and the gate would wait for them
    "tracking": Group(
        (S + "tracking/association.py", S + "tracking/deletion.py", S + "tracking/filters.py",
         S + "tracking/initiation.py", S + "tracking/tracker.py"),
        ("tests/tracking",),
        ("-k", "not dense_clutter")),
    "fusion": Group(
        (S + "fusion/correlator.py",),
        ("tests/fusion",)),
    # each radar's range and azimuth bias against ADS-B: the registration and fusion
    # tests (7 s) and registration's rules on hand-built scenes (1 s)
    "registration": Group(
        (S + "tracking/registration.py",),
        ("tests/tracking/test_fusion_registration.py",
         "tests/tracking/test_registration_rules.py")),
    # the track-quality metrics (RMSE, OSPA) the tracking tests judge by: OSPA against
    # its definition (test_ospa.py, 0.5 s), truth_xy and score_tracks on hand-built
    # truth and tracks (test_metrics_rules.py, 1 s); test_tracker.py's simulated scenes,
    # which also score with metrics.py, take minutes
    "metrics": Group(
        (S + "tracking/metrics.py",),
        ("tests/tracking/test_ospa.py", "tests/tracking/test_metrics_rules.py")),
}

#: mutmut's exit codes per mutant (see ``mutmut.stats``): what counts as killed. -9 is
#: the kernel's SIGKILL at the hard CPU limit (mutmut sets it one second past the SIGXCPU
#: limit, so a mutant that ignores or outlives SIGXCPU ends there: a timeout, which mutmut
#: itself files as "segfault"); -11 a test process that crashed. Both are a test run that
#: does not pass, as a CI run would see it.
KILLED = {1, 3, 36, 37, -24, 24, 152, 255, -9, -11}
SURVIVED = {0}
NO_TESTS = {33, 5}


def _pyproject(group: Group) -> str:
    """The repo's pyproject.toml with a ``[tool.mutmut]`` section for ``group``."""
    text = (ROOT / "pyproject.toml").read_text()
    text = re.sub(r"\n\[tool\.mutmut\].*?(?=\n\[|\Z)", "\n", text, flags=re.S)

    def arr(items: tuple[str, ...] | list[str]) -> str:
        return "[" + ", ".join(json.dumps(i) for i in items) + "]"

    # no doctests of src (they are not in the selection), quiet, stop at the first failure
    args = ("-x", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", "-o", "addopts=",
            "-o", "timeout=0", *group.pytest_args)
    extra = ""
    if group.forkserver:
        args += ("-p", PLUGIN.stem)
        extra = f'process_isolation = "forkserver"\nalso_copy = ["{PLUGIN.name}"]\n'
    return text + (
        "\n[tool.mutmut]\n"
        'source_paths = ["src"]\n'
        f"only_mutate = {arr(group.modules)}\n"
        f"pytest_add_cli_args_test_selection = {arr(group.tests)}\n"
        f"pytest_add_cli_args = {arr(args)}\n"
        "timeout_multiplier = 5.0\n"
        "timeout_constant = 10.0\n"
    ) + extra


#: a pytest plugin for the groups run from mutmut's fork server (``Group.forkserver``)
PLUGIN = Path("mutate_plugin.py")
PLUGIN_TEXT = '''"""Put back Python's SIGINT handler in a mutant's test process.

mutmut's fork server ignores SIGINT (Ctrl-C is its parent's to handle) and the test
process forked from it inherits that; tests/conftest.py reports a test process whose
SIGINT is ignored after every test, so every mutant would count as killed.
"""

import signal


def pytest_configure(config: object) -> None:
    signal.signal(signal.SIGINT, signal.default_int_handler)
'''


def sandbox(name: str) -> Path:
    """A fresh copy of the sources and tests for one group's run."""
    group = GROUPS[name]
    box = WORK / name
    shutil.rmtree(box, ignore_errors=True)
    box.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis")
    shutil.copytree(ROOT / "src", box / "src", ignore=ignore)
    shutil.copytree(ROOT / "tests", box / "tests", ignore=ignore)
    (box / "pyproject.toml").write_text(_pyproject(group))
    if group.forkserver:
        (box / PLUGIN).write_text(PLUGIN_TEXT)
    return box


def run_group(name: str, max_children: int, only: list[str] | None = None) -> int:
    """Run mutmut on one group (``only``: just the mutants matching these patterns)."""
    box = sandbox(name)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    log = box / "mutmut.log"
    print(f"[{name}] mutating {len(GROUPS[name].modules)} module(s) in {box} (log {log})",
          flush=True)
    with log.open("w") as out:
        proc = subprocess.run([sys.executable, "-m", "mutmut", "run",
                               "--max-children", str(max_children), *(only or ())],
                              cwd=box, env=env, stdout=out, stderr=subprocess.STDOUT,
                              check=False)
    return proc.returncode


def _refresh(name: str, *, modules_too: bool = False) -> bool:
    """Bring a group's last run up to date with the tree, but for the mutated modules.

    Tests, the group's test selection and the modules not mutated are copied in again.
    A mutated module that changed since that run has other mutants: False (nothing
    copied), unless ``modules_too``: then it is copied in as well, and mutmut, which
    keeps a hash of every function, generates its mutants again and forgets the results
    of the functions that changed (only those).
    """
    box = WORK / name
    modules = set(GROUPS[name].modules)
    changed = [m for m in modules if (ROOT / m).read_bytes() != (box / m).read_bytes()]
    if changed and not modules_too:
        return False
    for m in changed:
        shutil.copy2(ROOT / m, box / m)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis")
    _carry_selection(name)
    for dest in (box, box / "mutants"):
        shutil.rmtree(dest / "tests", ignore_errors=True)
        shutil.copytree(ROOT / "tests", dest / "tests", ignore=ignore)
        for src in (ROOT / "src").rglob("*"):
            rel = src.relative_to(ROOT)
            if src.is_file() and "__pycache__" not in rel.parts and str(rel) not in modules:
                (dest / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dest / rel)
    return True


def resume_group(name: str, max_children: int) -> int:
    """Run the mutants of a group's last run that have no result yet, with the tree now.

    For an interrupted run, and after a mutated module changed: the mutants of the
    functions that changed are run again, the results of the others are kept (then
    ``--again`` re-tests the survivors with the tests added since).
    """
    box = WORK / name
    if not (box / "mutants").is_dir():
        print(f"[{name}] no previous run in {box}: run it first", file=sys.stderr)
        return 2
    _refresh(name, modules_too=True)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    print(f"[{name}] running the mutants without a result", flush=True)
    with (box / "mutmut-resume.log").open("w") as out:
        return subprocess.run([sys.executable, "-m", "mutmut", "run",
                               "--max-children", str(max_children)],
                              cwd=box, env=env, stdout=out, stderr=subprocess.STDOUT,
                              check=False).returncode


def _carry_selection(name: str) -> None:
    """Give a group's last run the group's current test selection (a test file added).

    mutmut resets every result, killed ones too, when the selection it was run with
    changes (it cannot know that files were only added); for re-testing survivors with
    added tests the old results hold, so the run's record of the selection (a hash of
    it, as mutmut computes it) is updated with it. Its new tests are then found as new
    and mapped to the functions they run.
    """
    box = WORK / name
    text = _pyproject(GROUPS[name])
    if (box / "pyproject.toml").read_text() == text:
        return
    (box / "pyproject.toml").write_text(text)
    stats = box / "mutants" / "mutmut-stats.json"
    if stats.exists():
        data = json.loads(stats.read_text())
        digest = hashlib.sha256(repr(tuple(GROUPS[name].tests)).encode()).hexdigest()[:12]
        data.setdefault("config_fingerprint", {})["test_selection"] = digest
        stats.write_text(json.dumps(data, indent=4))


def rerun_survivors(name: str, max_children: int, only: list[str] | None = None) -> int:
    """Re-test only the surviving and untested mutants of a group's last run.

    For adding tests: the new tests are copied into the run's tree, mutmut collects
    which function they cover, and only the mutants that were not killed are tried
    again (``only``: those whose names match one of these patterns, e.g.
    ``skyfence.policy.x__facts*``). Mutants killed before stay killed (tests were only
    added: a changed test can let one live again, which only a full run shows); when a
    mutated module changed since that run this refuses: ``--resume`` first.
    """
    box = WORK / name
    if not (box / "mutants").is_dir():
        print(f"[{name}] no previous run in {box}: run it first", file=sys.stderr)
        return 2
    names = [n for n in survivors(name)
             if not only or any(fnmatch.fnmatch(n, pat) for pat in only)]
    if not names:
        return 0
    if not _refresh(name):
        print(f"[{name}] a mutated module changed since the last run: --resume it (or run "
              "the group in full) first", file=sys.stderr)
        return 2
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    print(f"[{name}] re-testing {len(names)} surviving mutant(s) with the current tests",
          flush=True)
    # two passes: in the first, mutmut maps the new tests to functions while it runs,
    # and a mutant tried before its function's new tests were mapped can survive them
    code = 0
    with (box / "mutmut-again.log").open("w") as out:
        for _ in range(2):
            left = [n for n in survivors(name) if n in set(names)]
            if not left:
                break
            code = subprocess.run([sys.executable, "-m", "mutmut", "run",
                                   "--max-children", str(max_children), *left],
                                  cwd=box, env=env, stdout=out, stderr=subprocess.STDOUT,
                                  check=False).returncode
    return code


def scores(name: str) -> dict[str, dict[str, int]]:
    """Per module of a group: counts of killed, survived, no-test and other mutants."""
    out: dict[str, dict[str, int]] = {}
    box = WORK / name / "mutants"
    for module in GROUPS[name].modules:
        meta = box / (module + ".meta")
        counts = {"killed": 0, "survived": 0, "no_tests": 0, "not_run": 0}
        if meta.exists():
            codes = json.loads(meta.read_text()).get("exit_code_by_key", {})
            for code in codes.values():
                key = ("killed" if code in KILLED else "survived" if code in SURVIVED
                       else "no_tests" if code in NO_TESTS else "not_run")
                counts[key] += 1
        out[module] = counts
    return out


def survivors(name: str) -> list[str]:
    """Names of the surviving and untested mutants of a group."""
    box = WORK / name / "mutants"
    names = []
    for module in GROUPS[name].modules:
        meta = box / (module + ".meta")
        if meta.exists():
            codes = json.loads(meta.read_text()).get("exit_code_by_key", {})
            names += [k for k, c in codes.items() if c in SURVIVED or c in NO_TESTS]
    return sorted(names)


def report(names: list[str]) -> float:
    """Print the score table of ``names``; the overall share killed."""
    total_k = total = 0
    print(f"{'module':<44} {'killed':>7} {'surv.':>6} {'untest':>6} {'notrun':>6} {'score':>7}")
    for name in names:
        for module, c in scores(name).items():
            n = c["killed"] + c["survived"] + c["no_tests"]
            total_k += c["killed"]
            total += n
            pct = f"{100 * c['killed'] / n:6.1f}%" if n else "    -  "
            print(f"{module.removeprefix(S):<44} {c['killed']:>7} {c['survived']:>6} "
                  f"{c['no_tests']:>6} {c['not_run']:>6} {pct:>7}")
    share = total_k / total if total else 0.0
    print(f"{'all':<44} {total_k:>7} {'':>6} {'':>6} {'':>6} {100 * share:6.1f}%")
    return share


def _functions(path: Path) -> dict[str, str]:
    """Source of every function of a mutated file, by name (methods too)."""
    text = path.read_text()
    lines = text.splitlines()
    # slice by line numbers: ast.get_source_segment re-splits the whole (large) file per call
    return {node.name: "\n".join(lines[node.lineno - 1:node.end_lineno or node.lineno])
            for node in ast.walk(ast.parse(text))
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}


def mutant_diffs(name: str) -> list[tuple[str, list[str]]]:
    """(mutant, changed lines) of each surviving or untested mutant of a group."""
    box = WORK / name / "mutants"
    out = []
    for module in GROUPS[name].modules:
        meta = box / (module + ".meta")
        if not meta.exists():
            continue
        codes = json.loads(meta.read_text()).get("exit_code_by_key", {})
        funcs = _functions(box / module)
        for mutant, code in sorted(codes.items()):
            if code not in SURVIVED and code not in NO_TESTS:
                continue
            fn = mutant.rsplit(".", 1)[-1]
            orig = funcs.get(fn.rsplit("__mutmut_", 1)[0] + "__mutmut_orig", "")
            body = funcs.get(fn, "")
            lines = [ln for ln in difflib.unified_diff(
                orig.splitlines()[1:], body.splitlines()[1:], lineterm="", n=0)
                if ln[:1] in "+-" and not ln.startswith(("+++", "---"))]
            tag = "untested" if code in NO_TESTS else "survived"
            out.append((f"{mutant} ({tag})", lines))
    return out


def show_survivors(name: str) -> None:
    """Print each surviving (or untested) mutant of a group as the lines it changes."""
    for mutant, lines in mutant_diffs(name):
        print(mutant)
        for ln in lines:
            print("   ", ln.strip()[:160])


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("groups", nargs="*", help=f"groups to run (default all): {', '.join(GROUPS)}")
    ap.add_argument("--list", action="store_true", help="list the groups and exit")
    ap.add_argument("--report", action="store_true", help="print the last scores, run nothing")
    ap.add_argument("--survivors", action="store_true", help="print surviving mutants as diffs")
    ap.add_argument("--again", action="store_true",
                    help="re-test only the last run's survivors with the current tests")
    ap.add_argument("--resume", action="store_true",
                    help="run the last run's mutants that have no result (interrupted, or "
                         "in functions changed since), keeping the other results")
    ap.add_argument("--only", action="append", metavar="PATTERN",
                    help="only mutants matching this pattern (repeatable), e.g. "
                         "'skyfence.airspace.boundary.xǁBoundaryǁcrossings*'")
    ap.add_argument("--max-children", type=int, default=max(1, (os.cpu_count() or 2) - 1))
    args = ap.parse_args(argv)
    names = args.groups or list(GROUPS)
    unknown = [n for n in names if n not in GROUPS]
    if unknown:
        print(f"unknown group(s): {', '.join(unknown)}; known: {', '.join(GROUPS)}",
              file=sys.stderr)
        return 2
    if args.list:
        for n in names:
            g = GROUPS[n]
            extra = f" {' '.join(g.pytest_args)}" if g.pytest_args else ""
            print(f"{n}: {' '.join(g.modules)}\n    tests: {' '.join(g.tests)}{extra}")
        return 0
    if args.survivors:
        for n in names:
            show_survivors(n)
        return 0
    if not args.report:
        for n in names:
            code = (rerun_survivors(n, args.max_children, args.only) if args.again
                    else resume_group(n, args.max_children) if args.resume
                    else run_group(n, args.max_children, args.only))
            if code != 0:
                print(f"[{n}] mutmut exited {code}: see {WORK / n / 'mutmut.log'}",
                      file=sys.stderr)
    report(names)
    return 0


if __name__ == "__main__":
    sys.exit(main())
