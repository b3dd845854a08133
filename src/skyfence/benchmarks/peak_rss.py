"""Peak resident memory and wall time of a ``skyfence`` command run in a child process.

Two ways, both exact for the child alone:

- ``time``: GNU time's ``-v`` report (``Maximum resident set size``), when
  ``/usr/bin/time`` is installed (Debian package ``time``);
- ``hwm``: the child reads its own high-water mark (``VmHWM`` in /proc/self/status) as
  it exits (Linux).

Not ``getrusage(RUSAGE_CHILDREN)`` in the calling process: Linux starts a child's
``ru_maxrss`` at the resident size of the process it was forked from, so a child of a
large test or benchmark process would report at least its parent's size.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

GNU_TIME = "/usr/bin/time"
_MAXRSS = re.compile(r"Maximum resident set size \(kbytes\): (\d+)")
_HWM_TAG = "skyfence-peak-rss-kb"
_HWM_CHILD = (
    "import sys\n"
    "from skyfence.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "hwm = next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM:'))\n"
    f"sys.stderr.write('\\n{_HWM_TAG} ' + hwm + '\\n')\n"
    "sys.exit(code)\n"
)


@dataclass(frozen=True)
class Measured:
    """What one child run of ``skyfence`` took."""

    exit_code: int
    peak_rss_mb: float
    wall_s: float
    stderr: str
    method: str


def default_method() -> str:
    """``time`` when GNU time is installed, else ``hwm``."""
    return "time" if shutil.which(GNU_TIME) else "hwm"


def run_skyfence(args: Sequence[str], *, method: str | None = None) -> Measured:
    """Run ``skyfence ARGS...`` in a child process (this interpreter, this ``sys.path``)
    and measure its peak resident memory (MiB) and wall time."""
    method = method or default_method()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    if method == "time":
        cmd = [GNU_TIME, "-v", sys.executable, "-m", "skyfence.cli", *args]
    else:
        cmd = [sys.executable, "-c", _HWM_CHILD, *args]
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True, check=False)
    wall = time.perf_counter() - start
    err = done.stderr
    m = (_MAXRSS.search(err) if method == "time"
         else re.search(rf"{_HWM_TAG} (\d+)", err))
    if m is None:
        raise RuntimeError(f"no peak memory in the child's report: {err[-2000:]}")
    if method == "time":
        err = err[: err.rfind("\tCommand being timed")]
    else:
        err = err[: err.rfind(_HWM_TAG)]
    return Measured(done.returncode, int(m.group(1)) / 1024, wall, err.strip(), method)
