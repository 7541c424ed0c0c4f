"""SQL of the rescan: the set-based measurement (through `spatial.measure`) and the diff.

Every value is a bound parameter; the `{...}` fields of the templates are filled only with
fixed fragments of this module. Change tracking uses the rows' `xmin`: a row version written
by a transaction with an id at or above a scan's snapshot `xmin` may have been invisible to
that scan, so the next scan measures it again (conservative: never misses a change).
"""

from __future__ import annotations

from spatial.measure import PAIR_COLUMNS, PAIR_JOINS
from zoneguard.domain import (
    ACTIVE_STATES,
    DECIDED_STATES,
    REBOUND_STATES,
    STEP_DAYS,
    FindingState,
    sql_list,
)

SCANNED_STATUSES = ("active", "suspended")
ACTIVE = sql_list(ACTIVE_STATES)  # ('found', 'reported', …): the cases a scan keeps measuring
REBOUND = sql_list(REBOUND_STATES)
DECIDED = sql_list(DECIDED_STATES)
FOUND_DAYS = STEP_DAYS[FindingState.FOUND]
LOCK_KEY = 0x5A47_5343_414E  # "ZGSCAN": the one advisory lock of the rescan

# The 64-bit id of a row's 32-bit `xmin`, read circularly around the current xid counter
# (`:cur`; `:epoch` is its high half) as PostgreSQL compares xids; ids 0-2 are the oldest.
_XID = """(CASE WHEN {a}.xmin::text::bigint < 3 THEN 0
      WHEN :epoch + {a}.xmin::text::bigint > :cur + 2147483648
          THEN :epoch + {a}.xmin::text::bigint - 4294967296
      WHEN :epoch + {a}.xmin::text::bigint < :cur - 2147483648
          THEN :epoch + {a}.xmin::text::bigint + 4294967296
      ELSE :epoch + {a}.xmin::text::bigint END)"""


def changed(alias: str) -> str:
    """SQL predicate: the row of `alias` was written at or after the base scan's snapshot."""
    return f"({_XID.format(a=alias)} >= :base_xmin)"


SNAPSHOT = """
SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin,
       pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS xmax
"""

DATA_VERSIONS = """
SELECT (SELECT count(*) FROM school) AS schools,
       (SELECT max(updated_at) FROM school) AS schools_updated,
       (SELECT count(*) FROM premises) AS premises,
       (SELECT max(updated_at) FROM premises) AS premises_updated,
       (SELECT count(*) FROM school_gate) AS gates,
       (SELECT count(*) FROM school_gate g WHERE NOT {settled}) AS gates_settled
""".format(settled=changed("g"))

SETTLED_GATES = f"SELECT count(*) FROM school_gate g WHERE NOT {changed('g')}"

CHANGED_SCHOOLS = f"""
SELECT s.id FROM school s WHERE {changed('s')}
UNION SELECT g.school_id FROM school_gate g WHERE {changed('g')}
UNION SELECT s.id FROM school s WHERE s.closed_on > :base_day AND s.closed_on <= :on
"""

# The door a pair is measured from: the entrance, unless it lies implausibly far from its
# premises (registered before imports refused such entrances): then the premises point.
_DOOR = ("CASE WHEN p.entrance IS NOT NULL AND ST_DWithin(geography(p.entrance), "
         "geography(p.location), :max_entrance_m, true) THEN p.entrance ELSE p.location END")

_PREMISES = f"""
SELECT p.id AS premises_id, p.category, p.region AS premises_region, p.issued_on,
       p.location, {_DOOR} AS door,
       r.reach_m + CASE WHEN p.entrance IS NULL THEN 0
                        ELSE ST_Distance(geography(p.entrance), geography(p.location), true)
                   END AS reach_m
FROM premises p
JOIN unnest(CAST(:categories AS text[]), CAST(:reaches AS float8[])) AS r(category, reach_m)
  ON r.category = p.category
WHERE p.status IN ('active', 'suspended')
  AND (CAST(:region AS text) IS NULL OR p.region LIKE CAST(:region AS text) || '%')
  {{premises_filter}}
"""

# Changed premises (few) look up the schools around each of them: a pair is measured when
# the campus lies within the category's reach (largest rule distance + margin + 1 m) of the
# premises point, widened by the entrance offset (a door closer to the school than the point)
# and, for a school known only by its point, by the assumed campus radius. Beyond that no rule
# can answer anything but `allowed`. The bounding-box test `&&` lets the GiST index find
# candidates whatever the per-pair radius.
_PAIRS_BY_PREMISES = """
SELECT p.premises_id, p.category, p.premises_region, p.issued_on,
       ST_X(p.location) AS lon, ST_Y(p.location) AS lat,
       ST_X(p.door) AS door_lon, ST_Y(p.door) AS door_lat,
       {columns}
FROM ({premises}) p
JOIN school s
  ON geography(COALESCE(s.boundary, s.location))
     && _ST_Expand(geography(p.location), p.reach_m + :point_radius_m)
 AND ST_DWithin(geography(COALESCE(s.boundary, s.location)), geography(p.location),
                p.reach_m + CASE WHEN s.boundary IS NULL THEN :point_radius_m ELSE 0 END, true)
{joins}
WHERE (s.closed_on IS NULL OR s.closed_on > :on) {school_filter}
"""

