"""Set-based SQL of the import: staging tables and idempotent upserts on natural keys."""

from __future__ import annotations

STAGE_PREMISES = """
CREATE TEMP TABLE stage_premises (
    licence_no text, name text, category text, address text, operator text, region text,
    issued_on date, expires_on date, status text, location geometry(Point, 4326),
    entrance geometry(Point, 4326), attributes jsonb, source_row int
) ON COMMIT DROP
"""
STAGE_PREMISES_COLUMNS = (
    "licence_no", "name", "category", "address", "operator", "region", "issued_on",
    "expires_on", "status", "location", "entrance", "attributes", "source_row",
)

STAGE_SCHOOLS = """
CREATE TEMP TABLE stage_school (
    code text, name text, levels text[], enrolment int, region text, address text,
    opened_on date, closed_on date, boundary geometry(MultiPolygon, 4326),
    location geometry(Point, 4326), precision text, attributes jsonb, source_row int
) ON COMMIT DROP
"""
STAGE_SCHOOLS_COLUMNS = (
    "code", "name", "levels", "enrolment", "region", "address", "opened_on", "closed_on",
    "boundary", "location", "precision", "attributes", "source_row",
)

STAGE_GATES = """
CREATE TEMP TABLE stage_gate (
    school_code text, kind text, name text, location geometry(Point, 4326), source_row int
) ON COMMIT DROP
"""
STAGE_GATES_COLUMNS = ("school_code", "kind", "name", "location", "source_row")

_PREMISES_CHANGED = """
    (p.name, p.address, p.operator, p.issued_on, p.expires_on, p.status, p.attributes,
     p.location, p.entrance)
    IS DISTINCT FROM
    (s.name, s.address, s.operator, s.issued_on, s.expires_on, s.status, s.attributes,
     s.location, s.entrance)
"""
_PREMISES_KEY = "p.category = s.category AND p.licence_no = s.licence_no AND p.region = s.region"

# One join finds the changed rows: their previous state goes to registry_history and the
# update applies the file's values (both parts of the statement see the same snapshot).
PREMISES_UPDATE = f"""
WITH changed AS MATERIALIZED (
    SELECT p.id, s.name, s.address, s.operator, s.issued_on, s.expires_on, s.status,
           s.attributes, s.location, s.entrance,
           to_jsonb(p) - 'location' - 'entrance'
           || jsonb_build_object('location', ST_AsText(p.location),
                                 'entrance', ST_AsText(p.entrance)) AS previous
    FROM premises p JOIN stage_premises s ON {_PREMISES_KEY}
    WHERE {_PREMISES_CHANGED}
), history AS (
    INSERT INTO registry_history (entity, entity_id, import_id, previous)
    SELECT 'premises', c.id, :import_id, c.previous FROM changed c
)
UPDATE premises p SET
    name = c.name, address = c.address, operator = c.operator, issued_on = c.issued_on,
    expires_on = c.expires_on, status = c.status, attributes = c.attributes,
    location = c.location, entrance = c.entrance, source = :source,
    source_crs = :source_crs, import_id = :import_id, updated_at = now()
FROM changed c
WHERE p.id = c.id
"""

PREMISES_INSERT = """
INSERT INTO premises (category, licence_no, name, address, operator, region, location,
                      entrance, issued_on, expires_on, status, source, source_crs,
                      attributes, import_id)
SELECT s.category, s.licence_no, s.name, s.address, s.operator, s.region, s.location,
       s.entrance, s.issued_on, s.expires_on, s.status, :source, :source_crs,
       s.attributes, :import_id
FROM stage_premises s
WHERE NOT EXISTS (
    SELECT 1 FROM premises p
    WHERE p.category = s.category AND p.licence_no = s.licence_no AND p.region = s.region)
"""

# Premises of the same registry (category and region present in the file) that the file
# no longer lists. Counted always; closed only with an explicit flag.
PREMISES_MISSING = """
SELECT p.id FROM premises p
WHERE (p.category, p.region) IN (SELECT DISTINCT category, region FROM stage_premises)
  AND p.status <> 'closed'
  AND NOT EXISTS (
    SELECT 1 FROM stage_premises s
    WHERE p.category = s.category AND p.licence_no = s.licence_no AND p.region = s.region)
"""

