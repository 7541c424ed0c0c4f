"""Rule files: loading, validation errors, resolution, enrolment thresholds, version hash."""

from __future__ import annotations

import re
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from zoneguard.domain import Category, Level, Metric
from zoneguard.errors import RuleError, ValidationError
from zoneguard.rules import (
    ResolvedRule,
    Rule,
    RuleSet,
    bundled_rules_dir,
    load_rule_file,
    load_rule_set,
)

SCHOOL = ["primary", "secondary"]
TODAY = date(2025, 6, 1)


def rule(rule_id: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": rule_id,
        "category": "internet_cafe",
        "protects": ["primary", "secondary"],
        "distance_m": 200,
        "metric": "boundary",
        "existing": "review",
        "citations": [{"authority": "测试机关", "title": "test basis", "confidence": "C"}],
        "effective_from": date(2000, 1, 1),
    }
    body.update(overrides)
    if body["distance_m"] is not None:
        body.setdefault("distance_kind", "statutory")
    return body


def write(
    directory: Path, name: str, jurisdiction: str | int, rules: list[dict[str, Any]], **top: Any
) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    doc = {"jurisdiction": jurisdiction, "name": f"test {jurisdiction}", "version": "1", **top}
    doc["rules"] = rules
    path = directory / name
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def ids(resolved: list[ResolvedRule]) -> list[str]:
    return [r.rule.id for r in resolved]


@pytest.fixture(scope="module")
def bundled() -> RuleSet:
    return load_rule_set(bundled_rules_dir())


@pytest.fixture()
def tiers(tmp_path: Path) -> RuleSet:
    """CN 200, province 44 150, city 4401 120, county 440106 100 — same category and levels."""
    write(tmp_path, "cn.yaml", "CN", [rule("cn.x", distance_m=200)])
    write(tmp_path, "44.yaml", "44", [rule("p.x", distance_m=150)])
    write(tmp_path, "4401.yaml", "4401", [rule("c.x", distance_m=120)])
    write(tmp_path, "440106.yml", "440106", [rule("k.x", distance_m=100)])
    return load_rule_set(tmp_path)


# --- bundled rules ----------------------------------------------------------------------


def test_bundled_rules_load(bundled: RuleSet) -> None:
    assert {f.jurisdiction for f in bundled.files if f.rules} == {"CN", "11", "42", "44", "6404"}
    assert {c.value for c in Category} <= bundled.categories()
    assert re.fullmatch(r"rs-[0-9a-f]{16}", bundled.version)
    assert all(r.basis.strip() for r in bundled.rules)
    for category in Category:  # every canonical category has a national default
        assert bundled.applicable(category=category, levels=SCHOOL, region=None, on=TODAY)
    assert bundled.max_distance_m() == 200
    assert bundled.max_distance_m("gas_station") == 50
    assert bundled.max_distance_m("no_such_category") == 0.0


def test_bundled_national_defaults(bundled: RuleSet) -> None:
    (cafe,) = bundled.applicable(category="internet_cafe", levels=SCHOOL, region="330106", on=TODAY)
    assert (cafe.rule.id, cafe.rule.distance_m, cafe.rule.metric) == (
        "cn.internet_cafe.school",
        200,
        Metric.BOUNDARY,
    )
    assert cafe.levels == (Level.PRIMARY, Level.SECONDARY)
    assert not cafe.needs_review
    (fire,) = bundled.applicable(category="fireworks", levels=["higher"], region=None, on=TODAY)
    assert fire.rule.distance_m == 100


