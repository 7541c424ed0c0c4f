"""The shipped rule files: clean citations, statutory vs default, dates, and the places covered."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from zoneguard.rules import Citation, DistanceKind, Rule, RuleSet, bundled_rules_dir, load_rule_set

MARKERS = ("[C]", "[S]", "[U]", "[S/U]", "待核", "未核实")
USER_FIELDS = ("authority", "title", "number", "article", "text")
MINORS_LAW = "中华人民共和国未成年人保护法"
IN_FORCE_2021 = date(2021, 6, 1)  # 未成年人保护法 (2020 revision) art. 132
ALL_MINORS = {"kindergarten", "primary", "secondary", "vocational", "special"}


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return load_rule_set(bundled_rules_dir())


def by_id(rules: RuleSet) -> dict[str, Rule]:
    return {rule.id: rule for rule in rules.rules}


def citations(rules: RuleSet) -> list[tuple[str, Citation]]:
    return [(rule.id, c) for rule in rules.rules for c in rule.citations]


def test_bundled_set_loads_with_one_file_per_place(rules: RuleSet) -> None:
    names = {file.jurisdiction: file.name for file in rules.files if file.rules}
    assert names == {"CN": "全国", "11": "北京市", "42": "湖北省", "44": "广东省", "6404": "固原市"}


@pytest.mark.parametrize("field", USER_FIELDS)
def test_no_confidence_marker_in_any_user_facing_field(rules: RuleSet, field: str) -> None:
    dirty = [
        (rule_id, getattr(c, field))
        for rule_id, c in citations(rules)
        if any(marker in (getattr(c, field) or "") for marker in MARKERS)
    ]
    assert dirty == []


def test_displayed_basis_carries_no_marker_or_bracketed_label(rules: RuleSet) -> None:
    for rule in rules.rules:
        assert not re.search(r"\[[A-Z/]+", rule.basis), rule.id
        assert rule.basis.startswith(rule.citations[0].authority)


def test_authorities_are_names_not_codes(rules: RuleSet) -> None:
    codes = {file.jurisdiction for file in rules.files} | {"CN", "全国"}
    for rule_id, c in citations(rules):
        assert c.authority not in codes, rule_id
        assert not re.fullmatch(r"[0-9A-Z ]+", c.authority), (rule_id, c.authority)
        assert re.search(r"国务院|人民代表大会|部|厅|局|总局|人民政府", c.authority), c.authority


def test_titles_are_whole_document_titles(rules: RuleSet) -> None:
    for rule_id, c in citations(rules):
        assert "：" not in c.title and "——" not in c.title, (rule_id, c.title)
        assert re.search(r"(法|条例|办法|规定|通知|意见|规范|标准)$", c.title), (rule_id, c.title)


def test_every_statutory_rule_quotes_an_article(rules: RuleSet) -> None:
    # A standard's table row is cited by its article; prose is quoted word for word.
    for rule in rules.rules:
        if rule.distance_kind is DistanceKind.STATUTORY:
            assert any(c.article and (c.text or (c.number or "").startswith("GB "))
                       for c in rule.citations), rule.id


def test_every_default_and_null_rule_explains_itself(rules: RuleSet) -> None:
    for rule in rules.rules:
        if rule.distance_kind is DistanceKind.DEFAULT or rule.distance_m is None:
            assert rule.notes and len(rule.notes) > 40, rule.id


def test_null_rules_say_how_far_to_review(rules: RuleSet) -> None:
    for rule in rules.rules:
        assert (rule.distance_m is None) == (rule.review_within_m is not None), rule.id


def test_national_defaults_cite_only_national_law_in_force(rules: RuleSet) -> None:
    national = next(file for file in rules.files if file.jurisdiction == "CN" and file.rules)
    defaults = [r for r in national.rules if r.distance_kind is DistanceKind.DEFAULT]
    assert {r.id for r in defaults} == {"cn.entertainment.school", "cn.lottery", "cn.tobacco",
                                        "cn.gas_station.2021"}
    for rule in defaults:
        for c in rule.citations:
            assert c.authority in {"国务院", "全国人民代表大会常务委员会",
                                   "住房和城乡建设部、国家市场监督管理总局"}, (rule.id, c.authority)
            words = c.title + (c.text or "")
            assert not re.search(r"北京|上海|广东|浙江|湖北|扬州|佛山|彩票入侵校园", words)


def test_rules_resting_on_the_minors_law_alone_start_when_it_did(rules: RuleSet) -> None:
    for rule in rules.rules:
        if all(c.title == MINORS_LAW for c in rule.citations):
            assert rule.effective_from >= IN_FORCE_2021, rule.id


@pytest.mark.parametrize("category", ["bar", "alcohol"])
def test_bar_and_alcohol_have_national_review_rules(rules: RuleSet, category: str) -> None:
    national = [r for r in rules.rules if r.jurisdiction == "CN" and r.category == category]
    assert len(national) == 1
    rule = national[0]
    assert rule.distance_m is None and rule.review_within_m and rule.review_within_m >= 100
    assert set(rule.protects) == ALL_MINORS
    article = "第五十八条" if category == "bar" else "第五十九条"
    cited = [c.article or "" for c in rule.citations if c.title == MINORS_LAW]
    assert any(a.startswith(article) for a in cited)


def test_every_category_of_articles_58_and_59_answers_somewhere_nationally(rules: RuleSet) -> None:
    for category in ("entertainment", "bar", "internet_cafe", "tobacco", "alcohol", "lottery"):
        for level in ALL_MINORS:
            found = rules.applicable(category=category, levels=[level], region="430103",
                                     on=date(2025, 6, 1))
            assert found, (category, level)


def test_fireworks_from_order_65_in_force_date(rules: RuleSet) -> None:
    fireworks = by_id(rules)["cn.fireworks"]
    assert fireworks.effective_from == date(2013, 12, 1)
    assert fireworks.statutory and fireworks.distance_m == 100
    assert fireworks.inclusive is False  # "保持100米以上的安全距离": 100 m complies
    assert any("第65号" in (c.number or "") for c in fireworks.citations)


def test_gas_station_2012_ends_the_day_before_2021_starts(rules: RuleSet) -> None:
    old, new = by_id(rules)["cn.gas_station"], by_id(rules)["cn.gas_station.2021"]
    assert old.effective_to is not None
    assert old.effective_to + timedelta(days=1) == new.effective_from
    assert new.effective_from == date(2021, 10, 1)
    assert {c.number for c in old.citations} == {"GB 50156-2012"}
    assert {c.number for c in new.citations} == {"GB 50156-2021"}
    assert any(c.title == "汽车加油加气加氢站技术标准" for c in new.citations)
    for rule in (old, new):
        assert rule.below_enrolment.value == "review" and rule.inclusive is False


@pytest.mark.parametrize(
    ("on", "rule_id"),
    [(date(2021, 9, 30), "cn.gas_station"), (date(2021, 10, 1), "cn.gas_station.2021")],
)
def test_gas_station_edition_by_day(rules: RuleSet, on: date, rule_id: str) -> None:
    found = rules.applicable(category="gas_station", levels=["primary"], region="430103", on=on,
                             enrolment=900)
    assert [r.rule.id for r in found] == [rule_id]


def test_inclusive_follows_the_wording(rules: RuleSet) -> None:
    exclusive = {r.id for r in rules.rules if r.distance_m is not None and not r.inclusive}
    assert exclusive == {
        "cn.fireworks", "cn.gas_station", "cn.gas_station.2021",
        "gd.internet_cafe.school", "gd.internet_cafe.kindergarten",
        "gd.entertainment.school", "gd.entertainment.kindergarten",
    }
    for rule_id in exclusive:
        words = "".join(c.text or "" for c in by_id(rules)[rule_id].citations)
        assert re.search(r"不得少于|以上|不应小于", words) or rule_id.startswith("cn.gas"), rule_id


def test_guyuan_file_sets_the_200m_zone(rules: RuleSet) -> None:
    guyuan = next(file for file in rules.files if file.jurisdiction == "6404" and file.rules)
    assert {r.category: r.distance_m for r in guyuan.rules} == {
        "internet_cafe": 200, "entertainment": 200, "bar": 200, "lottery": 200, "tobacco": 200,
    }
    assert all(r.statutory and r.inclusive for r in guyuan.rules)
    found = rules.applicable(category="tobacco", levels=["kindergarten"], region="640402",
                             on=date(2025, 6, 1))
    assert [r.rule.id for r in found] == ["gy.tobacco"]
    assert found[0].rule.citations[0].authority == "固原市人民政府办公室"


def test_hubei_50m_tier_protects_only_what_the_text_names(rules: RuleSet) -> None:
    on = date(2024, 3, 1)
    primary = rules.applicable(category="tobacco", levels=["primary"], region="420106", on=on)
    kindergarten = rules.applicable(category="tobacco", levels=["kindergarten"], region="420106",
                                    on=on)
    assert [r.rule.id for r in primary] == ["hb.tobacco"]
    assert [r.rule.id for r in kindergarten] == ["cn.tobacco"]
    assert not kindergarten[0].rule.statutory


def test_beijing_tobacco_covers_vocational_schools_from_2023(rules: RuleSet) -> None:
    def rule_for(on: date) -> Rule:
        found = rules.applicable(category="tobacco", levels=["vocational"], region="110108", on=on)
        return found[0].rule

    assert rule_for(date(2023, 5, 31)).id == "cn.tobacco"
    after = rule_for(date(2023, 6, 1))
    assert after.id == "bj.tobacco.2023" and after.statutory and after.distance_m == 100
    assert any(c.article == "第二十九条第二款" for c in after.citations)


def test_beijing_lottery_is_a_default_not_a_violation(rules: RuleSet) -> None:
    lottery = by_id(rules)["bj.lottery"]
    assert lottery.distance_kind is DistanceKind.DEFAULT
    assert lottery.existing.value == "review"


def test_changelog_names_every_shipped_rule_and_the_jiande_status(rules: RuleSet) -> None:
    doc = (bundled_rules_dir().parents[1] / "docs" / "legal-sources.md").read_text("utf-8")
    changelog = doc.split("## What changed in each shipped rule and why", 1)[1]
    assert [r.id for r in rules.rules if f"`{r.id}`" not in changelog] == []
    assert "建教安〔2020〕4号" in doc and "no file shipped" in doc
