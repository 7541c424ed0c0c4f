"""A running API answers again after its embedded database is killed and brought back up."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient

from api.main import create_app
from zoneguard.db.embedded import cluster_for
from zoneguard.settings import Settings


def test_api_recovers_without_restart_after_kill_and_db_up(settings: Settings,
                                                           tmp_path: Path) -> None:
    cfg = settings.model_copy(update={"home": tmp_path / "home", "database_url": None,
                                      "pool_size": 2})
    cluster = cluster_for(cfg)
    try:
        with TestClient(create_app(cfg)) as client:
            assert client.get("/readyz").status_code == 200
            port = cluster.status().port
            cluster.kill()
            deadline = time.monotonic() + 10
            while cluster.status().running and time.monotonic() < deadline:
                time.sleep(0.1)
            down = client.get("/readyz")
            assert down.status_code == 503 and "Traceback" not in down.text
            assert cluster.up().port == port
            assert client.get("/readyz").status_code == 200  # same process, same engine
            assert client.get("/readyz").status_code == 200
    finally:
        cluster.destroy()
