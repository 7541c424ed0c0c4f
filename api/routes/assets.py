"""`/assets/…`: Leaflet, its plugins and the ZoneGuard map script, served locally (no CDN)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse

from api.deps import SettingsDep
from zoneguard.errors import NotFound
from zoneguard.maps.assets import asset_path, media_type

router = APIRouter(prefix="/assets", tags=["maps"])


@router.get("/{name:path}", response_class=FileResponse,
            responses={200: {"description": "A static map library file"}})
def get_asset(name: str, settings: SettingsDep) -> FileResponse:
    """A map library file (public: it holds no data)."""
    try:
        path = asset_path(name, settings)
    except FileNotFoundError:
        raise NotFound(f"没有这个静态文件：{name}") from None
    return FileResponse(path, media_type=media_type(path),
                        headers={"Cache-Control": "public, max-age=86400"})
