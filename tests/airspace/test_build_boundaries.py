"""The repair done by scripts/build_boundaries.py, on a small synthetic source."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest
import shapely

from skyfence.airspace.bundle import read_bundle

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "build_boundaries.py"


@pytest.fixture(scope="module")
def build_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_boundaries", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def ring(x0: float, y0: float, x1: float, y1: float) -> list[list[float]]:
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]


def feature(code: str, *shells: list[list[float]]) -> dict[str, object]:
    return {"type": "Feature", "properties": {"A3": code},
            "geometry": {"type": "MultiPolygon", "coordinates": [[s] for s in shells]}}


def test_nested_shells_become_enclaves_and_unclaimed_islands_are_dropped(
    build_script: ModuleType, tmp_path: Path
) -> None:
    # NLD: mainland with a BEL enclave (nested shell) holding an NLD counter-enclave
    # (shell nested twice), and an island drawn inside its own sea (claimed by nobody).
    # BEL: its enclave, drawn with the counter-enclave as a nested shell.
    source = {"type": "FeatureCollection", "features": [
        feature("NLD", ring(0, 0, 10, 10), ring(2, 2, 4, 4), ring(2.5, 2.5, 3.5, 3.5),
                ring(6, 6, 8, 8)),
        feature("BEL", ring(2, 2, 4, 4), ring(2.5, 2.5, 3.5, 3.5)),
        feature("LUX", ring(20, 20, 21, 21)),
    ]}
    raw = json.dumps(source).encode()
    build_script.build(raw, {"name": "test", "version": "0"}, None, tmp_path)

    meta = json.loads((tmp_path / "national.json").read_text())
    nld, bel, lux = read_bundle(tmp_path / "national.npz")
    assert shapely.is_valid([nld, bel, lux]).all()
    assert nld.area == pytest.approx(100 - 4 + 1)  # enclave out, counter-enclave in, island once
    assert bel.area == pytest.approx(4 - 1)
    assert shapely.area(shapely.intersection(nld, bel)) == 0
    for x, y, inside in [(1, 1, "NLD"), (2.2, 2.2, "BEL"), (3, 3, "NLD"), (7, 7, "NLD")]:
        assert {c for c, g in zip(("NLD", "BEL"), (nld, bel), strict=True)
                if g.contains(shapely.Point(x, y))} == {inside}
    zones = {z["code"]: z for z in meta["zones"]}
    assert zones["LUX"]["repaired"] is False and zones["LUX"]["name"] == "Luxembourg"
    assert any("enclave of BEL" in n for n in zones["NLD"]["repairs"])
    assert any("dropped" in n for n in zones["NLD"]["repairs"])
    assert any("enclave of NLD" in n for n in zones["BEL"]["repairs"])
    rings = json.loads((tmp_path / "national_rings.json").read_text())["zones"]
    assert [len(z["ring_sha256"]) for z in rings] == [3, 2, 1]
    assert (tmp_path / "ATTRIBUTION.md").read_text().count("OpenStreetMap contributors") == 1