def test_guangdong_kindergarten_internet_cafe_is_100m_walking(bundled: RuleSet) -> None:
    levels = ["kindergarten", "primary"]
    gd = bundled.applicable(category="internet_cafe", levels=levels, region="440106", on=TODAY)
    by_id = {r.rule.id: r for r in gd}
    assert set(by_id) == {"gd.internet_cafe.kindergarten", "gd.internet_cafe.school"}
    kg = by_id["gd.internet_cafe.kindergarten"]
    assert (kg.rule.distance_m, kg.rule.metric, kg.levels) == (
        100,
        Metric.WALKING,
        (Level.KINDERGARTEN,),
    )
    assert by_id["gd.internet_cafe.school"].rule.distance_m == 200
    assert by_id["gd.internet_cafe.school"].rule.metric == Metric.WALKING
    # Elsewhere: the national 200 m boundary rule, and no national kindergarten distance.
    zj = bundled.applicable(category="internet_cafe", levels=levels, region="330106", on=TODAY)
    by_id = {r.rule.id: r for r in zj}
    assert by_id["cn.internet_cafe.school"].rule.distance_m == 200
    assert by_id["cn.internet_cafe.school"].rule.metric == Metric.BOUNDARY
    kg = by_id["cn.internet_cafe.kindergarten"]
    assert kg.rule.distance_m is None and kg.needs_review and not kg.enrolment_unknown
    assert "未规定具体距离" in kg.review_reasons[0]
    # Before the Guangdong notice, Guangdong fell back to the national rules.
    old = bundled.applicable(
        category="internet_cafe", levels=levels, region="44", on=date(2022, 12, 31)
    )
    assert set(ids(old)) == {"cn.internet_cafe.kindergarten", "cn.internet_cafe.school"}


def test_hubei_tobacco_is_50m_from_2023_10_01(bundled: RuleSet) -> None:
    args: dict[str, Any] = {"category": "tobacco", "levels": SCHOOL, "region": "420102"}
    (hubei,) = bundled.applicable(**args, on=date(2023, 10, 1))
    assert (hubei.rule.id, hubei.rule.distance_m) == ("hb.tobacco", 50)
    (before,) = bundled.applicable(**args, on=date(2023, 9, 30))
    assert (before.rule.id, before.rule.distance_m) == ("cn.tobacco", 100)
    # The 办法 names 中小学校园 only: a kindergarten falls back to the national default.
    (lottery,) = bundled.applicable(
        category="lottery", levels=["kindergarten"], region="4201", on=TODAY
    )
    assert (lottery.rule.id, lottery.rule.distance_m) == ("cn.lottery", 200)
    assert not lottery.rule.statutory
    (school,) = bundled.applicable(category="lottery", levels=["primary"], region="4201", on=TODAY)
    assert (school.rule.id, school.rule.distance_m) == ("hb.lottery", 50)


def test_beijing_tobacco_and_fallback_for_unnamed_level(bundled: RuleSet) -> None:
    resolved = bundled.applicable(
        category="tobacco", levels=["secondary", "vocational"], region="110108", on=TODAY
    )
    # 北京市未成年人保护条例 art. 29 (2023) covers every 学校, 中职 included.
    (beijing,) = resolved
    assert (beijing.rule.id, beijing.rule.distance_m) == ("bj.tobacco.2023", 100)
    assert beijing.levels == (Level.SECONDARY, Level.VOCATIONAL)
    # Before it, the 控烟条例 (art. 20) named no 中职: they fell back to the national default.
    before = {r.rule.id: r for r in bundled.applicable(
        category="tobacco", levels=["secondary", "vocational"], region="110108",
        on=date(2022, 6, 1))}
    assert before["bj.tobacco"].levels == (Level.SECONDARY,)
    assert before["cn.tobacco"].levels == (Level.VOCATIONAL,)
    (bar,) = bundled.applicable(category="bar", levels=["kindergarten"], region="11", on=TODAY)
    assert bar.rule.distance_m == 200
    # Elsewhere the minors law bans bars near schools without a distance: review, not nothing.
    (national,) = bundled.applicable(category="bar", levels=SCHOOL, region="31", on=TODAY)
    assert national.rule.id == "cn.bar" and national.rule.distance_m is None


def test_rules_in_force_lists_only_winning_rules(bundled: RuleSet) -> None:
    listed = [r.id for r in bundled.rules_in_force("440106", TODAY)]
    assert "gd.internet_cafe.kindergarten" in listed and "cn.tobacco" in listed
    assert "cn.internet_cafe.school" not in listed and "cn.internet_cafe.kindergarten" not in listed
    national = [r.id for r in bundled.rules_in_force(None, TODAY)]
    assert all(rule_id.startswith("cn.") for rule_id in national)
    assert len(national) == len([r for r in bundled.rules
                                 if r.jurisdiction == "CN" and r.in_force(TODAY)])
    assert bundled.rules_in_force(None, date(1990, 1, 1)) == []


