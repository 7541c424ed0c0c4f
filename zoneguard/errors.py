"""The ZoneGuard error tree: each class carries its HTTP status and a stable problem type."""

from __future__ import annotations

from typing import Any


class ZoneGuardError(Exception):
    """Base class for every error the product reports to a user."""

    status: int = 400
    type: str = "about:blank"
    title: str = "请求有误"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class ValidationError(ZoneGuardError):
    """Input that is well-formed but not acceptable."""

    status = 422
    type = "urn:zoneguard:problem:validation"
    title = "输入无效"


class CrsProblem(ValidationError):
    """An unknown or inconsistent coordinate reference system."""

    type = "urn:zoneguard:problem:crs"
    title = "坐标参考系有误"


class RuleError(ValidationError):
    """A rule file that does not validate."""

    type = "urn:zoneguard:problem:rules"
    title = "规则集无效"


class CatalogueError(ValidationError):
    """A problem-category file (data/problems.yaml) that does not validate."""

    type = "urn:zoneguard:problem:problem-categories"
    title = "问题类别文件无效"


class ImportProblem(ValidationError):
    """A file that cannot be imported; `extra['report']` holds the row-level report."""

    type = "urn:zoneguard:problem:import"
    title = "导入被拒绝"


class NotFound(ZoneGuardError):
    """A referenced object does not exist."""

    status = 404
    type = "urn:zoneguard:problem:not-found"
    title = "未找到"


class Conflict(ZoneGuardError):
    """The request conflicts with the current state (duplicate key, running scan)."""

    status = 409
    type = "urn:zoneguard:problem:conflict"
    title = "与现有数据冲突"


class ScanRunning(Conflict):
    """Another scan holds the scan lock."""

    type = "urn:zoneguard:problem:scan-running"
    title = "已有排查正在运行"


class InvalidTransition(Conflict):
    """A workflow transition that the finding's state does not allow."""

    type = "urn:zoneguard:problem:invalid-transition"
    title = "当前状态不允许此操作"


class Unauthorized(ZoneGuardError):
    """Missing or unknown credentials."""

    status = 401
    type = "urn:zoneguard:problem:unauthorized"
    title = "未登录或缺少访问密钥"


class Forbidden(ZoneGuardError):
    """Credentials that do not allow this action or scope."""

    status = 403
    type = "urn:zoneguard:problem:forbidden"
    title = "无权操作"


class DatabaseUnavailable(ZoneGuardError):
    """The database cannot be reached or set up."""

    status = 503
    type = "urn:zoneguard:problem:database-unavailable"
    title = "数据库不可用"


class ClientGone(ZoneGuardError):
    """The client went away before its request finished: its work was abandoned, rolled back."""

    status = 499  # nginx's "client closed request": logged, never read by anyone
    type = "urn:zoneguard:problem:client-gone"
    title = "客户端已断开"


class EnvironmentProblem(ZoneGuardError):
    """Something missing on the machine (PostgreSQL, PostGIS binaries)."""

    status = 500
    type = "urn:zoneguard:problem:environment"
    title = "运行环境缺少组件"


class Busy(ZoneGuardError):
    """Every slot of a bounded, costly resource (e.g. PDF printing) is taken: retry later."""

    status = 503
    type = "urn:zoneguard:problem:busy"
    title = "服务繁忙"
    retry_after_s = 5


class TooLarge(ZoneGuardError):
    """An uploaded file over its configured size limit."""

    status = 413
    type = "urn:zoneguard:problem:too-large"
    title = "文件过大"


class UnsupportedFile(ZoneGuardError):
    """An uploaded file whose content is not an accepted type, or not the type it claims."""

    status = 415
    type = "urn:zoneguard:problem:unsupported-media-type"
    title = "不支持的文件类型"


class ScanPartitionFailed(ZoneGuardError):
    """A partition of a distributed rescan failed: the scan fails and changes no finding."""

    status = 503
    type = "urn:zoneguard:problem:scan-partition-failed"
    title = "排查的一个分区失败"


class ReplicaLagging(ScanPartitionFailed):
    """A read replica did not replay the primary's WAL in time: it would measure stale data."""

    type = "urn:zoneguard:problem:replica-lagging"
    title = "只读副本落后于主库"
