"""``skyfence bench decode``: Mode S decoding rate of rs1090 against pyModeS, same frames.

Decodes the same recorded frames, in the same run, four ways:

- ``ours`` / ``ours_<other>``: :mod:`skyfence.sources.modes` frames -> observation
  batches, with the default backend and with the other one, fed in batches of
  ``batch`` frames as a live feed delivers them;
- ``rs1090_library``: ``rs1090.decode(frames, timestamps, reference=...)`` in one call;
- ``pymodes_library``: ``pyModeS.PipeDecoder.decode`` frame by frame.

The frames are real: the 57,793 frames of one recorded flight (Paris CDG to
Toulouse) that the ``traffic`` package ships as
``traffic/data/samples/rs1090/full_flight_short.jsonl``. The backend that decodes
faster (frames to observations) is the one :data:`~skyfence.sources.modes.DEFAULT_DECODER`
should name; the result says which it is.
"""

from __future__ import annotations

import importlib.util
import json as jsonlib
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from skyfence.benchmarks import best_of, record
from skyfence.errors import UsageError
from skyfence.sources.modes import DECODERS, DEFAULT_DECODER, make_decoder

#: Receiver reference for the sample (Paris CDG).
SAMPLE_REF = (49.0, 2.5)


def sample_frames_path() -> Path:
    """Path of the recorded flight shipped with ``traffic`` (not imported, only located)."""
    spec = importlib.util.find_spec("traffic")
    if spec is None or not spec.submodule_search_locations:
        raise UsageError(
            "bench decode needs the recorded frames shipped with the 'traffic' package "
            "(pip install 'skyfence[test]')"
        )
    root = Path(next(iter(spec.submodule_search_locations)))
    path = root / "data" / "samples" / "rs1090" / "full_flight_short.jsonl"
    if not path.exists():
        raise UsageError(f"recorded frames not found at {path}")
    return path


def load_frames(path: Path | None = None) -> tuple[list[str], list[float]]:
    """(hex frames, unix times) of a JSON lines recording with ``frame`` and ``timestamp``."""
    frames: list[str] = []
    times: list[float] = []
    with (path or sample_frames_path()).open() as fh:
        for line in fh:
            record = jsonlib.loads(line)
            frames.append(record["frame"])
            times.append(float(record["timestamp"]))
    return frames, times


def run(
    json: bool = False, *, repeat: int = 2, batch: int = 1000, points: int | None = None
) -> dict[str, Any]:
    """Measure and return the benchmark record (the caller prints it).

    ``json`` is accepted for the CLI's uniform signature; the record is the same.
    ``points`` limits the frames to the first N (the same N for every decoder).
    """
    import pyModeS
    import rs1090

    frames, times = load_frames()
    if points is not None:
        frames, times = frames[:points], times[:points]
    n = len(frames)
    positions: dict[str, int] = {}

    def ours(name: str) -> Callable[[], Any]:
        def go() -> None:
            dec = make_decoder(name, ref=SAMPLE_REF)
            for i in range(0, n, batch):
                dec.decode(frames[i : i + batch], times[i : i + batch])
            positions[name] = dec.stats.positions

        return go

    def rs1090_library() -> Any:
        return rs1090.decode(frames, times, reference=SAMPLE_REF)

    def pymodes_library() -> Any:
        pipe = pyModeS.PipeDecoder()
        return [pipe.decode(f, timestamp=t) for f, t in zip(frames, times, strict=True)]

    rates: dict[str, float] = {}
    cpu_rates: dict[str, float] = {}

    def measure(key: str, func: Callable[[], Any]) -> None:
        cpu = float("inf")

        def timed() -> None:
            nonlocal cpu
            start = time.process_time()
            func()
            cpu = min(cpu, time.process_time() - start)

        rates[key] = n / best_of(repeat, timed)
        cpu_rates[key] = n / cpu if cpu > 0 else float("inf")

    for name in DECODERS:
        measure(f"ours_{name}", ours(name))
    measure("rs1090_library", rs1090_library)
    measure("pymodes_library", pymodes_library)

    faster = max(DECODERS, key=lambda name: rates[f"ours_{name}"])
    ours_rate = rates[f"ours_{DEFAULT_DECODER}"]
    baselines = {k: v for k, v in rates.items() if k != f"ours_{DEFAULT_DECODER}"}
    return record(
        "decode", ours_rate, baselines, n,
        unit="Mode S messages decoded per second",
        default_decoder=DEFAULT_DECODER,
        faster_decoder=faster,
        default_is_faster=faster == DEFAULT_DECODER,
        per_decoder={
            name: {
                "ours_per_s": round(rates[f"ours_{name}"], 1),
                "library_per_s": round(rates[f"{name}_library"], 1),
                "positions": positions[name],
            }
            for name in DECODERS
        },
        # CPU seconds of this process (every thread), shortest of the runs: the rates
        # on a loaded machine, where wall time measures the other jobs too
        cpu_per_s={k: round(v, 1) for k, v in cpu_rates.items()},
        batch_frames=batch,
        frames_source="traffic/data/samples/rs1090/full_flight_short.jsonl",
        reference=list(SAMPLE_REF),
    )


if __name__ == "__main__":
    sys.stdout.write(jsonlib.dumps(run(json=True)) + "\n")
