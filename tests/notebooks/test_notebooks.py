"""The analysts' notebooks run top to bottom (nbclient) against a database with the demo data."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from sqlalchemy import Engine, text

from tests.conftest import ROOT
from tests.scratchdb import scratch_database
from zoneguard.db.engine import session_scope
from zoneguard.demo_data import load_sample
from zoneguard.services.scan.run import run_scan
from zoneguard.settings import Settings

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.fixture(scope="module")
def demo_database(engine: Engine, settings: Settings) -> Iterator[tuple[str, Engine]]:
    with scratch_database(engine, settings) as (url, scratch):
        with session_scope(scratch) as session:
            load_sample(session, settings=settings)
        run_scan(scratch, trigger="manual", settings=settings)
        yield url, scratch


def _run(path: Path, url: str) -> nbformat.NotebookNode:
    book = nbformat.read(path, as_version=4)
    env = {**os.environ, "ZONEGUARD_DATABASE_URL": url}
    client = NotebookClient(book, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(ROOT)}})
    previous = dict(os.environ)
    os.environ.update(env)  # the kernel inherits this process's environment
    try:
        client.execute()
    finally:
        os.environ.clear()
        os.environ.update(previous)
    return book


def _outputs(book: nbformat.NotebookNode) -> str:
    texts = []
    for cell in book.cells:
        for out in cell.get("outputs", []):
            texts.append(out.get("text", ""))
            texts.append(json.dumps(out.get("data", {}), ensure_ascii=False))
    return "\n".join(texts)


def test_notebooks_are_stored_without_outputs() -> None:
    assert {p.name for p in NOTEBOOKS} == {"violations_by_district.ipynb",
                                          "what_if_tobacco_distance.ipynb"}
    for path in NOTEBOOKS:
        book = nbformat.read(path, as_version=4)
        assert all(not c.get("outputs") and not c.get("execution_count")
                   for c in book.cells if c.cell_type == "code"), path.name


def test_violations_by_district_runs_and_counts_the_findings(
    demo_database: tuple[str, Engine]
) -> None:
    url, scratch = demo_database
    book = _run(ROOT / "notebooks" / "violations_by_district.ipynb", url)
    with scratch.connect() as conn:
        total = conn.execute(text("SELECT count(*) FROM finding")).scalar_one()
        top = conn.execute(text(
            "SELECT s.code FROM finding f JOIN school s ON s.id = f.school_id "
            "WHERE f.state = 'found' GROUP BY s.code ORDER BY count(*) DESC, s.code LIMIT 1"
        )).scalar_one()
    assert total > 0
    out = _outputs(book)
    assert f"{total} findings" in out
    assert top in out  # the school with the most open findings is in the top-ten table
    assert "image/png" in out  # the choropleth was drawn


def test_what_if_tobacco_distance_grows_with_the_distance(
    demo_database: tuple[str, Engine]
) -> None:
    url, scratch = demo_database
    book = _run(ROOT / "notebooks" / "what_if_tobacco_distance.ipynb", url)
    with scratch.connect() as conn:
        within_100 = conn.execute(text(
            "SELECT count(DISTINCT p.id) FROM premises p JOIN school s ON "
            "s.levels && ARRAY['kindergarten','primary','secondary','vocational','special'] "
            "AND ST_DWithin(geography(COALESCE(s.boundary, s.location)), geography(p.location),"
            " 100) WHERE p.category = 'tobacco' AND p.status = 'active'")).scalar_one()
    assert within_100 > 0
    table = next(cell for cell in book.cells if "share_of_active" in cell.source)
    html = json.dumps(table.outputs[0]["data"], ensure_ascii=False)
    assert f"<td>{within_100}</td>" in html
