"""The detail view's altitude profile (``static/detail.js``'s ``profileSvg``), drawn in
Debian's chromium from points shaped as the API gives them.

A radar-only track holding 9,000 m: its reported heights alternate 8,300 / 9,700 m
(the ±700 m a 3D radar's heights scatter by), its ``altitude_line_m`` (the API's
smoothed line) stays within 9,000 ± 20 m. Drawn smoothed, the line must span at most
40 m of the axis where the dots span 1,400 m (pixel spans in that ratio, 1:35; a line
drawn through the raw heights spans as much as the dots), with one dot a height.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from loopback import CHROMIUM, CHROMIUM_ARGS

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

DETAIL_JS = (Path(__file__).resolve().parents[2]
             / "src/skyfence/service/static/detail.js")

SPANS = """([points, smoothed]) => {
  const box = document.createElement('div');
  box.innerHTML = profileSvg(points, points[10].t, null, null, smoothed);
  const ys = box.querySelector('[data-testid=profile-line]').getAttribute('points')
    .trim().split(' ').map((p) => Number(p.split(',')[1]));
  const dots = [...box.querySelectorAll('[data-testid=profile-dots] circle')]
    .map((c) => Number(c.getAttribute('cy')));
  const span = (v) => v.length ? Math.max(...v) - Math.min(...v) : 0;
  return {line: span(ys), n: ys.length, dots: dots.length, dotSpan: span(dots),
          text: box.textContent};
}"""


def test_a_scattered_track_is_drawn_as_its_smoothed_line_over_faint_dots() -> None:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is missing: scripts/install-system-deps.sh installs it")
    # the module's exports as plain functions of the page (no server, no import)
    js = DETAIL_JS.read_text(encoding="utf-8").replace("export ", "")
    points = [{"t": 1_758_265_000 + 4 * k, "lat": 59.8, "lon": 26.3, "speed_ms": 250.0,
               "altitude_m": 8300.0 if k % 2 else 9700.0,
               "altitude_line_m": 9000.0 + (20.0 if k % 7 == 0 else -20.0 if k % 5 == 0
                                            else 0.0)}
              for k in range(40)]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_content("<html><body></body></html>")
            page.add_script_tag(content=js + "\nwindow.profileSvg = profileSvg;")
            smooth = page.evaluate(SPANS, [points, True])
            assert smooth["n"] == 40 and smooth["dots"] == 40
            assert smooth["line"] * 20 < smooth["dotSpan"], smooth
            assert "altitude, m" in smooth["text"] and "dots: reported heights" in smooth["text"]
            # not smoothed (a transponder's heights): the line is the heights, no dots
            clean = [{**p, "altitude_line_m": p["altitude_m"]} for p in points]
            raw = page.evaluate(SPANS, [clean, False])
            assert raw["dots"] == 0 and raw["line"] > 20 * smooth["line"], raw
        finally:
            browser.close()