# A full scan (and unchanged premises against changed schools) goes the other way: each
# school looks up the premises around it, one index probe per school instead of one per
# premises (a nation has ten premises per school). A pair is measured when the premises point
# or its door lies within the category's reach of the campus (+ the assumed radius of a
# point-only school): the boundary metric measures from the point, the gate and walking
# metrics from the door, and a gate lies on its campus.
# The first probe finds the premises whose point lies in the campus box grown by the largest
# reach, and by DOOR_SLACK_M more for a premises with a door (its door may be nearer). The
# second finds, through their own small index, the premises whose door is farther than
# DOOR_SLACK_M from their point and lies in the box while their point does not: no pair is
# missed and none comes twice.
DOOR_SLACK_M = 20  # a literal in the SQL: it must match the partial index's predicate
_FAR_DOOR = (f"p.entrance IS NOT NULL AND NOT ST_DWithin(geography(p.entrance), "
             f"geography(p.location), {DOOR_SLACK_M}, true)")
_REACH = "(CAST(:reaches AS float8[]))[array_position(CAST(:categories AS text[]), p.category)]"
_FOOTPRINT = "geography(COALESCE(s.boundary, s.location))"
_WIDEN = "CASE WHEN s.boundary IS NULL THEN :point_radius_m ELSE 0 END"
_BOX = f"_ST_Expand({_FOOTPRINT}, :reach_max_m + {_WIDEN})"
_SLACK_BOX = f"_ST_Expand({_FOOTPRINT}, :reach_max_m + {DOOR_SLACK_M} + {_WIDEN})"
_PAIRS_BY_SCHOOL = f"""
SELECT p.id AS premises_id, p.category, p.region AS premises_region, p.issued_on,
       ST_X(p.location) AS lon, ST_Y(p.location) AS lat,
       ST_X(p.door) AS door_lon, ST_Y(p.door) AS door_lat,
       {{columns}}
FROM school s
JOIN LATERAL (
    SELECT p.*, {_DOOR} AS door FROM premises p
    WHERE {{probe}}
      AND (ST_DWithin({_FOOTPRINT}, geography(p.location), {_REACH} + {_WIDEN}, true)
           OR (p.entrance IS NOT NULL
               AND ST_DWithin({_FOOTPRINT}, geography(p.entrance), {_REACH} + {_WIDEN}, true)))
      AND p.status IN ('active', 'suspended')
      AND (CAST(:region AS text) IS NULL OR p.region LIKE CAST(:region AS text) || '%')
      {{premises_filter}}
) p ON true
{{joins}}
WHERE (s.closed_on IS NULL OR s.closed_on > :on) {{school_filter}}
"""
_BY_POINT = f"""geography(p.location) && {_SLACK_BOX}
      AND (p.entrance IS NOT NULL OR geography(p.location) && {_BOX})"""
_BY_FAR_DOOR = f"""{_FAR_DOOR} AND geography(p.entrance) && {_BOX}
      AND NOT geography(p.location) && {_SLACK_BOX}"""


def measure_sql(*, incremental: bool, premises_part: str = "", schools_part: str = "") -> str:
    """The measurement: every (premises, school) pair within reach, with `PAIR_COLUMNS`.

    A partition (`scan_partition`) adds `premises_part` (its premises) and `schools_part`
    (the schools that may lie within reach of them, across its border too).
    """
    columns = PAIR_COLUMNS.format(pt="p.location", door="p.door")
    joins = PAIR_JOINS.format(pt="p.location", door="p.door")

    def by_school(premises_filter: str, school_filter: str) -> str:
        return "UNION ALL".join(
            _PAIRS_BY_SCHOOL.format(columns=columns, probe=probe, joins=joins,
                                    premises_filter=premises_filter,
                                    school_filter=school_filter)
            for probe in (_BY_POINT, _BY_FAR_DOOR))

    if not incremental:
        return by_school(premises_part, schools_part)
    # Changed premises against every school, and unchanged premises against changed schools.
    changed_premises = _PAIRS_BY_PREMISES.format(
        columns=columns, joins=joins, school_filter="",
        premises=_PREMISES.format(premises_filter=f"AND {changed('p')} {premises_part}"))
    return changed_premises + "UNION ALL" + by_school(
        f"AND NOT {changed('p')} {premises_part}",
        f"AND s.id = ANY(CAST(:schools AS bigint[])) {schools_part}")


