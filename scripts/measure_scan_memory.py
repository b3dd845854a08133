"""Measure the memory constants of :mod:`skyfence.scanning.budget`.

Each figure is the peak resident memory (``VmHWM`` of /proc/self/status, reset through
/proc/self/clear_refs before the step, so Linux only) of one step run in a fresh
process, less the resident memory before the step. Per-row figures are the slope
between two sizes, so fixed costs of the step cancel out. Data: the per-aircraft Baltic
workload (:mod:`skyfence.benchmarks.baltic`), zones EST, LVA, LTU and POL.

    PYTHONPATH=src python scripts/measure_scan_memory.py [--rows 250000,1000000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

BALTIC = ["EST", "LVA", "LTU", "POL"]


def _status(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(key)


def _reset_peak() -> int:
    Path("/proc/self/clear_refs").write_text("5")
    return _status("VmRSS")


def _step(kind: str, arg: str, zones: list[str]) -> dict[str, float]:
    """One measurement in this (fresh) process."""
    import numpy as np
    import pandas as pd
    import pyarrow  # noqa: F401
    import scipy.spatial  # noqa: F401
    import shapely  # noqa: F401

    import skyfence.cli  # noqa: F401
    from skyfence.airspace.zones import resolve_zones
    from skyfence.scanning import engine

    out: dict[str, float] = {"base": _status("VmRSS")}
    if kind == "base":
        return out
    before = _reset_peak()
    zs = resolve_zones(zones, [], [])
    out["zones"] = _status("VmHWM") - before
    before = _reset_peak()
    proto = engine._prototype(engine.ScanOptions(zones=zs))
    out["index"] = _status("VmHWM") - before
    out["index_nbytes"] = getattr(proto.screen, "nbytes", 0)
    before = _reset_peak()
    segs = pieces = 0
    for i in range(len(zs)):
        b = proto.boundary(i)
        b.index  # noqa: B018
        segs += len(b)
        pieces += len(b._pieces.x0)
    out["boundaries"] = _status("VmHWM") - before
    out["segments"], out["pieces"] = segs, pieces
    from skyfence.scanning.budget import zone_bytes

    out["model"] = zone_bytes(zs, proto.screen)  # type: ignore[assignment]
    if kind == "zones":
        return out
    from skyfence.scanning.partition import (
        Bucket,
        BucketWriter,
        hash_buckets,
        load_table,
        to_bucket_table,
        to_frame,
    )
    from skyfence.scanning.spill import RecordSpill
    from skyfence.sources.tabular import iter_table_chunks

    if kind == "detect":  # a bucket file of n rows read back and screened
        path, n = arg.split(":")
        before = _reset_peak()
        frame = to_frame(load_table([Bucket(Path(path), int(n))]))
        det = proto.fresh()
        found, _ = engine.detect_entries([frame], zs, detector=det)
        spill = RecordSpill(run_records=1 << 30)
        from skyfence.incidents.assess import Assessor

        spill.add(found, Assessor(engine.Policy()).records(found))
        out["peak"] = _status("VmHWM") - before
        out["entries"] = len(found)
    elif kind == "memory":  # the in-memory path: chunks read, joined, screened
        path, n = arg.split(":")
        before = _reset_peak()
        parts = list(iter_table_chunks(path, chunk_rows=int(n) // 4))
        data = pd.concat(parts, ignore_index=True)
        parts.clear()
        found, _ = engine.detect_entries([data], zs, detector=proto.fresh())
        out["peak"] = _status("VmHWM") - before
    elif kind == "read":  # reading chunks of n rows and writing them to buckets
        path, n = arg.split(":")
        with tempfile.TemporaryDirectory() as tmp:
            w = BucketWriter(tmp, "b", 64)
            before = _reset_peak()
            for chunk in iter_table_chunks(path, chunk_rows=int(n)):
                table = to_bucket_table(chunk)
                del chunk
                w.write(table, hash_buckets(table.column("icao24"), 64))
                del table
            out["peak"] = _status("VmHWM") - before
            w.close()
    elif kind == "tracks":  # the detector's state per tracked id
        n = int(arg)
        det = proto.fresh()
        before = _reset_peak()
        ids = np.array([f"{i:06x}" for i in range(n)], dtype=object)
        from skyfence.model import make_observations

        obs = make_observations(time=np.arange(n, dtype=float), icao24=ids,
                                lat=np.full(n, 0.5), lon=np.full(n, -30.0))
        det.process(obs)
        del obs, ids
        out["peak"] = _status("VmRSS") - before
        out["tracked"] = det.tracked
    elif kind == "records":  # finished records held in a sort run (Python objects)
        import tracemalloc

        path, n = arg.split(":")
        frame = to_frame(load_table([Bucket(Path(path), int(n))]))
        found, _ = engine.detect_entries([frame], zs, detector=proto.fresh())
        from skyfence.incidents.assess import Assessor

        recs = Assessor(engine.Policy()).records(found)
        spill = RecordSpill(run_records=1 << 30)
        tracemalloc.start()
        for _ in range(20):
            spill.add(found, recs)
        out["peak"] = tracemalloc.get_traced_memory()[0]
        out["records"] = len(spill)
    return out


def _run(kind: str, arg: str = "", zones: list[str] = BALTIC) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--step", kind, "--arg", arg, "--zones", ",".join(zones)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--step")
    ap.add_argument("--arg", default="")
    ap.add_argument("--zones", default=",".join(BALTIC))
    ap.add_argument("--rows", default="250000,1000000")
    args = ap.parse_args()
    if args.step:
        print(json.dumps(_step(args.step, args.arg, args.zones.split(","))))
        return
    from skyfence.benchmarks.baltic import write_per_aircraft_parquet
    from skyfence.scanning.partition import BucketWriter, to_bucket_table
    from skyfence.sources.tabular import read_table

    mib = 1 << 20
    small, large = (int(x) for x in args.rows.split(","))
    with tempfile.TemporaryDirectory(prefix="skyfence-measure-") as tmp:
        files = {}
        for n in (small, large):
            pq_path = Path(tmp) / f"baltic-{n}.parquet"
            write_per_aircraft_parquet(pq_path, n // 500)
            w = BucketWriter(tmp, f"bucket{n}", 1)
            import numpy as np

            table = to_bucket_table(read_table(pq_path))
            w.write(table, np.zeros(len(table), np.int64))
            (bucket,) = w.close()
            files[n] = (pq_path, bucket.path)
        base = _run("base")
        print(f"interpreter and libraries: {base['base'] / mib:,.0f} MB")
        for zones in (BALTIC, ["all"]):
            z = _run("zones", zones=zones)
            model = z["model"]
            print(f"zones {' '.join(zones)}: loaded {z['zones'] / mib:,.0f} MB, index "
                  f"{z['index'] / mib:,.0f} MB ({z['index_nbytes'] / mib:,.1f} MB of arrays), "
                  f"boundaries {z['boundaries'] / mib:,.0f} MB ({z['segments']:,.0f} segments, "
                  f"{z['pieces']:,.0f} pieces); model {json.dumps(model)}")
        slopes = {}
        for kind, what in (("detect", "bucket read back and screened"),
                           ("memory", "Parquet chunks joined and screened"),
                           ("read", "read + normalize + write to buckets")):
            peaks = {}
            for n in (small, large):
                src = files[n][1] if kind == "detect" else files[n][0]
                arg = f"{src}:{n}" if kind != "read" else f"{files[large][0]}:{n}"
                peaks[n] = _run(kind, arg)["peak"]
            slope = (peaks[large] - peaks[small]) / (large - small)
            slopes[kind] = slope
            print(f"{kind:7} ({what}): peak {peaks[small] / mib:,.0f} MB at {small:,} rows, "
                  f"{peaks[large] / mib:,.0f} MB at {large:,}: {slope:,.0f} B/row "
                  f"(whole peak / rows at {large:,}: {peaks[large] / large:,.0f} B/row)")
        t = _run("tracks", str(200_000))
        print(f"tracks: {t['peak'] / t['tracked']:,.0f} B per tracked id "
              f"({t['tracked']:,.0f} ids)")
        r = _run("records", f"{files[small][1]}:{small}")
        print(f"records: {r['peak'] / r['records']:,.0f} B per held record "
              f"({r['records']:,.0f} records)")


if __name__ == "__main__":
    main()
