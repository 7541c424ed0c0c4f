"""Scans use the walking metric like screening does: a walked path, drawn, only when needed."""

from __future__ import annotations

from sqlalchemy import Engine, text

from tests.conftest import REAL
from tests.factories import add_gate, add_premises, add_school
from tests.scratchdb import scratch_database
from zoneguard.db.engine import session_scope
from zoneguard.imports import read_table
from zoneguard.services.ingest.network import import_network
from zoneguard.services.scan.run import run_scan
from zoneguard.settings import Settings

DAYUN_CODE, DAYUN_GATE = "osm:way/533650676", (114.2154351, 22.6917416)
NEAR_GATE = (114.21522, 22.69165)  # walked a few metres to the gate
ACROSS_ROAD = (114.21633, 22.69066)  # 68 m straight, more than 400 m walked


def test_scan_walks_guangdong_pairs_and_stores_the_walked_path(engine: Engine,
                                                              settings: Settings) -> None:
    with scratch_database(engine, settings) as (_url, scratch):
        with session_scope(scratch) as session:
            import_network(session, path=REAL / "shenzhen_longgang.osm", region="440307")
            frame = read_table(REAL / "shenzhen_longgang.osm", kind="schools", crs=None).frame
            row = frame[frame.code == DAYUN_CODE].iloc[0]
            sid = add_school(session, row.code, row.geometry, levels=tuple(row.levels),
                             name=row["name"], region="440307")
            add_gate(session, sid, *DAYUN_GATE)
            add_premises(session, "entertainment", *NEAR_GATE, licence_no="GD-1",
                         region="440307")
            add_premises(session, "entertainment", *ACROSS_ROAD, licence_no="GD-2",
                         region="440307")
        summary = run_scan(scratch, trigger="manual", settings=settings)
        assert summary.new == 2
        with scratch.connect() as conn:
            found = conn.execute(text(
                "SELECT p.licence_no, f.rule_id, f.metric, f.verdict, ST_NPoints(f.line), "
                "f.distance_m, f.reasons FROM finding f JOIN premises p ON p.id = f.premises_id "
                "ORDER BY p.licence_no")).all()
        assert len(found) == 2
        # Across the road: walked far beyond 200 m, but the campus is within 200 m straight.
        across = found[1]
        assert (across.licence_no, across.verdict) == ("GD-2", "review")
        assert "两种测量结果不一致" in across.reasons[-1]
        licence, rule_id, metric, verdict, points, distance, _ = found[0]
        assert (licence, rule_id, metric, verdict) == ("GD-1", "gd.entertainment.school",
                                                       "walking", "prohibited")
        assert points >= 3 and distance is not None and distance < 100
