#!/usr/bin/env bash
# Installs what ZoneGuard needs on Debian/Ubuntu, only what is missing:
#   PostgreSQL + PostGIS + pgRouting (apt), gdal-bin and chromium (tests), a venv with the
#   project and its dev extras. Safe to run again: a second run takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
APT_UPDATED=0
apt_install() {
  [ "$#" -gt 0 ] || return 0
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "error: missing $*; install them with your package manager (apt-get not found)" >&2
    exit 1
  fi
  if [ "$APT_UPDATED" = 0 ]; then $SUDO apt-get update -qq; APT_UPDATED=1; fi
  echo "installing: $*"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

pg_version() { ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sed -E 's#.*/postgresql/([0-9]+)/bin/initdb#\1#' | sort -n | tail -1; }

need=()
[ -n "$(pg_version)" ] || need+=(postgresql)
command -v ogrinfo >/dev/null 2>&1 || need+=(gdal-bin)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)  # PDF pages to PNG (report screenshots)
command -v npm >/dev/null 2>&1 || need+=(npm)
# a CJK font, so Chinese labels in PDFs and screenshots are not empty boxes
[ -n "$(ls /usr/share/fonts/truetype/wqy 2>/dev/null)" ] || need+=(fonts-wqy-microhei)
PYTHON="${PYTHON:-}"
if [ -z "$PYTHON" ]; then
  for candidate in python3.11 python3.12 python3.13 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
      PYTHON="$candidate"; break
    fi
  done
fi
[ -n "$PYTHON" ] || need+=(python3 python3-venv)
if [ -n "$PYTHON" ] && [ ! -d .venv ] && ! "$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1; then
  need+=(python3-venv)
fi
apt_install "${need[@]}"
[ -n "$PYTHON" ] || PYTHON=python3

PGV="$(pg_version)"
ext=/usr/share/postgresql/$PGV/extension
lib=/usr/lib/postgresql/$PGV/lib
more=()
# both the extension's control file and its library: the -scripts packages can stay behind
# when the library package was removed
{ [ -f "$ext/postgis.control" ] && ls "$lib"/postgis-3.so >/dev/null 2>&1; } \
  || more+=("postgresql-$PGV-postgis-3")
{ [ -f "$ext/pgrouting.control" ] && ls "$lib"/libpgrouting*.so >/dev/null 2>&1; } \
  || more+=("postgresql-$PGV-pgrouting")
apt_install "${more[@]}"

if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.zoneguard-installed
want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[dev]'
  echo "$want" > "$stamp"
fi

# Map assets (Leaflet and plugins) from the npm registry; nothing of them is committed.
bash scripts/assets.sh .venv/share/zoneguard-assets
