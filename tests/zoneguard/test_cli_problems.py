"""`zoneguard problem report|categories` and `zoneguard findings --lookback`, end to end."""

from __future__ import annotations

import getpass
import json

from shapely.geometry import Point, box
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from tests.oracle import from_local, wgs_to_gcj
from zoneguard.cli.main import app

LON, LAT = 112.5, 27.5


def test_categories_are_printed() -> None:
    shown = CliRunner().invoke(app, ["problem", "categories", "--json"])
    assert shown.exit_code == 0, shown.output
    codes = [c["code"] for c in json.loads(shown.stdout)["items"]]
    assert codes[:3] == ["street_vendor", "road_occupation", "illegal_parking"]


def test_the_operator_registers_a_problem_and_the_lookback_list_shows_it(engine: Engine) -> None:
    """Through the real CLI and database; the rows it commits are deleted afterwards."""
    runner = CliRunner()
    campus = from_local(box(-100, -100, 100, 100), LON, LAT)
    with engine.begin() as conn:
        school = conn.execute(text(
            "INSERT INTO school (code, name, levels, region, boundary, location, precision) "
            "VALUES ('CLI-P', '测试小学', '{primary}', '430111', "
            "ST_Multi(ST_GeomFromText(:wkt, 4326)), ST_PointOnSurface(ST_GeomFromText(:wkt, "
            "4326)), 'boundary') RETURNING id"), {"wkt": campus.wkt}).scalar_one()
    try:
        here = from_local(Point(0, -150), LON, LAT)
        lon, lat = wgs_to_gcj(here.x, here.y)
        made = runner.invoke(app, [
            "problem", "report", "--category", "illegal_parking", "--lon", str(lon),
            "--lat", str(lat), "--crs", "gcj02", "--description", "接送车辆占用人行道停放",
            "--json"])
        assert made.exit_code == 0, made.output
        case = json.loads(made.stdout)
        assert case["school_code"] == "CLI-P" and abs(case["distance_m"] - 50.0) < 0.5
        assert case["events"][0]["actor"] == f"cli:{getpass.getuser()}"
        unknown = runner.invoke(app, ["problem", "report", "--category", "noise", "--lon",
                                      str(lon), "--lat", str(lat), "--description", "噪音扰民严重"])
        assert unknown.exit_code == 1 and "可选类别" in unknown.output
        with engine.begin() as conn:
            conn.execute(text("UPDATE finding SET review_on = current_date - 1 WHERE id = :id"),
                         {"id": case["id"]})
        listed = runner.invoke(app, ["findings", "--lookback", "--format", "json"])
        assert listed.exit_code == 0, listed.output
        assert case["id"] in [f["id"] for f in json.loads(listed.stdout)]
        table = runner.invoke(app, ["findings", "--lookback", "--school", "CLI-P"])
        assert table.exit_code == 0 and "1 of 1 findings" in table.output
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM audit_log WHERE entity = 'finding' AND entity_id IN "
                              "(SELECT CAST(id AS text) FROM finding WHERE school_id = :s)"),
                         {"s": school})
            conn.execute(text("DELETE FROM school WHERE id = :s"), {"s": school})
