"""Coverage-guided fuzzing of skyfence's parsers and loaders with atheris (``make fuzz``).

    python fuzz/atheris_main.py TARGET [-max_total_time=SECONDS] [libFuzzer options]
    python fuzz/atheris_main.py --list

TARGET is one of the targets of ``tests/fuzzing/targets.py`` (sbs, beast, rawhex,
asterix, pcap, pcapng, csv, parquet, geojson, policy, config, scenario, dossier, ...).
The corpus folder ``fuzz/corpus/TARGET`` seeds the run; what libFuzzer finds new goes
to ``fuzz/work/TARGET`` (not committed). A crash (a :class:`~fuzzing.targets.Crash`: a
traceback, a multi-line error, an error not naming the file, an unusable position) is
written by libFuzzer as ``crash-<sha1>`` in the current directory: copy it into the
corpus folder (it becomes a regression test of ``tests/fuzzing``) and fix the code.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tests")]

import atheris  # noqa: E402

with atheris.instrument_imports(include=["skyfence"]):
    # every module a target reaches, imported here so that it is instrumented
    import skyfence.airspace.zones
    import skyfence.config
    import skyfence.evidence.verify
    import skyfence.policy
    import skyfence.scenarios.spec
    import skyfence.sources.asterix
    import skyfence.sources.recorded  # noqa: F401
    from fuzzing import targets


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in targets.TARGETS:
        names = ", ".join(targets.TARGETS)
        print(f"usage: atheris_main.py TARGET [libFuzzer options]; targets: {names}")
        sys.exit(0 if "--list" in sys.argv else 2)
    name = sys.argv[1]
    corpus = ROOT / "fuzz" / "corpus" / name
    # new inputs go to a scratch folder (not committed); the corpus seeds the run
    work = ROOT / "fuzz" / "work" / name
    work.mkdir(parents=True, exist_ok=True)
    target = targets.TARGETS[name]
    atheris.Setup([sys.argv[0], *sys.argv[2:], str(work), str(corpus)], target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
