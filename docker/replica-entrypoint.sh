#!/bin/bash
# The `scale` profile's read replica: copies the primary once (pg_basebackup -R, its own
# replication slot), then runs as a hot standby. ZoneGuard's partitioned rescans read it.
set -euo pipefail
export PGPASSWORD="${POSTGRES_PASSWORD}"
if [ ! -s "${PGDATA}/PG_VERSION" ]; then
  until pg_isready -h "${PRIMARY_HOST}" -U "${POSTGRES_USER}"; do sleep 1; done
  mkdir -p "${PGDATA}" && chown postgres:postgres "${PGDATA}" && chmod 700 "${PGDATA}"
  gosu postgres psql -h "${PRIMARY_HOST}" -U "${POSTGRES_USER}" -d postgres -Atc \
    "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots
     WHERE slot_name = '${REPLICA_SLOT}' AND NOT active" >/dev/null
  gosu postgres pg_basebackup -h "${PRIMARY_HOST}" -U "${POSTGRES_USER}" -D "${PGDATA}" \
    -R -X stream -c fast -C -S "${REPLICA_SLOT}"
fi
exec gosu postgres postgres -D "${PGDATA}" -c hot_standby=on -c hot_standby_feedback=on
