#!/usr/bin/env bash
# The test suite: set-up (scripts/setup.sh), lint, types, then pytest against a private
# embedded PostGIS started in a temporary ZONEGUARD_HOME. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/mypy
.venv/bin/lint-imports
exec .venv/bin/pytest "$@"
