"""A bounded scan gives freed memory back: glibc's heap no longer keeps freed column
arrays once :func:`release_freed_memory` has fixed its thresholds."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from skyfence.scanning.heap import release_freed_memory

# frees 24 of 25 blocks of 4 MiB below a live one after a 16 MiB block has been freed
# (which, left alone, raises glibc's mmap threshold to 16 MiB): prints the MiB of
# anonymous memory the process still holds for them
KEPT = """
import sys
import numpy as np
from skyfence.scanning.heap import release_freed_memory

def anon_mib():
    for line in open("/proc/self/status"):
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) / 1024

if sys.argv[1] == "release":
    assert release_freed_memory()
big = np.ones(16 << 20, np.uint8)
del big
before = anon_mib()
blocks = [np.ones(4 << 20, np.uint8) for _ in range(25)]
del blocks[:-1]
print(anon_mib() - before)
"""


def kept_mib(mode: str) -> float:
    # glibc left to its defaults: Dask's nanny (tests/scanning/test_engines.py) sets
    # MALLOC_TRIM_THRESHOLD_ in the environment of the process that starts a local cluster
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("MALLOC_") and k != "GLIBC_TUNABLES"}
    out = subprocess.run([sys.executable, "-c", KEPT, mode], capture_output=True, text=True,
                         check=True, env=env)
    return float(out.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc: Linux")
def test_freed_blocks_go_back_to_the_system() -> None:
    # left alone, the 24 freed blocks (96 MiB) stay with the process
    assert kept_mib("keep") > 64
    # released: only the live block (4 MiB) and small change are held
    assert kept_mib("release") < 16


def test_release_is_idempotent() -> None:
    first = release_freed_memory()
    assert release_freed_memory() is first
