"""Measure what setting glibc's malloc (:mod:`skyfence.scanning.heap`) does to a bounded
scan: the peak resident memory (``VmHWM``) and wall time of the same scan, as
``skyfence scan`` runs it (thresholds fixed high, free pages given back after each
batch) and with malloc left to glibc, runs interleaved. Data: 600,000 per-aircraft
Baltic rows over EST, LVA, LTU and POL, the workload of
``tests/scanning/test_bounded_scan.py``.

    python scripts/measure_heap_release.py [--runs 5] [--memory 520M]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = """
import sys
import skyfence.scanning.heap as heap
from skyfence.cli import main
if sys.argv[1] == "glibc":
    heap._glibc = lambda: False  # as if the C library were not glibc: malloc left alone
code = main(sys.argv[2:])
hwm = next(l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM:"))
print(int(hwm) / 1024)
sys.exit(code)
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--memory", default="520M")
    args = ap.parse_args()
    from skyfence.benchmarks.baltic import write_per_aircraft_parquet

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "baltic600k.parquet"
        write_per_aircraft_parquet(data, 1_200)
        scan = ["scan", str(data), *(a for z in ("EST", "LVA", "LTU", "POL")
                                     for a in ("--zone", z)),
                "--all-entries", "--format", "jsonl", "-o", str(Path(tmp) / "out.jsonl"),
                "--memory", args.memory]
        figures: dict[str, list[tuple[float, float, float, float]]] = {"skyfence": [], "glibc": []}
        for _ in range(args.runs):
            for mode, runs in figures.items():
                start = time.perf_counter()
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                out = subprocess.run([sys.executable, "-c", CHILD, mode, *scan], env=env,
                                     capture_output=True, text=True, check=True)
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                runs.append((float(out.stdout.split()[-1]), time.perf_counter() - start,
                             after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime))
    for mode, runs in figures.items():
        peaks = [r[0] for r in runs]
        print(f"{mode:8} peak MiB min {min(peaks):.1f} median {statistics.median(peaks):.1f} "
              f"max {max(peaks):.1f}; median s: wall {statistics.median(r[1] for r in runs):.2f}"
              f" user {statistics.median(r[2] for r in runs):.2f}"
              f" system {statistics.median(r[3] for r in runs):.2f}")


if __name__ == "__main__":
    main()
