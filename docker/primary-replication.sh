#!/bin/bash
# Runs once when the primary's data directory is created (/docker-entrypoint-initdb.d):
# lets the `scale` profile's replica stream from it over the compose network.
set -euo pipefail
echo "host replication ${POSTGRES_USER} samenet scram-sha-256" >> "${PGDATA}/pg_hba.conf"
