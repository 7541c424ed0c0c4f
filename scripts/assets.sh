#!/usr/bin/env bash
# Installs the map assets (Leaflet and its plugins) from the npm registry into DIR
# (default .venv/share/zoneguard-assets), where ZoneGuard serves them from: maps then work
# on an offline intranet. Nothing of them is committed to the repository.
set -euo pipefail
ASSETS="${1:-.venv/share/zoneguard-assets}"
if [ ! -f "$ASSETS/node_modules/leaflet.vectorgrid/dist/Leaflet.VectorGrid.bundled.min.js" ]; then
  mkdir -p "$ASSETS"
  npm install --prefix "$ASSETS" --no-save --no-audit --no-fund --no-package-lock --silent \
    leaflet@1.9.4 leaflet.markercluster@1.5.3 leaflet.vectorgrid@1.3.0
fi