CREATE_HITS = """
CREATE TEMP TABLE scan_hit (
    school_id bigint NOT NULL, premises_id bigint NOT NULL, rule_id text NOT NULL,
    metric text NOT NULL, distance_m float8, threshold_m float8, verdict text NOT NULL,
    reasons jsonb NOT NULL, line geometry(LineString, 4326), existing boolean NOT NULL,
    PRIMARY KEY (school_id, premises_id, rule_id)
) ON COMMIT DROP
"""

FINDINGS_UP_TO = "SELECT count(*) FROM (SELECT 1 FROM finding LIMIT :limit) t"

COPY_HITS = ("COPY scan_hit (school_id, premises_id, rule_id, metric, distance_m, threshold_m, "
             "verdict, reasons, line, existing) FROM STDIN")

_KEY = "f.school_id = h.school_id AND f.premises_id = h.premises_id AND f.rule_id = h.rule_id"
_MEASURED = """metric = h.metric, distance_m = h.distance_m, threshold_m = h.threshold_m,
    verdict = h.verdict, reasons = h.reasons, line = h.line, existing = h.existing,
    rule_set_version = :rsv,
    last_scan_id = :scan, last_seen = now()"""
_EVENT = ("INSERT INTO finding_event (finding_id, actor, from_state, to_state, comment, scan_id, "
          "distance_m)")

INSERT_NEW = f"""
WITH ins AS (
    INSERT INTO finding (school_id, premises_id, rule_id, metric, distance_m, threshold_m,
                         verdict, reasons, line, existing, state, step_due, rule_set_version,
                         first_scan_id, last_scan_id, first_seen, last_seen)
    SELECT h.school_id, h.premises_id, h.rule_id, h.metric, h.distance_m, h.threshold_m,
           h.verdict, h.reasons, h.line, h.existing, 'found', CAST(:on AS date) + {FOUND_DAYS},
           :rsv, :scan, :scan, now(), now()
    FROM scan_hit h
    ON CONFLICT (school_id, premises_id, rule_id) DO NOTHING
    RETURNING id, distance_m
)
{_EVENT}
SELECT ins.id, :actor, NULL, 'found', '第 ' || CAST(:scan AS text) || ' 次扫描发现', :scan,
       ins.distance_m
FROM ins
"""

# Open findings that still conflict: counted; rewritten only when the measurement or the rule
# set changed (an unchanged one shows this scan as when it was last seen: `zg_finding_seen`).
UPDATE_OPEN = f"""
WITH still AS MATERIALIZED (
    SELECT f.id,
           (f.metric, f.distance_m, f.threshold_m, f.verdict, f.reasons, f.line, f.existing,
            f.rule_set_version)
           IS DISTINCT FROM
           (h.metric, h.distance_m, h.threshold_m, h.verdict, h.reasons, h.line, h.existing,
            CAST(:rsv AS text)) AS changed
    FROM finding f JOIN scan_hit h ON {_KEY}
    WHERE f.state IN {ACTIVE}
      AND f.last_scan_id IS DISTINCT FROM :scan
), upd AS (
    UPDATE finding f SET {_MEASURED}
    FROM still, scan_hit h
    WHERE still.changed AND f.id = still.id AND {_KEY}
)
SELECT count(*) FROM still
"""

# Findings that conflict again: a resolved one (自动解除) comes back; a rectified and accepted
# or closed one whose premises still operates within the distance is 反弹 (unless measured
# outside on site); a decided closing (核查不属实, 依法保留, 特殊情形) holds unless the conflict
# changed materially: a worse verdict, a distance shorter by more than `material_m`, a longer
# rule distance or another metric.
REOPEN = f"""
WITH back AS (
    SELECT f.id, f.state AS from_state, h.distance_m, f.state IN {REBOUND} AS rebound,
           CASE WHEN f.state = 'resolved'
                THEN '第 ' || CAST(:scan AS text) || ' 次扫描再次发现冲突'
                WHEN f.state IN {REBOUND}
                THEN '反弹：' || CASE f.state WHEN 'closed' THEN '销号' ELSE '验收' END
                     || '后第 ' || CAST(:scan AS text) || ' 次扫描复查，场所仍在营且仍在距离内（'
                     || COALESCE(round(h.distance_m::numeric, 1)::text, '-') || ' 米），列入回头看'
                ELSE '第 ' || CAST(:scan AS text) || ' 次扫描重新开启：冲突自办结后发生实质变化（'
                     || f.verdict || ' ' || COALESCE(round(f.distance_m::numeric, 1)::text, '-')
                     || ' 米 → ' || h.verdict || ' '
                     || COALESCE(round(h.distance_m::numeric, 1)::text, '-') || ' 米）'
           END AS comment
    FROM finding f JOIN scan_hit h ON {_KEY}
    WHERE f.state = 'resolved'
       OR (f.state IN {REBOUND} AND f.field_verdict IS DISTINCT FROM 'allowed')
       OR (f.state IN {DECIDED} AND (
             (h.verdict = 'prohibited' AND f.verdict <> 'prohibited')
          OR h.distance_m < f.distance_m - :material_m
          OR (h.distance_m IS NOT NULL AND f.distance_m IS NULL AND h.verdict = 'prohibited')
          OR h.threshold_m > f.threshold_m
          OR h.metric <> f.metric))
    FOR UPDATE OF f
), upd AS (
    UPDATE finding f SET {_MEASURED}, state = 'found', resolved_at = NULL, resolution = NULL,
        assignee = NULL, deadline = NULL, rebound = back.rebound,
        step_due = CAST(:on AS date) + {FOUND_DAYS}, rectified_by = NULL
    FROM back, scan_hit h
    WHERE f.id = back.id AND {_KEY}
    RETURNING f.id
)
{_EVENT}
SELECT back.id, :actor, back.from_state, 'found', back.comment, :scan, back.distance_m FROM back
"""

