# ZoneGuard service image: `zoneguard serve` against an external PostGIS
# (ZONEGUARD_DATABASE_URL). Build: docker build -t zoneguard .
FROM python:3.11-slim-bookworm AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Runtime libraries only: GDAL/GEOS/PROJ come inside the pyogrio/shapely/pyproj wheels;
# chromium renders measurement records to PDF; nodejs/npm fetch the map assets (Leaflet).
RUN apt-get update \
 && apt-get install -y --no-install-recommends chromium nodejs npm ca-certificates \
 && rm -rf /var/lib/apt/lists/*

RUN groupadd --system zoneguard \
 && useradd --system --gid zoneguard --home-dir /srv/zoneguard --create-home zoneguard

WORKDIR /srv/zoneguard/app
COPY pyproject.toml README.md alembic.ini ./
COPY zoneguard ./zoneguard
COPY spatial ./spatial
COPY api ./api
COPY alembic ./alembic
COPY data/rules ./data/rules
COPY scripts ./scripts
RUN pip install . \
 && if [ -f scripts/assets.sh ]; then bash scripts/assets.sh /srv/zoneguard/assets; fi \
 && chown -R zoneguard:zoneguard /srv/zoneguard

USER zoneguard
ENV ZONEGUARD_ENVIRONMENT=production \
    ZONEGUARD_HOME=/srv/zoneguard/home \
    ZONEGUARD_ASSETS_DIR=/srv/zoneguard/assets \
    ZONEGUARD_RULES_DIR=/srv/zoneguard/app/data/rules
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz').status != 200)"
ENTRYPOINT ["zoneguard"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
