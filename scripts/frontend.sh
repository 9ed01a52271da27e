#!/usr/bin/env bash
# Browser packages for the query UI, the map and the timeline, from the npm registry (issue 4 §3,
# §4): `npm ci` in frontend/, then copy the packages' own dist files (no build step) into
# src/citygraph/web/static/vendor/, which citygraph serves under /assets/vendor/ (no CDN).
# Idempotent; does nothing when the copy matches frontend/package-lock.json and this script.
# Called by `make serve` and `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
FRONTEND=frontend
VENDOR=src/citygraph/web/static/vendor
STAMP="$VENDOR/.stamp"

# package-relative source file -> file name under vendor/
FILES=(
    "@zazuko/yasgui/build/yasgui.min.js yasgui.min.js"
    "@zazuko/yasgui/build/yasgui.min.css yasgui.min.css"
    "d3-array/dist/d3-array.min.js d3-array.min.js"
    "d3-array/LICENSE d3-array.LICENSE"
    "d3-geo/dist/d3-geo.min.js d3-geo.min.js"
    "d3-geo/LICENSE d3-geo.LICENSE"
    "d3-selection/dist/d3-selection.min.js d3-selection.min.js"
    "d3-selection/LICENSE d3-selection.LICENSE"
    "topojson-client/dist/topojson-client.min.js topojson-client.min.js"
    "topojson-client/LICENSE topojson-client.LICENSE"
    "world-atlas/countries-110m.json countries-110m.json"
    "world-atlas/LICENSE world-atlas.LICENSE"
)

want="$(cat "$FRONTEND/package-lock.json" "$0" | sha256sum | cut -d' ' -f1)"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
    exit 0
fi

echo "== frontend: npm ci"
command -v npm >/dev/null || { echo "frontend.sh: npm (Node.js 20+) is needed" >&2; exit 2; }
# --ignore-scripts: the dist files are prebuilt, nothing needs to run at install time.
(cd "$FRONTEND" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)

rm -rf "$VENDOR"
mkdir -p "$VENDOR"
for entry in "${FILES[@]}"; do
    read -r source target <<<"$entry"
    cp "$FRONTEND/node_modules/$source" "$VENDOR/$target"
done
echo "$want" >"$STAMP"
echo "== frontend: $(( ${#FILES[@]} )) files in $VENDOR"