# --- resolution ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("region", "expected"),
    [
        ("440106", "k.x"),
        ("440106001000", "k.x"),  # 12-digit statistical code of a township in the county
        ("440104", "c.x"),
        ("4401", "c.x"),
        ("440100", "c.x"),  # the city written as a 6-digit code
        ("440300", "p.x"),
        ("440000", "p.x"),
        ("44", "p.x"),
        ("45", "cn.x"),
        ("450103", "cn.x"),
        ("CN", "cn.x"),
        (None, "cn.x"),
    ],
)
def test_most_local_jurisdiction_wins(tiers: RuleSet, region: str | None, expected: str) -> None:
    resolved = tiers.applicable(category="internet_cafe", levels=SCHOOL, region=region, on=TODAY)
    assert ids(resolved) == [expected]
    assert resolved[0].levels == (Level.PRIMARY, Level.SECONDARY)


def test_override_is_per_level(tmp_path: Path) -> None:
    write(tmp_path, "cn.yaml", "CN", [rule("cn.x", protects=["kindergarten", "primary"])])
    write(tmp_path, "44.yaml", "44", [rule("p.kg", protects=["kindergarten"], distance_m=100)])
    rules = load_rule_set(tmp_path)
    resolved = rules.applicable(
        category="internet_cafe", levels=["kindergarten", "primary"], region="4401", on=TODAY
    )
    assert [(r.rule.id, r.levels) for r in resolved] == [
        ("cn.x", (Level.PRIMARY,)),
        ("p.kg", (Level.KINDERGARTEN,)),
    ]
    # Levels that no rule protects, and unknown categories, resolve to nothing.
    assert (
        rules.applicable(category="internet_cafe", levels=["higher"], region=None, on=TODAY) == []
    )
    assert rules.applicable(category="zoo", levels=SCHOOL, region=None, on=TODAY) == []
    assert rules.applicable(category="internet_cafe", levels=[], region=None, on=TODAY) == []


def test_effective_dates_and_gaps(tmp_path: Path) -> None:
    write(tmp_path, "cn.yaml", "CN", [rule("cn.x")])
    write(
        tmp_path,
        "44.yaml",
        "44",
        [
            rule(
                "p.old",
                distance_m=150,
                effective_from=date(2020, 1, 1),
                effective_to=date(2020, 12, 31),
            ),
            rule("p.new", distance_m=100, effective_from=date(2022, 1, 1)),
        ],
    )
    rules = load_rule_set(tmp_path)

    def on(day: date) -> list[str]:
        return ids(rules.applicable(category="internet_cafe", levels=SCHOOL, region="44", on=day))

    assert on(date(2019, 12, 31)) == ["cn.x"]  # not yet effective
    assert on(date(2020, 1, 1)) == ["p.old"]  # first day inclusive
    assert on(date(2020, 12, 31)) == ["p.old"]  # last day inclusive
    assert on(date(2021, 6, 1)) == ["cn.x"]  # a gap falls back to the less local file
    assert on(date(2022, 1, 1)) == ["p.new"]
    assert on(date(1999, 12, 31)) == []  # before every rule


def test_enrolment_thresholds(bundled: RuleSet) -> None:
    def gas(levels: list[str], enrolment: int | None) -> list[ResolvedRule]:
        return bundled.applicable(
            category="gas_station", levels=levels, region="330106", on=TODAY, enrolment=enrolment
        )

    (unknown,) = gas(["primary", "kindergarten"], None)  # never silently allowed
    assert unknown.enrolment_unknown and unknown.needs_review
    assert unknown.levels == (Level.KINDERGARTEN, Level.PRIMARY)
    assert len(unknown.review_reasons) == 2 and "在校人数未登记" in unknown.review_reasons[0]
    # Under the threshold a school is still protected (一类保护物): review, never nothing.
    (small,) = gas(["primary"], 499)
    assert small.needs_review and "低于本规则 500 人的门槛" in small.review_reasons[0]
    (at,) = gas(["primary"], 500)
    assert not at.needs_review and not at.enrolment_unknown
    (mixed,) = gas(["kindergarten", "primary"], 300)  # 300 reaches only the kindergarten bar
    assert mixed.levels == (Level.KINDERGARTEN, Level.PRIMARY) and mixed.needs_review
    (kg,) = gas(["kindergarten"], 199)
    assert kg.needs_review


def test_single_min_enrolment(tmp_path: Path) -> None:
    write(tmp_path, "cn.yaml", "CN", [rule("cn.x", min_enrolment=100)])
    rules = load_rule_set(tmp_path)
    args: dict[str, Any] = {"category": "internet_cafe", "levels": SCHOOL, "region": None}
    assert rules.applicable(**args, on=TODAY, enrolment=99) == []
    assert ids(rules.applicable(**args, on=TODAY, enrolment=100)) == ["cn.x"]
    assert rules.applicable(**args, on=TODAY)[0].enrolment_unknown


