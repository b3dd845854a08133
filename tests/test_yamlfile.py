"""One safe YAML loader for every YAML file (issue 8, class 5): nested anchors, recursive
aliases, deep nesting and huge files are refused quickly with one line naming the file."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from skyfence.cli import main
from skyfence.errors import ConfigError
from skyfence.yamlfile import MAX_YAML_BYTES, MAX_YAML_NODES, load_yaml, parse_yaml


def laughs(levels: int, fan: int = 10) -> str:
    """The "billion laughs" document: level k holds ``fan`` aliases of level k-1, so the
    last level expands to fan**levels scalars (10**9 for 9 levels of 10)."""
    lines = ["l0: &l0 [" + ", ".join(["lol"] * fan) + "]"]
    for k in range(1, levels + 1):
        lines.append(f"l{k}: &l{k} [" + ", ".join([f"*l{k - 1}"] * fan) + "]")
    return "\n".join(lines) + "\n"


def test_expanded_size_is_counted_without_expanding() -> None:
    # l3 nests 4 lists deep: 10**4 scalars plus the lists holding them, below the limit
    doc = parse_yaml(laughs(3), "small.yaml")
    assert len(doc.data["l3"]) == 10 and doc.data["l3"][0][0][0][0] == "lol"
    # level k expands to s_k = 1 + 10 * s_(k-1) nodes, s_0 = 11: s_4 = 111,111 fits in
    # 200,000, s_5 = 1,111,111 does not; l5 is on line 6
    started = time.perf_counter()
    with pytest.raises(ConfigError, match=r"big\.yaml:6: the YAML file expands to more than "):
        parse_yaml(laughs(9), "big.yaml")
    assert time.perf_counter() - started < 2.0  # refused before anything is built


def test_just_below_and_above_the_limit() -> None:
    # `a` is a list of m scalars (1 + m nodes) and `b` a list of r aliases of it, so the
    # document expands to: mapping 1 + two keys 2 + a (1 + m) + b (1 + r * (1 + m))
    # = 4 + (r + 1) * (1 + m) nodes. With m = 999 that is 4 + 1000 * (r + 1).
    def doc(r: int) -> str:
        return "a: &a [" + ",".join(["1"] * 999) + "]\nb: [" + ",".join(["*a"] * r) + "]\n"

    fits = (MAX_YAML_NODES - 4) // 1000 - 1  # 4 + 1000 * (fits + 1) <= MAX
    assert len(parse_yaml(doc(fits), "fits.yaml").data["b"]) == fits
    with pytest.raises(ConfigError, match="expands to more than"):
        parse_yaml(doc(fits + 1), "over.yaml")


def test_recursive_alias_and_deep_nesting_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"r\.yaml:1: a recursive alias"):
        parse_yaml("a: &a [1, *a]\n", "r.yaml")
    with pytest.raises(ConfigError, match=r"d\.yaml.*nested"):
        parse_yaml("[" * 200 + "]" * 200, "d.yaml")


def test_line_map_and_errors() -> None:
    doc = parse_yaml("a: 1\nb:\n  - x\n  - {c: 2}\n", "m.yaml")
    assert doc.lines[("b",)] == 2 and doc.lines[("b", 1)] == 4 and doc.lines[("b", 1, "c")] == 4
    assert doc.where(("b", 1, "c", "nothing")) == "m.yaml:4"
    with pytest.raises(ConfigError, match=r"e\.yaml: the policy file is empty"):
        parse_yaml("# nothing\n", "e.yaml", what="policy file")
    with pytest.raises(ConfigError, match=r"bad\.yaml:2: not valid YAML"):
        parse_yaml("a: [1,\nb: ]]\n", "bad.yaml")
    with pytest.raises(ConfigError, match=r"date\.yaml: not valid YAML"):
        parse_yaml("start: 2025-13-45\n", "date.yaml")  # an impossible date


def test_huge_and_binary_files(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("# " + "x" * MAX_YAML_BYTES)
    with pytest.raises(ConfigError, match="bytes; at most"):
        load_yaml(big)
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(bytes(range(128, 256)))
    with pytest.raises(ConfigError, match="not UTF-8 text"):
        load_yaml(binary)


@pytest.mark.parametrize("argv", [
    ["policy", "check", "{f}"],
    ["scan", "{track}", "--config", "{f}"],
    ["scan", "{track}", "--circle", "C:47,8,5", "--policy", "{f}"],
    ["demo", "{f}"],
    ["eval", "{f}"],
])
def test_every_yaml_entry_point_refuses_billion_laughs(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    f = tmp_path / "lol.yaml"
    f.write_text(laughs(9))
    track = tmp_path / "t.csv"
    track.write_text("time,icao24,lat,lon\n1700000000,4b1234,47.0,8.0\n")
    started = time.perf_counter()
    code = main([a.format(f=f, track=track) for a in argv])
    err = capsys.readouterr().err
    assert time.perf_counter() - started < 5.0
    assert code == 2, err
    assert "expands to more than" in err and str(f) in err
    assert "internal error" not in err