# Decided (or field-measured) closings that still conflict without material change: seen.
TOUCH_CLOSED = f"""
UPDATE finding f SET last_scan_id = :scan, last_seen = now()
FROM scan_hit h
WHERE {_KEY} AND f.state IN {sql_list((*DECIDED_STATES, *REBOUND_STATES))}
  AND f.last_scan_id IS DISTINCT FROM :scan
"""

_REASON = """CASE
    WHEN p.status NOT IN ('active', 'suspended') THEN '场所状态为 ' || p.status || '（已不在营）'
    WHEN s.closed_on IS NOT NULL AND s.closed_on <= :on THEN '学校已于 ' || s.closed_on || ' 停办'
    WHEN NOT (f.rule_id = ANY(CAST(:rule_ids AS text[])))
        THEN '规则 ' || f.rule_id || ' 已不再施行（规则集 ' || :rsv || '）'
    WHEN f.line IS NOT NULL AND NOT ST_Equals(ST_StartPoint(f.line), p.location)
         AND NOT ST_Equals(ST_StartPoint(f.line), COALESCE(p.entrance, p.location))
        THEN '场所已迁移：按 ' || f.rule_id || ' 不再冲突'
    ELSE '按 ' || f.rule_id || ' 不再冲突（学校、校门、学段、许可日期或规则有变）'
END"""

RESOLVE = f"""
WITH gone AS (
    SELECT f.id, f.state AS from_state, {_REASON} AS reason
    FROM finding f
    JOIN premises p ON p.id = f.premises_id
    JOIN school s ON s.id = f.school_id
    WHERE f.state IN {ACTIVE}
      AND (CAST(:region AS text) IS NULL OR p.region LIKE CAST(:region AS text) || '%')
      {{scope}}
      AND NOT EXISTS (SELECT 1 FROM scan_hit h WHERE {_KEY})
    FOR UPDATE OF f
), upd AS (
    UPDATE finding f SET state = 'resolved', resolved_at = now(), resolution = gone.reason
    FROM gone WHERE f.id = gone.id
    RETURNING f.id
)
{_EVENT}
SELECT gone.id, :actor, gone.from_state, 'resolved', gone.reason, :scan, NULL FROM gone
"""

_SCOPE = f"""AND ({changed('p')} OR f.school_id = ANY(CAST(:schools AS bigint[])))"""


def resolve_sql(*, incremental: bool) -> str:
    """Resolve open findings of the measured scope that no longer conflict."""
    return RESOLVE.format(scope=_SCOPE if incremental else "")


# Incremental scan: the open findings of unchanged premises and schools stand as they are
# and are not rewritten (`zg_finding_seen` derives when they were last confirmed); after the
# statements above every other open finding of the scope was measured again (a hit, counted
# by UPDATE_OPEN) or resolved.
CONFIRM_UNCHANGED = f"""
SELECT count(*) FROM finding f
WHERE f.state IN {ACTIVE}
  AND f.last_scan_id IS DISTINCT FROM :scan
  AND NOT EXISTS (SELECT 1 FROM scan_hit h WHERE {_KEY})
  AND (CAST(:region AS text) IS NULL OR EXISTS (
        SELECT 1 FROM premises p
        WHERE p.id = f.premises_id AND p.region LIKE CAST(:region AS text) || '%'))
"""

MARK_STALE = """
UPDATE scan SET status = 'failed', finished_at = now(),
    error = '扫描中断：运行该扫描的进程在完成前已结束'
WHERE status = 'running'
"""