@pytest.fixture(scope="module")
def oracle() -> RuleSet:
    return load_rule_set(bundled_rules_dir())


@settings(max_examples=80, deadline=None)
@given(enrolments=st.lists(st.one_of(st.none(), st.integers(0, 3_000)), min_size=2, max_size=6),
       region=st.sampled_from(["330106", "330100", "440106", "110108", "420102", None]),
       category=st.sampled_from(["gas_station", "tobacco", "internet_cafe", "lottery"]),
       levels=st.sampled_from([["primary"], ["kindergarten"], ["kindergarten", "primary"]]))
def test_memoised_resolution_equals_a_fresh_one(
        bundled: RuleSet, oracle: RuleSet, enrolments: list[int | None], region: str | None,
        category: str, levels: list[str],
) -> None:
    """Schools of one enrolment band share a memo entry: each answer is its own, exactly."""
    args: dict[str, Any] = {"category": category, "levels": levels, "region": region,
                            "on": TODAY}
    for enrolment in enrolments:
        oracle.memo.clear()  # resolved from the rule files, not from an earlier answer
        assert bundled.applicable(**args, enrolment=enrolment) == \
            oracle.applicable(**args, enrolment=enrolment)
    with pytest.raises(ValidationError, match="不能为负数"):  # never answered from the memo
        bundled.applicable(**args, enrolment=-1)

def test_bad_arguments(bundled: RuleSet) -> None:
    with pytest.raises(ValidationError, match="college"):
        bundled.applicable(category="lottery", levels=["college"], region=None, on=TODAY)
    for region in ["4", "44a", "４４", "4401061", ""]:
        with pytest.raises(ValidationError, match="GB/T 2260"):
            bundled.applicable(category="lottery", levels=SCHOOL, region=region, on=TODAY)
    with pytest.raises(ValidationError, match="不能为负数"):
        bundled.applicable(category="lottery", levels=SCHOOL, region=None, on=TODAY, enrolment=-1)


@settings(max_examples=60, deadline=None)
@given(region=st.from_regex(r"[1-6][0-9]{5}", fullmatch=True), day=st.dates())
def test_resolution_picks_longest_prefix(region: str, day: date) -> None:
    files = [
        {"jurisdiction": code, "name": code, "version": "1", "rules": [body]}
        for code, body in [
            ("CN", rule("cn.x", jurisdiction="CN", effective_from=date(1990, 1, 1))),
            ("44", rule("p.x", jurisdiction="44", effective_from=date(2010, 1, 1))),
            ("4401", rule("c.x", jurisdiction="4401", effective_from=date(2020, 1, 1))),
        ]
    ]
    rules = RuleSet.model_validate({"files": files})
    resolved = rules.applicable(category="internet_cafe", levels=SCHOOL, region=region, on=day)
    in_force = [
        r
        for r in rules.rules
        if region.startswith(r.jurisdiction if r.jurisdiction != "CN" else "") and r.in_force(day)
    ]
    best = max(
        in_force, key=lambda r: 0 if r.jurisdiction == "CN" else len(r.jurisdiction), default=None
    )
    assert ids(resolved) == ([best.id] if best else [])


# --- validation -----------------------------------------------------------------------------

GOOD_RULE = """\
  - id: cn.x
    category: internet_cafe
    protects: [primary, secondary]
    distance_m: 200
    metric: boundary
    existing: review
    distance_kind: statutory
    citations: [{authority: test, title: test, confidence: C}]
    effective_from: 2000-01-01
"""


def file_text(rule_text: str = GOOD_RULE, head: str = "jurisdiction: CN") -> str:
    return f"{head}\nname: test\nversion: '1'\nrules:\n{rule_text}"


def replaced(old: str, new: str) -> str:
    assert old in GOOD_RULE
    return file_text(GOOD_RULE.replace(old, new))


