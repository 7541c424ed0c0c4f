"""Settings: one object, read from `ZONEGUARD_*` environment variables on demand."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from platformdirs import user_data_dir
from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def _default_home() -> Path:
    return Path(user_data_dir("zoneguard", appauthor=False))


class Settings(BaseSettings):
    """Runtime configuration; every field is `ZONEGUARD_<NAME>` in the environment."""

    model_config = SettingsConfigDict(env_prefix="ZONEGUARD_", extra="ignore")

    environment: str = Field(default="development", description="development | production")
    database_url: str | None = Field(
        default=None, description="External PostGIS URL; unset means the embedded cluster"
    )
    home: Path = Field(default_factory=_default_home, description="Data directory")
    rules_dir: Path | None = Field(default=None, description="Replaces the bundled data/rules/")
    problems_file: Path | None = Field(
        default=None, description="Replaces the bundled data/problems.yaml (problem categories)")
    review_margin_m: float = Field(default=3.0, ge=0, description="Margin around a threshold")
    max_entrance_m: float = Field(default=50.0, gt=0,
                                  description="Farthest a premises entrance may lie from its point")
    point_school_radius_m: float = Field(
        default=150.0, ge=0, description="Assumed campus radius of a school known as a point"
    )
    walking_snap_max_m: float = Field(default=50.0, gt=0, description="Max snap to the network")
    import_max_bytes: int = Field(default=200 * 1024 * 1024, gt=0)
    import_max_unpacked_bytes: int = Field(
        default=1024 * 1024 * 1024, gt=0,
        description="Most bytes an import ZIP (zipped shapefile, XLSX) may unpack to, counted")
    import_max_members: int = Field(default=1000, gt=0, description="Most members of an import ZIP")
    import_max_rows: int = Field(default=2_000_000, gt=0, description="Most rows of an import")
    import_max_columns: int = Field(default=500, gt=0, description="Most columns of an import")
    import_max_cell_chars: int = Field(default=64 * 1024, gt=0,
                                       description="Longest text cell of an import")
    evidence_max_bytes: int = Field(default=20 * 1024 * 1024, gt=0,
                                    description="Largest evidence file (photo, PDF) accepted")
    scan_cron: str = Field(default="0 2 * * *", description="Nightly rescan schedule")
    timezone: str = Field(default="Asia/Shanghai")
    pool_size: int = Field(default=5, ge=1)
    pool_timeout_s: float = Field(
        default=5.0, gt=0, description="Longest wait for a pooled connection before a 503"
    )
    metrics_public: bool = Field(
        default=False, description="Serve /metrics without a key (default: admin/governance key)"
    )
    max_in_flight: int = Field(
        default=4, ge=1, description="Requests a worker serves at once; more are shed with 503"
    )
    max_queued: int | None = Field(
        default=None, ge=0, description="Requests that may wait for a slot in a worker "
        "(unset: as many as max_in_flight); 0 sheds at once whatever does not run")
    overload_in_flight: int = Field(
        default=2, ge=1, description="Requests a worker runs at once while it is shedding "
        "(at most max_in_flight): the served ones keep their latency")
    admission_wait_s: float = Field(
        default=0.1, gt=0, description="Longest wait for a slot while the worker keeps up")
    group_commit_delay_s: float = Field(
        default=0.0, ge=0, le=0.1, description="Wait before storing a batch of screenings, to "
        "let more join one commit (0: store what arrived during the previous commit)")
    body_max_bytes: int = Field(default=1024 * 1024, gt=0, description="Largest JSON body")
    basemap: str | None = Field(
        default=None, description="osm | tianditu | amap | none; unset: tianditu when a "
        "Tianditu key is configured (the official basemap, 审图号), else osm")
    tianditu_key: str | None = None
    assets_dir: Path | None = Field(
        default=None, description="Leaflet assets (default: <venv>/share/zoneguard-assets)"
    )
    geocoder: str = Field(default="offline", description="offline | tianditu (needs the key)")
    public_url: str | None = Field(
        default=None, description="The address people open (https → Secure session cookies)")
    session_idle_min: float = Field(default=30.0, gt=0, description="Idle web session lifetime")
    session_max_hours: float = Field(default=12.0, gt=0, description="Longest web session")
    login_max_failures: int = Field(
        default=5, ge=1, description="Failed logins of one username before it is locked")
    login_ip_max_failures: int = Field(
        default=20, ge=1, description="Failed logins from one address before it is locked")
    login_lock_min: float = Field(default=15.0, gt=0, description="Lockout window")
    remedies_text: str = Field(
        default="申请人对本次距离核查结果有异议的，可向受理机关申请现场复核；对据此作出的行政许可"
                "决定不服的，可以自收到决定书之日起六十日内依法申请行政复议，或者自知道或者应当知道"
                "该行政行为之日起六个月内依法向人民法院提起行政诉讼。",
        description="Remedies (救济途径) printed on the 距离核查告知单")
    read_database_urls: str | None = Field(
        default=None, description="Comma-separated URLs of read replicas for partitioned "
        "rescans (unset: the running local replicas, `zoneguard db replica up`)")
    dask_scheduler: str | None = Field(
        default=None, description="Dask scheduler (tcp://host:8786): rescans run partitioned "
        "on its workers against the read replicas; unset: on this machine")
    replica_wait_s: float = Field(
        default=60.0, gt=0, description="Longest wait for a replica to replay the primary's WAL")
    scan_partition_premises: int = Field(
        default=200_000, ge=1, description="Most premises of one rescan partition")
    server_user: str = Field(
        default="postgres", description="Unprivileged OS user running the embedded cluster as root"
    )

    @field_validator("home", mode="after")
    @classmethod
    def _absolute_home(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @field_validator("geocoder")
    @classmethod
    def _known_geocoder(cls, value: str) -> str:
        if value not in {"offline", "tianditu"}:
            raise ValueError("geocoder must be offline or tianditu")
        return value

    @field_validator("basemap")
    @classmethod
    def _known_basemap(cls, value: str | None) -> str | None:
        if value is not None and value not in {"osm", "tianditu", "amap", "none"}:
            raise ValueError("basemap must be one of osm, tianditu, amap, none")
        return value

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.environment == "production" and self.database_url is None:
            raise ValueError(
                "ZONEGUARD_DATABASE_URL must be set in production (the embedded cluster is for "
                "development and single-machine use)"
            )
        if self.geocoder == "tianditu" and not self.tianditu_key:
            raise ValueError("ZONEGUARD_TIANDITU_KEY is required when ZONEGUARD_GEOCODER=tianditu")
        if self.basemap == "tianditu" and not self.tianditu_key:
            raise ValueError("ZONEGUARD_TIANDITU_KEY is required when ZONEGUARD_BASEMAP=tianditu")
        return self

    @property
    def effective_basemap(self) -> str:
        """The basemap of maps: the configured one, else 天地图 when a key is set, else OSM."""
        return self.basemap or ("tianditu" if self.tianditu_key else "osm")

    @property
    def read_urls(self) -> list[str]:
        """The configured read replica URLs, in order (empty when unset)."""
        return [u.strip() for u in (self.read_database_urls or "").split(",") if u.strip()]

    @property
    def effective_rules_dir(self) -> Path:
        """Directory the rule files are read from."""
        return self.rules_dir if self.rules_dir is not None else PROJECT_ROOT / "data" / "rules"

    @property
    def effective_problems_file(self) -> Path:
        """File the categories of hand-registered problems are read from."""
        if self.problems_file is not None:
            return self.problems_file
        return PROJECT_ROOT / "data" / "problems.yaml"


def local_today(timezone: str | None = None) -> date:
    """Today's date in the configured time zone (Asia/Shanghai), whatever the host's zone.

    Rules in force, deadlines and reports are dated in Beijing: on a host that runs in UTC,
    `date.today()` is still yesterday there until 08:00.
    """
    return datetime.now(ZoneInfo(timezone or get_settings().timezone)).date()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings, read from the environment on first use."""
    return Settings()
