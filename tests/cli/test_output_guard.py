"""`-o` naming a file the command reads is refused before anything is written, whether
it is the same path, a symbolic link or a hard link (compared by device and inode)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from skyfence.cli import main

pytestmark = pytest.mark.timeout(60)


def positions(path: Path) -> Path:
    t = [1.7e9 + 10 * i for i in range(30)]
    pd.DataFrame({"time": t, "icao24": "R0001", "lat": 0.0,
                  "lon": [-0.5 + 0.035 * i for i in range(30)]}).to_csv(path, index=False)
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def same(p: Path) -> Path:
    return p


def symlink(p: Path) -> Path:
    link = p.with_name("link-" + p.name)
    link.symlink_to(p)
    return link


def hardlink(p: Path) -> Path:
    link = p.with_name("hard-" + p.name)
    os.link(p, link)
    return link


def relative(p: Path) -> Path:
    return Path(os.path.relpath(p.parent / "." / p.name))


@pytest.mark.parametrize("alias", [same, symlink, hardlink, relative])
@pytest.mark.parametrize("command", ["scan", "watch"])
def test_output_naming_the_input_is_refused(
    command: str, alias: Callable[[Path], Path], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    src = positions(tmp_path / "in.csv")
    before = digest(src)
    out = alias(src)
    source = ["--replay", str(src), "--speed", "0"] if command == "watch" else [str(src)]
    code = main([command, *source, "--circle", "A:0,0,30", "--format", "jsonl",
                 "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert f"-o {out}: is also an input" in err
    assert digest(src) == before


@pytest.mark.parametrize("command", ["scan", "watch"])
def test_output_naming_the_zones_file_is_refused(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = positions(tmp_path / "in.csv")
    zones = tmp_path / "zones.geojson"
    zones.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature", '
                     '"properties": {"name": "Z"}, "geometry": {"type": "Polygon", '
                     '"coordinates": [[[-0.1, -0.1], [0.1, -0.1], [0.1, 0.1], [-0.1, -0.1]]]}}]}')
    before = digest(zones)
    source = ["--replay", str(src), "--speed", "0"] if command == "watch" else [str(src)]
    code = main([command, *source, "--zones-file", str(zones), "-o", str(zones)])
    assert code == 2
    assert "is also an input" in capsys.readouterr().err
    assert digest(zones) == before


@pytest.mark.parametrize("command", ["scan", "watch"])
def test_another_output_file_is_written(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = positions(tmp_path / "in.csv")
    out = tmp_path / "out.jsonl"
    out.write_text("old\n")  # an existing output that is not an input is overwritten
    source = ["--replay", str(src), "--speed", "0"] if command == "watch" else [str(src)]
    code = main([command, *source, "--circle", "A:0,0,30", "--format", "jsonl",
                 "-o", str(out)])
    assert code == 0, capsys.readouterr().err
    assert '"zone":"A"' in out.read_text() and "old" not in out.read_text()
