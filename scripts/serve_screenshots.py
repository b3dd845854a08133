"""Take the README's screenshots of the operators' screen from ``skyfence serve --demo``.

    python scripts/serve_screenshots.py docs/

Runs the demo (the Vaindloo scenario looped at 10x) in a throw-away data directory on a
free loopback port, logs in as an operator made for the purpose, waits for the
incursion's incident, and saves ``serve-map.png`` (the map with the incident list) and
``serve-detail.png`` (the incident's detail) into the directory given. Uses Debian's
chromium through Playwright, as tests/web/test_browser.py does.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--use-gl=angle",
        "--use-angle=swiftshader", "--disable-background-networking"]
PASSWORD = "screenshot-pass-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="skyfence-shots-") as tmp:
        env = {**os.environ, "SKYFENCE_DEMO_DIR": tmp}
        cli = [sys.executable, "-m", "skyfence.cli"]
        subprocess.run([*cli, "users", "add", "olga", "--role", "operator", "--demo",
                        "--password-stdin"], input=PASSWORD + "\n", text=True, env=env,
                       check=True, capture_output=True)
        port = free_port()
        server = subprocess.Popen([*cli, "serve", "--demo", "--port", str(port)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 90
            while True:
                try:
                    if httpx.get(url + "/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("skyfence serve --demo did not come up")
                time.sleep(0.3)
            shoot(url, out)
        finally:
            server.terminate()
            server.wait(30)


def shoot(url: str, out: Path) -> None:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 760})
            page.goto(url + "/")
            page.fill("#login-form [name=username]", "olga")
            page.fill("#login-form [name=password]", PASSWORD)
            page.click("#login-form button[type=submit]")
            page.wait_for_function("window.skyfence && window.skyfence.ready", timeout=60000)
            page.wait_for_selector("#incidents li[data-id]", timeout=180000)
            page.wait_for_timeout(8000)  # let the track move on, its trail grow
            page.screenshot(path=str(out / "serve-map.png"))
            page.click("#incidents li[data-id]")
            page.wait_for_selector("[data-testid=detail-state]", timeout=20000)
            page.wait_for_timeout(2000)
            page.screenshot(path=str(out / "serve-detail.png"))
        finally:
            browser.close()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "."))
