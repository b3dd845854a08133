#!/usr/bin/env bash
# Install the system packages skyfence's integration tests need (idempotent, non-interactive).
#
# dump1090-mutability: a real Mode S decoder used as the live-feed peer in
# tests/sources/test_dump1090_feed.py. Runs without a radio in --net-only mode.
# time: GNU time, whose -v report gives `skyfence bench memory` a child's peak memory
# (without it the benchmark reads the child's own VmHWM).
# postgresql: the server the incident store's tests run against (tests/incidents/pg.py
# starts a throw-away cluster on a free loopback port; the Debian service is not used).
# chromium, fonts-dejavu-core: the browser test of the operators' screen
# (tests/web/test_browser.py drives Debian's chromium with Playwright's Python package;
# Playwright's own browser download is never used).
# npm: vendors the web page's front-end packages (scripts/vendor-web.sh), installed only
# when no npm is on the PATH (a Node.js from elsewhere brings its own).
# Usable by root in CI; for another user it goes through sudo when available.
#
#   scripts/install-system-deps.sh          everything above (make test)
#   scripts/install-system-deps.sh npm      only the named ones (make web: the demo needs
#                                           no test tools)
set -euo pipefail

if [ "$#" -gt 0 ]; then
    wanted=("$@")
else
    wanted=(dump1090-mutability time postgresql chromium fonts-dejavu-core npm)
fi
packages=()
for pkg in "${wanted[@]}"; do
    # a Node.js from elsewhere brings its own npm (and Debian's would conflict with it)
    if [ "$pkg" = npm ] && command -v npm >/dev/null 2>&1; then
        continue
    fi
    packages+=("$pkg")
done
if [ "${#packages[@]}" -eq 0 ]; then
    echo "install-system-deps: all present (${wanted[*]})"
    exit 0
fi

missing=()
for pkg in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$pkg")
    fi
done

if [ "${#missing[@]}" -eq 0 ]; then
    echo "install-system-deps: all present (${packages[*]})"
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo -n)
else
    echo "install-system-deps: need root to install ${missing[*]}" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install-system-deps: installed ${missing[*]}"
