"""The column-wise reader of quote-free delimited text against Python's csv reader."""

from __future__ import annotations

import codecs
import json
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.orm import Session

from zoneguard.imports import vectorised
from zoneguard.imports.delimited import read_csv, read_records
from zoneguard.imports.jsontext import json_objects
from zoneguard.imports.plaincsv import read_plain
from zoneguard.imports.records import RawTable
from zoneguard.imports.report import FileUnusable
from zoneguard.services.ingest.files import import_file
from zoneguard.settings import Settings

# Whitespace Python strips but Unicode does not call White_Space (\x1c-\x1f), and the
# reverse does not exist; an ideographic space, CJK, a non-BMP character, JSON syntax.
CELL_CHARS = "ab 中\u3000\x1c\x1f\x85\xa0\u200b😀\\}{'/"
ENDS = ("\n", "\r\n", "\r")


def _read(text: str, delimiter: str) -> RawTable | str | None:
    try:
        return read_plain(text.encode("utf-8"), delimiter)
    except FileUnusable as exc:
        return f"unusable: {exc.detail}"


def _oracle(text: str, delimiter: str) -> RawTable | str:
    try:
        return read_records(text, delimiter)
    except FileUnusable as exc:
        return f"unusable: {exc.detail}"


def _same(text: str, delimiter: str) -> bool:
    """Check read_plain against the csv reader; return whether read_plain took the text."""
    got, want = _read(text, delimiter), _oracle(text, delimiter)
    if got is None:
        return False
    if isinstance(got, str) or isinstance(want, str):
        assert got == want
        return True
    assert want.problems == []
    assert list(got.frame.columns) == list(want.frame.columns)
    assert got.frame.to_dict("list") == want.frame.to_dict("list")
    assert got.source_rows == want.source_rows
    assert got.attributes_json is not None
    decoded = [json.loads(t) for t in got.attributes_json.to_pylist()]
    assert decoded == vectorised.records(want.frame)
    return True


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(",\t;|"), st.integers(1, 4), st.data())
def test_quote_free_grids_read_as_the_csv_reader_reads_them(
    delimiter: str, width: int, data: st.DataObject
) -> None:
    cell = st.text(st.sampled_from(CELL_CHARS), max_size=4)
    rows = data.draw(st.lists(st.lists(cell, min_size=width, max_size=width), max_size=8))
    empty = data.draw(st.lists(st.booleans(), min_size=len(rows), max_size=len(rows)))
    ends = data.draw(st.lists(st.sampled_from(ENDS), min_size=len(rows), max_size=len(rows)))
    last = data.draw(st.booleans())
    text = "".join(("" if blank else delimiter.join(row)) + end
                   for row, blank, end in zip(rows, empty, ends, strict=True))
    if rows and not last:
        text = text.rstrip("\r\n")
    assert _same(text, delimiter) or not text.strip("\r\n")


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(",\t;|"), st.text(st.sampled_from(CELL_CHARS + ",\t;|\r\n"),
                                         max_size=40))
def test_any_quote_free_text_reads_as_the_csv_reader_reads_it(delimiter: str, text: str) -> None:
    _same(text, delimiter)


def test_a_registry_with_blank_lines_and_blank_cells() -> None:
    text = ("\r\n许可证号,名称,地址\r\n\r\nA1,店一, \u3000\r\n,,\r\nA2,店二,路\\1号\r\n"
            "A3, 店三 ,}, {\n")
    assert _same(text.replace("}, {", "x"), ",")
    table = read_plain(text.replace("}, {", "x").encode(), ",")
    assert table is not None
    assert table.source_rows == [4, 6, 7]
    assert table.frame["地址"].tolist() == [None, "路\\1号", "x"]
    assert table.frame["名称"].tolist() == ["店一", "店二", " 店三 "]


@pytest.mark.parametrize("text", ["标题\na,b\n1,2\n", "a,b\n1,2,3\n", "a,b\n \n1,2\n"])
def test_title_rows_and_ragged_rows_are_left_to_the_csv_reader(text: str) -> None:
    assert read_plain(text.encode(), ",") is None


