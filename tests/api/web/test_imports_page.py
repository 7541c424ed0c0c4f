"""`/imports`: upload, dry run with the row-level report, confirm, scope, CSRF."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.api.web.conftest import csrf_of, login
from zoneguard.models import AuditLog, Premises

GOOD = ("licence_no,name,category,region,lon,lat\n"
        "TX-1,便利店一,tobacco,430103,112.985,28.195\n"
        "TX-2,<i>便利店二</i>,tobacco,430103,112.986,28.196\n")
BAD_ROW = GOOD + "TX-3,坏行,tobacco,430103,not-a-number,28.197\n"


def _count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Premises)) or 0)


def _upload(web: TestClient, body: str, **form: str) -> tuple[int, str]:
    page = web.get("/imports")
    assert page.status_code == 200
    answer = web.post("/imports", files={"file": ("登记.csv", body.encode(), "text/csv")},
                      data={"csrf_token": csrf_of(page.text), "kind": "premises",
                            "crs": "wgs84", **form})
    return answer.status_code, answer.text


def _as(web: TestClient, person: Callable[..., str], role: str, **scope: object) -> None:
    status, _ = login(web, person("zhangsan", role=role, **scope))
    assert status == 303


def test_dry_run_reports_then_confirm_imports(
        web: TestClient, person: Callable[..., str], session: Session) -> None:
    _as(web, person, "admin")
    status, page = _upload(web, GOOD)
    assert status == 200 and "试导入结果（尚未写入）" in page
    assert re.search(r'id="count-inserted">2<', page) and _count(session) == 0
    token = re.search(r'name="token" value="([^"]+)"', page)
    assert token is not None
    confirm = web.post("/imports/confirm", data={"csrf_token": csrf_of(page),
                                                 "token": token.group(1)})
    assert confirm.status_code == 200 and 'id="import-title">已导入' in confirm.text
    assert _count(session) == 2
    names = set(session.scalars(select(Premises.name)))
    assert names == {"便利店一", "<i>便利店二</i>"}
    assert session.scalars(select(AuditLog.actor).where(AuditLog.action == "import")).all() \
        == ["user:张三(zhangsan)"]
    again = web.post("/imports/confirm", data={"csrf_token": csrf_of(page),
                                               "token": token.group(1)})
    assert again.status_code == 404 and "已过期或不存在" in again.text and _count(session) == 2


def test_a_rejected_row_is_listed_with_its_reason_and_nothing_is_written(
        web: TestClient, person: Callable[..., str], session: Session) -> None:
    _as(web, person, "admin")
    status, page = _upload(web, BAD_ROW)
    assert status == 422 and 'id="import-error"' in page
    rows = re.findall(r'<tr class="wb-problem-error"><td>(\d+)</td>', page)
    assert rows == ["4"]  # the header is row 1
    assert 'id="import-confirm"' not in page and _count(session) == 0
    status, page = _upload(web, BAD_ROW, skip_invalid="1")
    assert status == 200 and re.search(r'id="count-inserted">2<', page)
    assert re.search(r'id="count-rejected">1<', page) and 'id="import-confirm"' in page


def test_a_bureau_imports_only_premises_of_its_scope(
        web: TestClient, person: Callable[..., str], session: Session) -> None:
    _as(web, person, "bureau", categories=["tobacco"], region="4301")
    assert _upload(web, GOOD)[0] == 200
    status, page = _upload(web, GOOD.replace("430103", "440106"))
    assert status == 403 and "权限范围以外" in page
    status, page = _upload(web, GOOD, kind="schools")
    assert status == 403 and "只能导入场所" in page
    assert 'value="schools"' not in web.get("/imports").text
    assert _count(session) == 0


def test_roles_that_do_not_import_and_forged_forms_are_refused(
        web: TestClient, person: Callable[..., str], session: Session) -> None:
    _as(web, person, "governance")
    assert web.get("/imports").status_code == 403
    web.cookies.clear()
    status, _ = login(web, person("lisi", role="admin"))
    assert status == 303
    forged = web.post("/imports", files={"file": ("a.csv", GOOD.encode(), "text/csv")},
                      data={"csrf_token": "forged", "kind": "premises", "crs": "wgs84"})
    assert forged.status_code == 403 and "页面已过期" in forged.text
    assert _count(session) == 0


def test_row_and_file_problems_are_written_in_chinese(
        web: TestClient, person: Callable[..., str], session: Session) -> None:
    _as(web, person, "admin")
    body = ("许可证号,名称,类别,行政区划代码,发证日期,经度,纬度\n"
            "TX-1,便利店一,烟草,430103,2024-02-30,112.985,28.195\n"
            "TX-2,便利店二,酒吧,430103,2024-01-01,112.986,28.196\n"
            "TX-3,便利店三,烟草,430103,2024-01-01,东经112度,28.197\n"
            "TX-4,便利店四,烟草,430103,2024-01-01,28.198,112.987\n")
    status, page = _upload(web, body, skip_invalid="1")
    cells = re.findall(r'<tr class="wb-problem-error"><td>(\d+)</td><td>拒绝</td>'
                       r'<td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td>', page)
    assert status == 200 and [(row, column) for row, column, _, _ in cells] == [
        ("2", "发证日期"), ("3", "类别"), ("4", "经度"), ("5", "经度")]
    reasons = [reason for _, _, _, reason in cells]
    assert reasons[0] == "“2024-02-30”不是实际存在的日期：请写成 YYYY-MM-DD，如 2024-09-01"
    assert reasons[1].startswith("场所类别“酒吧”不在现行规则中；可填：")
    assert reasons[2] == "不是数字" and cells[2][2] == "东经112度"
    assert reasons[3].startswith("经纬度疑似颠倒：")
    for reason in reasons:  # no English sentence reaches the clerk
        assert not re.search(r"[A-Za-z]{3,} [a-z]{2,}", reason), reason
    status, page = _upload(web, "名称,经度,纬度\n便利店,112.985,28.195\n")
    assert status == 422 and "缺少必需的列：许可证号" in page and _count(session) == 0
