"""Co-located aircraft on the map: a count badge on the stack, its aircraft listed.

Three aircraft fly in formation (as the demo's MiG-31s near Vaindloo): one abreast of
the other, 300 m apart north-south (0.0027 degrees of latitude = 300 m, at 111.2 km a
degree), east at 250 m/s; a fourth flies alongside, 8 km (0.072 degrees) south of them.
The page opens at zoom 7 over them (URL state). How far apart the symbols are on
screen, by hand: MapLibre's world is 512 px wide at zoom 0, so at zoom z a pixel is
40,075 km x cos(lat) / (512 x 2^z); at 59.5 N (cos = 0.5075) 310 m at zoom 7: the
formation spans 600 m = 2 px (one stack) and the fourth is 26 px away, over the 14 px
stacking distance (not in it); at zoom 13 a pixel is 4.9 m: 62 px between neighbours,
three separate symbols, no badge.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from loopback import CHROMIUM, CHROMIUM_ARGS, free_port, running_serve
from service.serve_helpers import write_config

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

SRC = str(Path(__file__).resolve().parents[2] / "src")
FORMATION = {"150a01": "MIG1", "150a02": "MIG2", "150a03": ""}  # the third: no callsign
LONE = "461e2a"
LAT0, LON0 = 59.5, 25.4
KM_PER_DEG_LON = 111.32 * 0.5075  # cos 59.5 = 0.5075


def formation_csv(path: Path, duration_s: int = 180) -> Path:
    """The formation and the fourth aircraft, a fix a second, as an OpenSky-style CSV."""
    t0 = 1_700_000_000.0
    lines = ["time,icao24,lat,lon,geoaltitude,velocity,heading,callsign,squawk"]
    for k in range(duration_s + 1):
        lon = LON0 + k * 0.25 / KM_PER_DEG_LON
        for n, (icao, callsign) in enumerate(FORMATION.items()):
            lines.append(f"{t0 + k:.1f},{icao},{LAT0 + 0.0027 * n:.6f},{lon:.6f},"
                         f"{9000 + 150 * n},250,90,{callsign},")
        lines.append(f"{t0 + k:.1f},{LONE},{LAT0 - 0.072:.6f},{lon:.6f},11000,250,90,"
                     "FIN7AB,2651")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def skyfence(*argv: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": SRC}
    return subprocess.run([sys.executable, "-m", "skyfence.cli", *argv], input=stdin,
                          capture_output=True, text=True, env=env, timeout=60)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """`skyfence serve` replaying the formation at real time, looped; its address."""
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is missing: scripts/install-system-deps.sh installs it")
    port = free_port()
    cfg = write_config(tmp_path, formation_csv(tmp_path / "formation.csv"), speed=1.0,
                       loop=True, port=port)
    made = skyfence("users", "add", "vik", "--role", "viewer", "--password-stdin",
                    "--config", str(cfg), stdin="viewer-pass-01\n")
    assert made.returncode == 0, made.stderr
    with running_serve(cfg, port, tmp_path / "serve.log", {**os.environ, "PYTHONPATH": SRC},
                       start_s=60) as address:
        yield address


def test_a_formation_shows_one_count_badge_listing_its_aircraft(server: str,
                                                                tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    shots = Path(os.environ.get("SKYFENCE_SCREENSHOTS") or tmp_path)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 760})
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{server}/#c={LAT0},{LON0 + 0.1}&z=7")
            page.wait_for_selector("#login-form", state="visible", timeout=90_000)
            page.fill("#login-form [name=username]", "vik")
            page.fill("#login-form [name=password]", "viewer-pass-01")
            page.click("#login-form button[type=submit]")
            page.wait_for_function("window.skyfence && window.skyfence.ready", timeout=30000)
            ids = [*FORMATION, LONE]
            page.wait_for_function(f"{ids!r}.every((id) => window.skyfence.tracks.has(id))",
                                   timeout=30000)
            # one stack: the formation's three, not the fourth 8 km away
            badge = page.locator("[data-testid=stack]")
            badge.first.wait_for(timeout=10000)
            assert badge.count() == 1
            assert sorted(str(badge.get_attribute("data-ids")).split()) == sorted(FORMATION)
            assert badge.locator(".n").inner_text() == "3"
            # listed on hover: callsigns, or the track id where there is none
            badge.hover()
            listing = page.locator("[data-testid=stack-list]")
            listing.wait_for(state="visible", timeout=5000)
            rows = listing.locator("[data-track]")
            assert rows.count() == 3
            text = listing.inner_text()
            assert all(name in text for name in ("MIG1", "MIG2", "150a03")), text
            assert LONE not in text and "FIN7AB" not in text
            page.screenshot(path=str(shots / "stack.png"))
            # a name in the list selects its track
            listing.locator("[data-track='150a02']").click()
            page.wait_for_function("window.skyfence.selTrack === '150a02'", timeout=5000)
            # zoomed in, the three symbols are apart: no badge
            t: dict[str, Any] = page.evaluate("window.skyfence.tracks.get('150a02')")
            page.evaluate(f"window.skyfence.map.jumpTo({{center: [{t['lon']}, {t['lat']}], "
                          "zoom: 13})")
            page.wait_for_function(
                "document.querySelectorAll('[data-testid=stack]').length === 0", timeout=5000)
            assert errors == []
        finally:
            browser.close()
