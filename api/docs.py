"""`/docs`: Swagger UI served from `/assets` (installed from npm by scripts/assets.sh), no CDN."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from api.deps import SettingsDep
from zoneguard.maps.assets import SETUP_HINT, AssetsMissing, asset_path, assets_dir

router = APIRouter(include_in_schema=False)
_PAGE = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>ZoneGuard API 文档</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/swagger-ui/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/assets/swagger-ui/swagger-ui-bundle.js"></script>
<script src="/assets/zoneguard/zg-docs.js"></script>
</body></html>
"""


@router.get("/docs", response_class=HTMLResponse)
def docs(settings: SettingsDep) -> HTMLResponse:
    """The interactive API documentation (503 problem when Swagger UI is not installed)."""
    try:
        asset_path("swagger-ui/swagger-ui-bundle.js", settings)
    except FileNotFoundError:
        raise AssetsMissing("接口文档页面（Swagger UI）未安装：请运行 "
                            + SETUP_HINT.format(dir=assets_dir(settings))) from None
    return HTMLResponse(_PAGE)
