"""Measure the ICAO-address to State lookup against per-element Python, in one run.

Builds a column of ids the way a scan sees them (20 000 aircraft repeated, a few radar
track ids and missing values) and times ``registration_state`` on it as an object
array and as an Arrow-backed pandas column, and on already-parsed uint32 addresses.
The baseline is the obvious loop ``[state_of(v) for v in ids]`` on the same data
(timed on the first ``--baseline-points`` ids). Usage::

    python benchmarks/icao_blocks.py [--points 10000000] [--baseline-points 1000000]

Prints one JSON object: name, ours_per_s, baselines, ratios, points, machine, and
per-input figures.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import pandas as pd

from skyfence.benchmarks import best_of, record
from skyfence.identify.icao_blocks import parse_icao24, registration_state, state_of


def make_ids(points: int, seed: int = 0) -> np.ndarray:
    """An object array of hex ids with radar ids and missing values mixed in."""
    rng = np.random.default_rng(seed)
    aircraft = [f"{a:06x}" for a in rng.integers(1, 0xFFFFFF, 20_000)]
    distinct = np.array([*aircraft, *(["T0042", "", None] * 10)], dtype=object)
    return distinct[rng.integers(0, len(distinct), points)]


def main() -> None:
    """Run the measurement and print the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=10_000_000)
    parser.add_argument("--baseline-points", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    ids = make_ids(args.points)
    arrow_ids = pd.Series(ids).astype("string[pyarrow]")
    addresses, _ = parse_icao24(arrow_ids)
    subset = ids[: args.baseline_points]

    ours = {
        "object_ndarray": best_of(args.repeat, lambda: registration_state(ids)),
        "arrow_series": best_of(args.repeat, lambda: registration_state(arrow_ids)),
        "uint32_addresses": best_of(args.repeat, lambda: registration_state(addresses)),
    }
    loop = best_of(1, lambda: [state_of(v) for v in subset])
    if registration_state(subset).tolist() != [state_of(v) for v in subset]:
        raise SystemExit("vectorized and per-element lookups disagree")

    per_s = {k: args.points / v for k, v in ours.items()}
    baseline_per_s = len(subset) / loop
    print(json.dumps(record(
        "icao_blocks", per_s["object_ndarray"], {"python_loop_state_of": baseline_per_s},
        args.points, per_input_per_s={k: round(v) for k, v in per_s.items()},
    )))


if __name__ == "__main__":
    main()
