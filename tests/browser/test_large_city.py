"""A synthetic city of 100,000 premises opens in a browser in under 3 s (vector tiles)."""

from __future__ import annotations

from sqlalchemy import text

from tests.conftest import ARTIFACTS
from tests.zoneguard.maps.sample import XSS

N_PREMISES = 100_000


def build_large_city(session, n: int = N_PREMISES) -> None:
    """n premises spread over ~30 km × 28 km, 300 schools on a grid, 500 findings."""
    session.execute(text("""
        INSERT INTO school (code, name, levels, region, boundary, location, precision)
        SELECT 'BIG-S' || i, '学校 ' || i, ARRAY['primary'], '420102',
               ST_Multi(ST_MakeEnvelope(x, y, x + 0.002, y + 0.0015, 4326)),
               ST_SetSRID(ST_MakePoint(x + 0.001, y + 0.00075), 4326), 'boundary'
        FROM (SELECT i, 114.16 + (i % 20) * 0.014 AS x, 30.46 + (i / 20) * 0.015 AS y
              FROM generate_series(0, 299) AS i) g"""))
    session.execute(text("""
        INSERT INTO premises (category, licence_no, name, region, location, status)
        SELECT (ARRAY['internet_cafe', 'tobacco', 'lottery', 'entertainment'])[1 + i % 4],
               'BIG-' || i, '场所 ' || i, '420102',
               ST_SetSRID(ST_MakePoint(114.15 + ((i * 7919) % 100003) / 100003.0 * 0.3,
                                       30.45 + ((i * 104729) % 99991) / 99991.0 * 0.25), 4326),
               'active'
        FROM generate_series(1::bigint, :n) AS i"""), {"n": n})
    session.execute(text("""
        INSERT INTO finding (school_id, premises_id, rule_id, metric, distance_m, threshold_m,
                             verdict, state)
        SELECT s.id, p.id, 't.internet_cafe', 'boundary', 120, 200,
               CASE WHEN p.id % 2 = 0 THEN 'prohibited' ELSE 'review' END, 'found'
        FROM (SELECT id, row_number() OVER (ORDER BY id) AS k FROM premises
              WHERE licence_no LIKE 'BIG-%' ORDER BY id LIMIT 500) p
        JOIN (SELECT id, row_number() OVER (ORDER BY id) AS k FROM school
              WHERE code LIKE 'BIG-S%') s ON s.k = 1 + p.k % 300"""))
    session.execute(text("ANALYZE premises"))
    session.execute(text("ANALYZE finding"))
    session.execute(text("ANALYZE school"))


def test_city_of_100k_premises_opens_as_vector_tiles_and_records_its_time(
        served, session, token, page):
    build_large_city(session)
    key = token()
    url = f"{served}/maps/city?region=420102&api_key={key}"
    page.goto(url)  # warm: first PROJ use, asset cache
    page.events.clear()
    seconds = page.goto(url)
    message = f"100,000-premises city map ready in {seconds:.2f} s (vector tiles)"
    print("\n" + message)  # noqa: T201 - the benchmark's number, shown with -s
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "city_map_100k.txt").write_text(message + "\n", encoding="utf-8")
    tiles = [u for u in page.requested_urls() if "/tiles/premises/" in u]
    assert tiles, "the premises came as vector tiles"
    assert not [u for u in tiles if "api_key" in u], "tiles authenticate by the page cookie"
    assert "api_key" not in page.evaluate("location.href")
    assert key not in page.evaluate("document.documentElement.outerHTML")
    assert page.evaluate("window.zgMap.counts.premises") == N_PREMISES
    assert page.console_errors() == []
    # The time (target < 3 s) is recorded in the artifact, not asserted: machines are noisy.
    drawn = page.evaluate("""(() => {
        const grid = window.zgMap.layers.premises.layer;
        return Object.values(grid._vectorTiles).reduce(
            (n, t) => n + Object.keys(t._features || {}).length, 0);
    })()""")
    assert drawn > 0
    page.screenshot(ARTIFACTS / "city_map_100k.png")


def test_clicking_a_tile_point_opens_an_escaped_popup(served, session, token, page,
                                                       monkeypatch):
    build_large_city(session, n=2_000)
    session.execute(text("UPDATE premises SET name = :xss WHERE licence_no = 'BIG-7'"),
                    {"xss": XSS})
    lon, lat = session.execute(text("SELECT ST_X(location), ST_Y(location) FROM premises "
                                    "WHERE licence_no = 'BIG-7'")).one()
    monkeypatch.setattr("zoneguard.maps.city.LARGE_MAP_FEATURES", 100)
    page.goto(f"{served}/maps/city?region=420102&api_key={token()}")
    page.evaluate(f"""(() => {{
        const m = window.zgMap; m.ready = false;
        m.layers.premises.layer.once('load', () => {{ m.ready = true; }});
        m.map.setView([{lat}, {lon}], 18, {{animate: false}}); }})()""")
    page.wait_for("window.zgMap.ready")
    x, y = page.evaluate(f"""(() => {{
        const p = window.zgMap.map.latLngToContainerPoint([{lat}, {lon}]);
        return [p.x, p.y]; }})()""")
    page.click(x, y)
    page.wait_for("document.querySelector('.leaflet-popup-content')")
    popup = page.evaluate("""(() => { const c = document.querySelector('.leaflet-popup-content');
        return {title: c.querySelector('h4').textContent, imgs: c.querySelectorAll('img').length,
                text: c.textContent}; })()""")
    assert popup["title"] == XSS and popup["imgs"] == 0
    assert "BIG-7" in popup["text"]
    assert page.dialogs == []
    assert page.console_errors() == []
