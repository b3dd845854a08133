#!/usr/bin/env bash
# Vendor the web page's front-end packages from npm into the Python package, so that
# `skyfence serve` needs no network at run time (operators' networks are often closed).
#
#   web/package.json + web/package-lock.json   the pinned packages (installed with `npm ci`)
#   src/skyfence/service/static/vendor/        what the page loads (not committed)
#
# maplibre-gl is pinned at a 6.x release: MapLibre 6 renders under software WebGL
# (SwiftShader, Debian's chromium with --disable-gpu), checked by the browser test.
# Land comes from world-atlas (Natural Earth 1:50m, public domain) as TopoJSON, read in
# the page with topojson-client. Idempotent: does nothing when the copies are current.
set -euo pipefail
cd "$(dirname "$0")/.."
web=web
out=src/skyfence/service/static/vendor
stamp="$out/.lock-sha256"
want=$(sha256sum "$web/package-lock.json" | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -f "$out/maplibre-gl.mjs" ]; then
    echo "vendor-web: up to date"
    exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
    echo "vendor-web: npm is needed (Debian: apt-get install npm)" >&2
    exit 1
fi
(cd "$web" && npm ci --no-audit --no-fund --loglevel=error)
mkdir -p "$out"
m="$web/node_modules"
cp "$m/maplibre-gl/dist/maplibre-gl.mjs" "$m/maplibre-gl/dist/maplibre-gl-worker.mjs" \
   "$m/maplibre-gl/dist/maplibre-gl-shared.mjs" "$m/maplibre-gl/dist/maplibre-gl.css" "$out/"
cp "$m/maplibre-gl/LICENSE.txt" "$out/maplibre-gl.LICENSE.txt" 2>/dev/null || true
cp "$m/topojson-client/dist/topojson-client.min.js" "$out/"
cp "$m/topojson-client/LICENSE" "$out/topojson-client.LICENSE.txt"
cp "$m/world-atlas/land-50m.json" "$out/"
cp "$m/world-atlas/LICENSE" "$out/world-atlas.LICENSE.txt"
echo "$want" > "$stamp"
echo "vendor-web: copied maplibre-gl $(node -p "require('./$m/maplibre-gl/package.json').version"), topojson-client, world-atlas land-50m to $out"
