#!/usr/bin/env bash
# The demo: set-up (scripts/setup.sh), then `zoneguard demo` on the embedded PostGIS.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/zoneguard demo "$@"
