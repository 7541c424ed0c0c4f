"""Workbench fixtures: a browser-like client (cookies of its own) and a logged-in person."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from zoneguard.services.access.users import create_user

PASSWORD = "correct horse 电池"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = _CSRF.search(html)
    assert found is not None, html[:500]
    return found.group(1)


@pytest.fixture
def web(client: TestClient) -> Iterator[TestClient]:
    """The test client with no cookies before or after (the client is shared by tests)."""
    client.cookies.clear()
    yield client
    client.cookies.clear()


def login(web: TestClient, username: str, password: str = PASSWORD) -> tuple[int, str]:
    """Log in through the form; return the status and the page or location reached."""
    page = web.get("/login")
    assert page.status_code == 200
    answer = web.post("/login", data={"username": username, "password": password,
                                      "csrf_token": csrf_of(page.text), "next": "/screen"},
                      follow_redirects=False)
    return answer.status_code, answer.headers.get("location") or answer.text


@pytest.fixture
def person(session: Session) -> Callable[..., str]:
    """Create a user in the test transaction; return the username."""

    def make(username: str = "zhangsan", role: str = "bureau", display_name: str = "张三",
             categories: list[str] | None = None, region: str | None = None) -> str:
        cats = categories if categories is not None else (
            ["internet_cafe", "tobacco"] if role == "bureau" else None)
        create_user(session, username=username, password=PASSWORD, role=role,
                    display_name=display_name, categories=cats, region_prefix=region)
        return username

    return make


@pytest.fixture
def logged_in(web: TestClient, person: Callable[..., str]) -> TestClient:
    """The client logged in as 张三 (bureau: internet cafés and tobacco)."""
    status, where = login(web, person())
    assert (status, where) == (303, "/screen")
    return web