PREMISES_CLOSE = f"""
WITH missing AS ({PREMISES_MISSING}),
history AS (
    INSERT INTO registry_history (entity, entity_id, import_id, previous)
    SELECT 'premises', p.id, :import_id, jsonb_build_object('status', p.status)
    FROM premises p JOIN missing m ON m.id = p.id
)
UPDATE premises p SET status = 'closed', import_id = :import_id, updated_at = now()
FROM missing m WHERE m.id = p.id
"""

_SCHOOL_CHANGED = """
    (t.name, t.levels, t.enrolment, t.region, t.address, t.opened_on, t.closed_on,
     t.boundary, t.location, t.precision, t.attributes)
    IS DISTINCT FROM
    (s.name, s.levels, s.enrolment, s.region, s.address, s.opened_on, s.closed_on,
     s.boundary, s.location, s.precision, s.attributes)
"""

SCHOOL_HISTORY = f"""
INSERT INTO registry_history (entity, entity_id, import_id, previous)
SELECT 'school', t.id, :import_id,
       to_jsonb(t) - 'boundary' - 'location'
       || jsonb_build_object('boundary', ST_AsText(t.boundary),
                             'location', ST_AsText(t.location))
FROM school t JOIN stage_school s ON s.code = t.code
WHERE {_SCHOOL_CHANGED}
"""

SCHOOL_UPDATE = f"""
UPDATE school t SET
    name = s.name, levels = s.levels, enrolment = s.enrolment, region = s.region,
    address = s.address, opened_on = s.opened_on, closed_on = s.closed_on,
    boundary = s.boundary, location = s.location, precision = s.precision,
    attributes = s.attributes, source = :source, import_id = :import_id, updated_at = now()
FROM stage_school s
WHERE s.code = t.code AND {_SCHOOL_CHANGED}
"""

SCHOOL_INSERT = """
INSERT INTO school (code, name, levels, enrolment, region, address, opened_on, closed_on,
                    boundary, location, precision, attributes, source, import_id)
SELECT s.code, s.name, s.levels, s.enrolment, s.region, s.address, s.opened_on,
       s.closed_on, s.boundary, s.location, s.precision, s.attributes, :source, :import_id
FROM stage_school s
WHERE NOT EXISTS (SELECT 1 FROM school t WHERE t.code = s.code)
"""

GATE_UNKNOWN_SCHOOLS = """
SELECT s.source_row, s.school_code FROM stage_gate s
WHERE NOT EXISTS (SELECT 1 FROM school t WHERE t.code = s.school_code)
ORDER BY s.source_row
"""

# Gates are replaced per school: a school's gates become exactly those of the file.
GATE_DELETE = """
DELETE FROM school_gate g USING school t
WHERE g.school_id = t.id
  AND t.code IN (SELECT school_code FROM stage_gate)
  AND NOT EXISTS (
    SELECT 1 FROM stage_gate s
    WHERE s.school_code = t.code AND s.kind = g.kind AND s.location = g.location
      AND s.name IS NOT DISTINCT FROM g.name)
"""

GATE_INSERT = """
INSERT INTO school_gate (school_id, kind, name, location, source, import_id)
SELECT t.id, s.kind, s.name, s.location, :source, :import_id
FROM stage_gate s JOIN school t ON t.code = s.school_code
WHERE NOT EXISTS (
    SELECT 1 FROM school_gate g
    WHERE g.school_id = t.id AND g.kind = s.kind AND g.location = s.location
      AND g.name IS NOT DISTINCT FROM s.name)
"""

# Bulk loads: the premises GiST indexes are dropped before a large insert and built again
# after it (a sorted build is cheaper than maintaining them row by row).
PREMISES_LOCK_WRITERS = "LOCK TABLE premises IN SHARE ROW EXCLUSIVE MODE"
PREMISES_NEW_ROWS = """
SELECT count(*) FROM stage_premises s
WHERE NOT EXISTS (
    SELECT 1 FROM premises p
    WHERE p.category = s.category AND p.licence_no = s.licence_no AND p.region = s.region)
"""
# Whether any premises of the given registries (category, region pairs) exist: when none
# do, an import COPYs its rows straight into premises.
PREMISES_REGISTRY_EXISTS = """
SELECT EXISTS (
    SELECT 1 FROM premises p
    JOIN unnest(CAST(:categories AS text[]), CAST(:regions AS text[])) AS k (category, region)
      ON p.category = k.category AND p.region = k.region)
"""
PREMISES_ROWS_UP_TO = "SELECT count(*) FROM (SELECT 1 FROM premises LIMIT :limit) t"