INVALID_FILES = {
    "unknown rule field": (
        replaced("    distance_kind: statutory\n",
                 "    distance_kind: statutory\n    distanse_m: 100\n"),
        ["'cn.x'", "distanse_m", "未知字段"],
    ),
    "unknown file field": (
        file_text(head="jurisdiction: CN\nauthor: me"),
        ["author", "未知字段"],
    ),
    "unknown level": (
        replaced("[primary, secondary]", "[primary, college]"),
        ["'cn.x'", "protects", "'college'"],
    ),
    "no level": (replaced("[primary, secondary]", "[]"), ["protects", "至少要有 1 项"]),
    "unknown metric": (
        replaced("metric: boundary", "metric: crow"),
        ["'cn.x'", "metric", "'crow'"],
    ),
    "unknown existing policy": (
        replaced("existing: review", "existing: maybe"),
        ["existing", "'maybe'"],
    ),
    "bad category": (
        replaced("category: internet_cafe", "category: Internet Cafe"),
        ["category", "'Internet Cafe'"],
    ),
    "numeric category": (replaced("category: internet_cafe", "category: 7"), ["category"]),
    "bad rule id": (replaced("id: cn.x", "id: CN X"), ["id", "'CN X'"]),
    "zero distance": (
        replaced("distance_m: 200", "distance_m: 0"),
        ["'cn.x'", "distance_m", "应大于 0"],
    ),
    "negative distance": (
        replaced("distance_m: 200", "distance_m: -5"),
        ["distance_m", "应大于 0"],
    ),
    "boolean distance": (replaced("distance_m: 200", "distance_m: true"),
                         ["distance_m", "应为数字"]),
    "text distance": (replaced("distance_m: 200", "distance_m: '200'"), ["distance_m", "应为数字"]),
    "infinite distance": (replaced("distance_m: 200", "distance_m: .inf"), ["distance_m"]),
    "missing distance": (replaced("    distance_m: 200\n", ""), ["distance_m", "缺少此字段"]),
    "missing citations": (
        replaced("    citations: [{authority: test, title: test, confidence: C}]\n", ""),
        ["citations", "缺少此字段"]),
    "distance without kind": (replaced("    distance_kind: statutory\n", ""),
                              ["distance_kind", "法定的（statutory）还是默认的（default）"]),
    "citation without confidence": (replaced(", confidence: C}", "}"),
                                    ["citations.0.confidence", "缺少此字段"]),
    "citation title in brackets": (replaced("title: test,", "title: 《test》,"),
                                   ["不要带书名号《》"]),
    "effective_to before effective_from": (
        replaced(
            "effective_from: 2000-01-01", "effective_from: 2000-01-01\n    effective_to: 1999-12-31"
        ),
        ["'cn.x'", "effective_to 1999-12-31 早于 effective_from 2000-01-01"],
    ),
    "date-time instead of date": (
        replaced("effective_from: 2000-01-01", "effective_from: 2000-01-01 10:00:00"),
        ["effective_from", "应为日期"],
    ),
    "number instead of date": (
        replaced("effective_from: 2000-01-01", "effective_from: 2000"),
        ["effective_from"],
    ),
    "zero enrolment": (
        replaced("existing: review", "existing: review\n    min_enrolment: 0"),
        ["min_enrolment"],
    ),
    "threshold for unprotected level": (
        replaced(
            "existing: review", "existing: review\n    min_enrolment_by_level: {kindergarten: 200}"
        ),
        ["min_enrolment_by_level", "kindergarten"],
    ),
    "threshold for unknown level": (
        replaced(
            "existing: review", "existing: review\n    min_enrolment_by_level: {nursery: 200}"
        ),
        ["min_enrolment_by_level", "nursery"],
    ),
    "jurisdiction inside a rule": (
        replaced("id: cn.x", "id: cn.x\n    jurisdiction: '44'"),
        ["rules[0]", "jurisdiction"],
    ),
    "source in a file": (
        file_text(head="jurisdiction: CN\nsource: elsewhere"),
        ["source", "未知字段"],
    ),
    "3-digit jurisdiction": (file_text(head="jurisdiction: 440"), ["jurisdiction", "440"]),
    "lettered jurisdiction": (file_text(head="jurisdiction: GD"), ["jurisdiction", "'GD'"]),
    "padded province code": (file_text(head="jurisdiction: '440000'"), ["jurisdiction", "'44'"]),
    "padded city code": (file_text(head="jurisdiction: 440100"), ["jurisdiction", "'4401'"]),
    "empty rules": (file_text(rule_text=" []"), ["rules", "至少要有 1 条规则"]),
    "no rules": ("jurisdiction: CN\nname: test\nversion: '1'\n", ["rules", "缺少此字段"]),
    "unquoted float version": (file_text().replace("version: '1'", "version: 2026.1"), ["version"]),
    "empty file": ("# nothing here\n", ["文件内容应为映射"]),
    "list document": ("- a\n- b\n", ["文件内容应为映射"]),
    "YAML syntax error": (
        "jurisdiction: CN\nname: test\nversion: '1'\nrules:\n  - id: [unclosed\n",
        ["YAML 格式有误（第 6 行", "第 1 列"],  # PyYAML notices at the end of the stream
    ),
    "YAML mapping in a scalar": (
        replaced("distance_kind: statutory", "distance_kind: see: art. 9"),
        ["YAML 格式有误（第 11 行", "mapping values are not allowed"],
    ),
    "YAML tab indentation": (
        "jurisdiction: CN\nname: test\n\tversion: '1'\n",
        ["YAML 格式有误（第 3 行"],
    ),
    "duplicate key": (
        replaced("distance_m: 200", "distance_m: 200\n    distance_m: 100"),
        ["YAML 格式有误（第 9 行", "字段 'distance_m' 重复出现"],
    ),
}


