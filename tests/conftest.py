"""What every test gets: its own data and cache homes, and a logger no earlier command has
set up; Ctrl-C as a terminal gives it; the built-in scenarios run once; and, under ``make test``'s
two pytest-xdist workers, the grouping and turn-taking that keep that true."""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import json
import logging
import os
import signal
import tempfile
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

#: the default incident store, keys and station log live under ``$XDG_DATA_HOME/skyfence``;
#: the suite (and every command it starts) uses a fresh one, never the user's
os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="skyfence-test-data-")


def _test_cache_home() -> str:
    """The zone-index cache (``$XDG_CACHE_HOME/skyfence``) of this test run, never the
    user's. The controller of an xdist run makes it before it starts the workers, which
    inherit it: the world index is built once per run, not once per worker."""
    inherited = os.environ.get("XDG_CACHE_HOME", "")
    if os.environ.get("PYTEST_XDIST_WORKER") and "skyfence-test-cache-" in inherited:
        return inherited
    return tempfile.mkdtemp(prefix="skyfence-test-cache-")


os.environ["XDG_CACHE_HOME"] = _TEST_CACHE_HOME = _test_cache_home()
# the `traffic` package makes its cache directory under it when imported, with a check
# then a plain mkdir: two workers importing it at once on a fresh cache home raced, and
# one failed with FileExistsError (seen once in a full run). Made here, before any worker
os.makedirs(os.path.join(_TEST_CACHE_HOME, "traffic"), exist_ok=True)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Remove the run's cache home (the zone indexes, tens of MB) when the run ends:
    in the controller or a lone process, once every worker is done with it."""
    if os.environ.get("PYTEST_XDIST_WORKER") is None:
        import shutil

        shutil.rmtree(_TEST_CACHE_HOME, ignore_errors=True)


@pytest.fixture(autouse=True)
def _fresh_skyfence_logger() -> Iterator[None]:
    """``skyfence watch`` adds a stderr handler to the ``skyfence`` logger, as a process
    would once; in one test process it would otherwise print into later commands."""
    logger = logging.getLogger("skyfence")
    handlers, level = list(logger.handlers), logger.level
    yield
    logger.handlers[:] = handlers
    logger.setLevel(level)


def _sigint_unlike_a_terminal() -> str | None:
    """Why a child started now would not get Ctrl-C as a command typed at a terminal
    does, or None. A child inherits its parent's (the calling thread's) signal mask and
    its ignored signals; Python's own handler is not inherited (exec resets it), but in
    this process it must be the default one for Ctrl-C to stop a test run."""
    if signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, []):
        return "SIGINT is blocked in the main thread"
    handler = signal.getsignal(signal.SIGINT)
    if handler is not signal.default_int_handler:
        return f"SIGINT's handler is {handler!r}, not Python's default"
    with open("/proc/self/status") as status:  # ignored at the C level, which Python
        for line in status:                    # would not see
            if line.startswith("SigIgn:") and int(line.split()[1], 16) >> (
                    signal.SIGINT - 1) & 1:
                return "SIGINT is ignored (SIG_IGN) in the process"
    return None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, None, None]:
    """After each test (its fixtures torn down): Ctrl-C still reaches the test process and
    every command a later test starts. A test that leaves SIGINT blocked, ignored or
    handled otherwise fails here, naming what it left, and the default is put back so
    that the tests after it are not affected."""
    result = yield
    wrong = _sigint_unlike_a_terminal()
    if wrong is not None:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        signal.signal(signal.SIGINT, signal.default_int_handler)
        raise AssertionError(f"{item.nodeid} left the test process unlike a terminal's "
                             f"for Ctrl-C: {wrong}")
    return result


def _one_run_per_builtin_scenario() -> None:
    """Each built-in scenario goes through the pipeline once per test run.

    Several tests (the targets, the exported files, the re-derived evidence, the README's
    ``demo`` examples) score or print the same built-in scenario with default options; a
    run is deterministic (``test_scenario_pipeline`` checks that), so they share the first
    run's result instead of repeating minutes of work. Anything else (a changed scenario,
    a policy or fusion option) runs as usual. The shared results are read only: nothing
    in the scenario code assigns to a result after ``run_scenario`` returns it. Patched
    here, at import, so that test modules importing ``run_scenario`` get this one.
    Commands run in child processes (``eval all``'s workers) run their own.
    """
    import skyfence.scenarios as scenarios
    import skyfence.scenarios.commands as commands
    import skyfence.scenarios.evaluate as evaluate
    from skyfence.scenarios.catalog import builtin_names, get_scenario
    from skyfence.scenarios.pipeline import ScenarioResult, run_scenario

    builtin = {get_scenario(n) for n in builtin_names()}
    done: dict[object, ScenarioResult] = {}

    def run_once(name_or_path: Any, **options: Any) -> ScenarioResult:
        sc = get_scenario(name_or_path)
        if options or sc not in builtin:
            return run_scenario(sc, **options)
        if sc not in done:
            done[sc] = run_scenario(sc)
        return done[sc]

    for module in (scenarios, commands, evaluate):
        module.run_scenario = run_once  # type: ignore[attr-defined]


_one_run_per_builtin_scenario()


# ---------------------------------------------------------------- two workers (pytest-xdist)

#: lock files shared by the pytest-xdist workers of one run (made by the first process
#: that imports this file, the controller, and inherited by the workers it starts)
_LOCKS = Path(os.environ.setdefault("SKYFENCE_TEST_LOCKS",
                                    tempfile.mkdtemp(prefix="skyfence-test-locks-")))


def _xdist_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


#: the groups of the tests by id, written by the workers as they collect and read by the
#: scheduler in the controller (pytest-xdist's own ``xdist_group`` marks do not reach
#: pytest 9's test ids)
_GROUPS = _LOCKS / "groups.json"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In ``make test``'s two workers: the tests of one file form a group (its module
    fixtures are built once), and the tests that read the built-in scenarios' shared runs
    (marked ``builtin_scenarios``) one group, first, so that each scenario still goes
    through the pipeline once and the longest group does not start last. A group runs in
    one worker (:func:`pytest_xdist_make_scheduler`)."""
    if not _xdist_worker(config):
        return
    items.sort(key=lambda it: it.get_closest_marker("builtin_scenarios") is None)
    groups = {it.nodeid: "builtin-scenarios" if it.get_closest_marker("builtin_scenarios")
              else it.nodeid.split("::")[0] for it in items}
    fd, tmp = tempfile.mkstemp(dir=_LOCKS, suffix=".json")
    with os.fdopen(fd, "w") as fh:
        json.dump(groups, fh)
    os.replace(tmp, _GROUPS)


if importlib.util.find_spec("xdist") is not None:
    def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
        """pytest-xdist's scheduling by scope, the scopes being the groups above, in the
        order collected (``--no-loadscope-reorder``)."""
        from xdist.scheduler import LoadScopeScheduling

        class GroupScheduling(LoadScopeScheduling):
            groups: dict[str, str] | None = None

            def _split_scope(self, nodeid: str) -> str:
                if self.groups is None:  # every worker has collected by now
                    self.groups = json.loads(_GROUPS.read_text())
                return self.groups.get(nodeid, nodeid.split("::")[0])

        return GroupScheduling(config, log)


@contextlib.contextmanager
def _turn(exclusive: bool) -> Iterator[None]:
    """Hold the room shared (any test) or alone (``exclusive``) across workers: a
    readers-writer lock of two ``flock`` files; a test waiting to be alone holds the
    turnstile, so that no new test starts before it."""
    with (_LOCKS / "turnstile").open("a") as gate, (_LOCKS / "room").open("a") as room:
        fcntl.flock(gate, fcntl.LOCK_EX)
        if not exclusive:
            fcntl.flock(gate, fcntl.LOCK_UN)
        fcntl.flock(room, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(room, fcntl.LOCK_UN)
            if exclusive:
                fcntl.flock(gate, fcntl.LOCK_UN)


@pytest.hookimpl(wrapper=True, tryfirst=True)  # outermost: pytest-timeout's clock starts
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None  # after the wait
                            ) -> Generator[None, object, object]:
    """A test marked ``exclusive`` (it measures a rate or a delay on the machine's
    cores) runs while the other worker waits, from its set-up to its teardown."""
    if not _xdist_worker(item.config):
        return (yield)
    with _turn(item.get_closest_marker("exclusive") is not None):
        return (yield)
