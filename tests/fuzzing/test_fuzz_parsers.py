"""Every parser and loader under random and mutated input (issue 16, part 1).

Each target of :mod:`fuzzing.targets` gets (a) its committed corpus (seeds and every
crash found so far, ``fuzz/corpus/<target>/``), and (b) Hypothesis examples: seeds
mutated by byte flips, insertions, deletions, truncation and repeated chunks, plus
plain random bytes. The oracle is the target's: usable data or a one-line error that
names the file; never another exception. Each property is bounded (deadline, a modest
number of examples); the whole file runs in well under a minute. ``make fuzz`` runs
the same targets coverage-guided with atheris for as long as asked.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzzing import targets

BOUNDED = settings(max_examples=25, deadline=5000, derandomize=True,
                   suppress_health_check=[HealthCheck.too_slow,
                                          HealthCheck.data_too_large])

CASES = [(name, fname) for name in targets.TARGETS for fname, _ in targets.corpus(name)]


@pytest.mark.parametrize(("name", "fname"), CASES)
def test_corpus_inputs_are_read_or_refused_cleanly(name: str, fname: str) -> None:
    """Seeds and regression inputs (each crash found became a file here)."""
    body = dict(targets.corpus(name))[fname]
    targets.TARGETS[name](body)


def test_every_target_has_a_seed() -> None:
    for name in targets.TARGETS:
        assert any(f.startswith("seed-") for f, _ in targets.corpus(name)), name


@st.composite
def mutated(draw: st.DrawFn, seed: bytes) -> bytes:
    """``seed`` changed by a few random edits."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "repeat", "byte"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if op == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "byte" and data:
            data[at] = draw(st.sampled_from([0, 0x0A, 0x2C, 0x3A, 0x7F, 0xFF, 0x30, 0x2D]))
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif op == "delete":
            del data[at:at + draw(st.integers(1, 16))]
        elif op == "truncate":
            del data[at:]
        elif op == "repeat":
            n = draw(st.integers(1, 64))
            data[at:at] = data[at:at + n] * draw(st.integers(2, 4))
    return bytes(data)


def inputs(name: str) -> st.SearchStrategy[bytes]:
    seeds = [b for f, b in targets.corpus(name) if f.startswith("seed-")]
    return st.one_of(st.binary(max_size=512),
                     st.sampled_from(seeds).flatmap(lambda s: mutated(s)))


# one test per target so a failure names the format; the dossier one is fewer and
# slower (each example re-verifies and re-derives a dossier)
def _fuzz(name: str) -> None:
    @BOUNDED
    @given(data=inputs(name))
    def run(data: bytes) -> None:
        targets.TARGETS[name](data)

    run()


@pytest.mark.parametrize("name", [n for n in targets.TARGETS if n != "dossier"])
def test_mutated_and_random_inputs(name: str) -> None:
    _fuzz(name)


@settings(max_examples=8, deadline=20000, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(data=st.one_of(
    st.tuples(st.integers(0, 40), st.integers(0, 65535), st.binary(max_size=24)),
    st.tuples(st.integers(0, 40), st.integers(0, 65535), st.just(b""))))
def test_patched_dossiers_fail_verification_cleanly(data: tuple[int, int, bytes]) -> None:
    i, at, patch = data
    targets.dossier(bytes([i]) + at.to_bytes(2, "big") + patch)