def test_json_of_tricky_values_is_what_json_dumps_means() -> None:
    values = ['引号"和\\反斜杠', "}, {", "制表\t换行\n回车\r", '{"json": 1}', "😀", None,
              "\\.", ",,", "NULL", " 前后空格 ", "\x00\x01\x1f\x7f\u2028\u2029", "\\u0000",
              "", '"', "\\"]
    names = ['键"名', "b\\", "c"]
    columns = [pa.array(values), pa.array(values[::-1]), pa.array(["x"] * len(values))]
    texts = json_objects(names, columns, len(values)).to_pylist()
    for encoded, a, b in zip(texts, values, values[::-1], strict=True):
        assert json.loads(encoded) == {"键\"名": a, "b\\": b, "c": "x"}
    assert json_objects([], [], 2).to_pylist() == ["{}", "{}"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.one_of(st.none(), st.text()), st.one_of(st.none(), st.text())),
                max_size=6),
       st.lists(st.text(), min_size=2, max_size=2, unique=True))
def test_json_text_decodes_to_the_row_dicts(rows: list[tuple[str | None, str | None]],
                                            names: list[str]) -> None:
    columns = [pa.array([r[k] for r in rows], pa.string()) for k in range(2)]
    texts = json_objects(names, columns, len(rows)).to_pylist()
    assert [json.loads(t) for t in texts] == [dict(zip(names, r, strict=True)) for r in rows]


def test_a_quote_free_registry_reaches_premises_with_its_exact_attributes(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    notes = ["路\\1号", "}{ }", "😀", " 前后空格 ", "{json: 1}", "\\.", "NULL", "", "\\u0000",
             "\u3000", "制表\t符"]
    lines = ["许可证号,名称,经度,纬度,备注"]
    lines += [f"Q{i:03d},店{i},{113 + i * 1e-4!r},28.2,{notes[i % len(notes)]}" for i in range(11)]
    path = tmp_path / "plain.csv"
    path.write_bytes("\r\n".join(lines).encode("utf-8-sig"))
    assert read_plain(path.read_bytes()[3:], ",") is not None  # the column-wise path
    outcome = import_file(session, path, kind="premises", crs="wgs84", category="lottery",
                          region="430199", settings=settings)
    assert "copy" in outcome.timings and outcome.inserted == 11
    assert outcome.parsed is not None and outcome.parsed.attributes_json is not None
    rows = session.execute(text(
        "SELECT licence_no, attributes FROM premises WHERE region = '430199' "
        "ORDER BY licence_no")).all()
    for i, (licence, attributes) in enumerate(rows):
        note = notes[i % len(notes)]
        assert licence == f"Q{i:03d}"
        assert attributes == {"许可证号": licence, "名称": f"店{i}", "经度": repr(113 + i * 1e-4),
                              "纬度": "28.2", "备注": note if note.strip() else None}


@pytest.mark.parametrize("quote", ["", '"'])
def test_a_file_saved_with_two_byte_order_marks_reads_the_same_either_way(
        tmp_path: Path, quote: str) -> None:
    # A quote sends the file to the csv reader; without one it is read column-wise.
    path = tmp_path / "bom.csv"
    body = f"许可证号,名称,经度,纬度\r\nB1,{quote}店{quote},113.0,28.2\r\n"
    path.write_bytes(codecs.BOM_UTF8 * 2 + body.encode("utf-8"))
    table = read_csv(path)
    assert list(table.frame.columns) == ["许可证号", "名称", "经度", "纬度"]
    assert table.frame["名称"].tolist() == ["店"]


def test_a_first_load_is_stored_as_utf8_whatever_the_client_encoding(
        session: Session, settings: Settings, tmp_path: Path) -> None:
    session.execute(text("SET LOCAL client_encoding = 'GBK'"))
    path = tmp_path / "gbk.csv"
    path.write_text("许可证号,名称,地址,经度,纬度\nG1,烟酒店,长沙路1号,113.0,28.2\n",
                    encoding="utf-8")
    outcome = import_file(session, path, kind="premises", crs="wgs84", category="tobacco",
                          region="430198", settings=settings)
    assert outcome.inserted == 1
    session.execute(text("SET LOCAL client_encoding = 'UTF8'"))
    row = session.execute(text(
        "SELECT name, address, attributes->>'名称' AS original FROM premises "
        "WHERE region = '430198'")).one()
    assert tuple(row) == ("烟酒店", "长沙路1号", "烟酒店")
