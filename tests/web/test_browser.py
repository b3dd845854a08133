"""The operators' screen in a real browser (Debian's chromium driven by Playwright).

`skyfence serve` replays the crossing of ``service/serve_helpers`` at real time, shifted
to now (``loop: true``), so that the data's clock is the wall clock: an aircraft with a
Russian ICAO address enters a 10 km circle 16 s after the server starts. The test logs
in as an operator created with ``skyfence users add``, sees the map load (land,
boundaries, zone), sees the aircraft drawn outside the zone, then inside it, sees the
incident in the list within 2 s of the crossing, acknowledges it, reloads the page and
finds it still acknowledged; then opens the incident's detail and moves the replay
slider. Screenshots are saved (to ``$SKYFENCE_SCREENSHOTS`` when set: the README's come
from there).
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from loopback import CHROMIUM, CHROMIUM_ARGS, free_port, running_serve
from service.serve_helpers import INTRUDER, crossing_csv, write_config

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

SRC = str(Path(__file__).resolve().parents[2] / "src")
ENTRY_AFTER_S = 16.0
ZONE_CENTRE = (59.0, 25.0)


def skyfence(*argv: str, stdin: str | None = None, **kw: Any) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-m", "skyfence.cli", *argv], input=stdin,
                          capture_output=True, text=True, env=env, timeout=60, **kw)


def distance_km(lat: float, lon: float) -> float:
    """Great-circle distance (haversine, R = 6371 km) from the zone's centre."""
    p1, p2 = math.radians(ZONE_CENTRE[0]), math.radians(lat)
    dp, dl = p2 - p1, math.radians(lon - ZONE_CENTRE[1])
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(a))


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """`skyfence serve` over the crossing, with user olga (operator); its address."""
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is missing: scripts/install-system-deps.sh installs it")
    csv = crossing_csv(tmp_path / "crossing.csv", entry_after_s=ENTRY_AFTER_S,
                       duration_s=60.0)
    port = free_port()
    cfg = write_config(tmp_path, csv, speed=1.0, loop=True, port=port,
                       extra="title: skyfence test\n")
    made = skyfence("users", "add", "olga", "--role", "operator", "--password-stdin",
                    "--config", str(cfg), stdin="operator-pass-1\n")
    assert made.returncode == 0, made.stderr
    env = {**os.environ, "PYTHONPATH": SRC}
    with running_serve(cfg, port, tmp_path / "serve.log", env,
                       start_s=30) as address:
        yield address


def shots_dir(tmp_path: Path) -> Path:
    d = Path(os.environ.get("SKYFENCE_SCREENSHOTS") or tmp_path / "shots")
    d.mkdir(parents=True, exist_ok=True)
    return d


@pytest.mark.exclusive  # the incident shown within 2 s of the crossing, in real time
def test_login_map_incursion_incident_ack_and_reload(server: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    shots = shots_dir(tmp_path)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 760})
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(server + "/")
            # log in
            # the first page load can wait on a busy server (the demo feed runs alongside)
            page.wait_for_selector("#login-form", state="visible", timeout=90_000)
            page.fill("#login-form [name=username]", "olga")
            page.fill("#login-form [name=password]", "operator-pass-1")
            page.click("#login-form button[type=submit]")
            # the map loads: land, national boundaries and the zone are drawn
            page.wait_for_function("window.skyfence && window.skyfence.ready", timeout=30000)
            page.wait_for_function("""() => { const m = window.skyfence.map;
                return m.loaded() && ['land', 'zones-fill', 'boundaries'].every(
                    (l) => m.queryRenderedFeatures({layers: [l]}).length > 0); }""",
                                   timeout=20000)
            assert "olga (operator)" in page.inner_text("#who")
            # the intruder is drawn outside the zone before it enters
            page.wait_for_function(f"""() => window.skyfence.map.queryRenderedFeatures(
                {{layers: ['tracks']}}).some((f) => f.properties.id === '{INTRUDER}')""",
                                   timeout=20000)
            before = page.evaluate(f"window.skyfence.tracks.get('{INTRUDER}')")
            assert distance_km(before["lat"], before["lon"]) > 10.0
            print(f"intruder drawn {distance_km(before['lat'], before['lon']) - 10:.1f} km "
                  "before the zone")
            assert page.locator("#incidents li").count() == 0
            page.screenshot(path=str(shots / "map.png"))
            # the incident appears within 2 s of the crossing (data time = wall time)
            page.wait_for_selector("#incidents li[data-id]", timeout=40000)
            inc = page.evaluate("window.skyfence.incidents[0]")
            seen_ms = page.evaluate(f"window.skyfence.firstSeen['{inc['id']}']")
            from skyfence.evidence.timefmt import parse_iso

            delay_s = seen_ms / 1000.0 - parse_iso(inc["first_entered_at"])
            assert 0.0 <= delay_s < 2.0, delay_s
            assert inc["track"] == INTRUDER and inc["zone"] == "TESTZ"
            # and the aircraft is inside the zone, marked by its alert
            page.wait_for_function(f"window.skyfence.tracks.get('{INTRUDER}').severity",
                                   timeout=5000)
            after = page.evaluate(f"window.skyfence.tracks.get('{INTRUDER}')")
            assert distance_km(after["lat"], after["lon"]) < 10.0
            # a trail behind it: the updates carry no trail, the page extends its own
            # (a point every 4 s of data), so after 10 s it holds at least two points
            # west of the aircraft
            page.wait_for_function(
                f"window.skyfence.tracks.get('{INTRUDER}').trail.length >= 2", timeout=12000)
            trail = page.evaluate(f"window.skyfence.tracks.get('{INTRUDER}').trail")
            now = page.evaluate(f"window.skyfence.tracks.get('{INTRUDER}')")
            # (a fresh snapshot after a reconnect ends its trail at the aircraft itself)
            assert all(lon <= now["lon"] for lon, _ in trail), trail
            assert min(lon for lon, _ in trail) < now["lon"], trail
            page.screenshot(path=str(shots / "incident-list.png"))
            # acknowledge; the state survives a reload
            page.click(f"#incidents li[data-id='{inc['id']}'] button.ack")
            page.wait_for_selector(f"#incidents li[data-id='{inc['id']}'][data-state=acknowledged]",
                                   timeout=10000)
            page.reload()
            page.wait_for_selector(f"#incidents li[data-id='{inc['id']}']", timeout=30000)
            assert page.get_attribute(f"#incidents li[data-id='{inc['id']}']",
                                      "data-state") == "acknowledged"
            # the detail: profile, replay slider moved to the middle of the stored fixes
            page.click(f"#incidents li[data-id='{inc['id']}']")
            page.wait_for_selector("[data-testid=detail-state]", timeout=10000)
            assert page.text_content("[data-testid=detail-state]") == "acknowledged"
            audit = page.inner_text("[data-testid=audit]")
            assert "acknowledged olga" in audit, audit
            page.wait_for_selector("[data-testid=profile]")
            n = int(page.get_attribute("[data-testid=replay]", "max") or 0)
            assert n > 5
            page.focus("[data-testid=replay]")  # keys, as a person would move it
            page.keyboard.press("Home")
            for _ in range(n // 2):
                page.keyboard.press("ArrowRight")
            assert page.inner_text(".replay-at").endswith("9000 m")
            page.wait_for_timeout(500)
            page.screenshot(path=str(shots / "incident-detail.png"))
            assert "inc=" in page.url  # URL state: the open incident
            assert errors == []
        finally:
            browser.close()
