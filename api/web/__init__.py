"""The workbench: server-rendered Chinese pages for licensing counters and governance offices.

`install(app)` adds the pages (`/`, `/login`, `/logout`, `/screen`, `/findings`,
`/schools/{code}`, `/reports`, `/imports`) and their static files
under `/static/web/`. Templates are Jinja2 with autoescaping; scripts are static files only
(the pages' Content-Security-Policy allows no inline script).
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api.web import cases, imports, login, places, schools, screen
from api.web.render import HERE


def install(app: FastAPI) -> None:
    """Add the workbench pages and static files to the app."""
    app.include_router(login.router)
    app.include_router(places.router)  # before /screen/{id}
    app.include_router(screen.router)
    app.include_router(cases.router)
    app.include_router(schools.router)
    app.include_router(imports.router)
    app.mount("/static/web", StaticFiles(directory=HERE / "static"), name="web-static")