@pytest.mark.parametrize("case", list(INVALID_FILES), ids=list(INVALID_FILES))
def test_invalid_file_names_file_and_problem(tmp_path: Path, case: str) -> None:
    text, fragments = INVALID_FILES[case]
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RuleError) as caught:
        load_rule_set(tmp_path)
    message = str(caught.value)
    assert str(path) in message and caught.value.extra["file"] == str(path)
    for fragment in fragments:
        assert fragment in message, (fragment, message)


def test_rule_error_is_a_validation_error(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text(replaced("metric: boundary", "metric: crow"), encoding="utf-8")
    with pytest.raises(ValidationError) as caught:
        load_rule_file(tmp_path / "x.yaml")
    assert caught.value.status == 422 and caught.value.extra["problems"]


def test_all_problems_of_a_file_are_reported(tmp_path: Path) -> None:
    second = GOOD_RULE.replace("cn.x", "cn.y").replace("metric: boundary", "metric: crow")
    bad = GOOD_RULE.replace("distance_m: 200", "distance_m: -1") + second
    (tmp_path / "cn.yaml").write_text(file_text(bad), encoding="utf-8")
    with pytest.raises(RuleError) as caught:
        load_rule_set(tmp_path)
    assert "规则 'cn.x'（rules[0]）：distance_m" in str(caught.value)
    assert "规则 'cn.y'（rules[1]）：metric" in str(caught.value)


def test_duplicate_rule_id_across_files(tmp_path: Path) -> None:
    first = write(tmp_path, "cn.yaml", "CN", [rule("same.id")])
    second = write(tmp_path, "44.yaml", "44", [rule("same.id")])
    with pytest.raises(RuleError, match="duplicate rule id 'same.id'") as caught:
        load_rule_set(tmp_path)
    assert str(first) in str(caught.value) and str(second) in str(caught.value)


def test_duplicate_rule_id_in_one_file(tmp_path: Path) -> None:
    path = write(tmp_path, "cn.yaml", "CN", [rule("a"), rule("a", category="lottery")])
    with pytest.raises(RuleError, match="duplicate rule id 'a'") as caught:
        load_rule_set(tmp_path)
    assert str(path) in str(caught.value)


def test_two_files_for_one_jurisdiction(tmp_path: Path) -> None:
    first = write(tmp_path, "44.yaml", "44", [rule("a")])
    second = write(tmp_path, "guangdong.yml", "44", [rule("b")])
    with pytest.raises(RuleError, match="jurisdiction 44") as caught:
        load_rule_set(tmp_path)
    assert str(first) in str(caught.value) and str(second) in str(caught.value)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({}, {}),  # both open-ended
        (
            {"effective_to": date(2020, 1, 1)},
            {"effective_from": date(2020, 1, 1)},
        ),  # one shared day
        ({"effective_from": date(2021, 1, 1)}, {"effective_to": date(2030, 1, 1)}),
        ({"protects": ["kindergarten", "primary"]}, {"protects": ["primary"]}),
    ],
)
def test_overlapping_rules_in_one_jurisdiction(
    tmp_path: Path, first: dict[str, Any], second: dict[str, Any]
) -> None:
    path = write(tmp_path, "44.yaml", "44", [rule("a", **first), rule("b", **second)])
    with pytest.raises(RuleError, match="rules 'a' and 'b' both cover internet_cafe") as caught:
        load_rule_set(tmp_path)
    assert str(path) in str(caught.value) and "primary" in str(caught.value)


def test_rules_that_do_not_overlap_are_accepted(tmp_path: Path) -> None:
    write(
        tmp_path,
        "44.yaml",
        "44",
        [
            rule("a", effective_to=date(2019, 12, 31)),
            rule("b", effective_from=date(2020, 1, 1)),
            rule("kg", protects=["kindergarten"]),
            rule("lottery", category="lottery"),
        ],
    )
    write(tmp_path, "cn.yaml", "CN", [rule("cn")])  # the same coverage in another jurisdiction
    assert len(load_rule_set(tmp_path).rules) == 5


def test_empty_or_missing_directory(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("not a rule file", encoding="utf-8")
    with pytest.raises(RuleError, match="没有规则文件") as caught:
        load_rule_set(tmp_path)
    assert str(tmp_path) in str(caught.value)
    with pytest.raises(RuleError, match="不是目录"):
        load_rule_set(tmp_path / "missing")


def test_unreadable_encoding(tmp_path: Path) -> None:
    (tmp_path / "cn.yaml").write_bytes("name: 全国".encode("gbk"))
    with pytest.raises(RuleError, match="无法读取规则文件"):
        load_rule_set(tmp_path)


def test_rule_model_inherits_file_jurisdiction(tmp_path: Path) -> None:
    path = write(tmp_path, "44.yaml", 44, [rule("a", protects=["secondary", "primary", "primary"])])
    loaded = load_rule_file(path)
    assert loaded.jurisdiction == "44" and loaded.source == str(path)
    assert loaded.rules[0].jurisdiction == "44"
    assert loaded.rules[0].protects == (Level.PRIMARY, Level.SECONDARY)  # canonical order
    assert isinstance(loaded.rules[0], Rule)


# --- version --------------------------------------------------------------------------------


def test_version_is_stable_under_order_and_formatting(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    write(
        a,
        "cn.yaml",
        "CN",
        [rule("x"), rule("y", category="lottery", protects=["primary", "kindergarten"])],
    )
    write(a, "44.yaml", "44", [rule("z", distance_m=100.0)])
    # Same content: other file names (so another load order), rules and keys reordered,
    # levels reordered, flow style, comments, 100 written as 100.0.
    b.mkdir()
    (b / "0-guangdong.yml").write_text(
        "# Guangdong\nversion: '1'\nname: test 44\njurisdiction: 44\n"
        "rules: [{id: z, category: internet_cafe, protects: [secondary, primary], distance_m: 100,"
        " metric: boundary, existing: review, distance_kind: statutory, effective_from: 2000-01-01,"
        " citations: [{title: test basis, confidence: C, authority: 测试机关}]}]\n",
        encoding="utf-8",
    )
    cn = yaml.safe_load((a / "cn.yaml").read_text(encoding="utf-8"))
    cn["rules"].reverse()
    cn["rules"][0]["protects"].reverse()
    cn["rules"] = [dict(reversed(list(r.items()))) for r in cn["rules"]]
    (b / "z-national.yaml").write_text(
        "# national\n" + yaml.safe_dump(cn, indent=4), encoding="utf-8"
    )
    assert load_rule_set(a).version == load_rule_set(b).version
    # The bundled set has the same version wherever it is copied to.
    shutil.copytree(bundled_rules_dir(), tmp_path / "copy")
    assert load_rule_set(tmp_path / "copy").version == load_rule_set(bundled_rules_dir()).version


def test_version_changes_with_content(tmp_path: Path) -> None:
    write(tmp_path, "cn.yaml", "CN", [rule("x", distance_m=200)])
    before = load_rule_set(tmp_path).version
    write(tmp_path, "cn.yaml", "CN", [rule("x", distance_m=201)])
    after_distance = load_rule_set(tmp_path).version
    write(tmp_path, "cn.yaml", "CN", [rule("x", distance_m=201, effective_to=date(2030, 1, 1))])
    after_date = load_rule_set(tmp_path).version
    assert len({before, after_distance, after_date}) == 3
    write(tmp_path, "cn.yaml", "CN", [rule("x", distance_m=200)])
    assert load_rule_set(tmp_path).version == before
