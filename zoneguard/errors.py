"""The ZoneGuard error tree: each class carries its HTTP status and a stable problem type."""

from __future__ import annotations

from typing import Any


class ZoneGuardError(Exception):
    """Base class for every error the product reports to a user."""

    status: int = 400
    type: str = "about:blank"
    title: str = "Bad request"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class ValidationError(ZoneGuardError):
    """Input that is well-formed but not acceptable."""

    status = 422
    type = "urn:zoneguard:problem:validation"
    title = "Invalid input"


class CrsProblem(ValidationError):
    """An unknown or inconsistent coordinate reference system."""

    type = "urn:zoneguard:problem:crs"
    title = "Coordinate reference system problem"


class RuleError(ValidationError):
    """A rule file that does not validate."""

    type = "urn:zoneguard:problem:rules"
    title = "Invalid rule set"


class CatalogueError(ValidationError):
    """A problem-category file (data/problems.yaml) that does not validate."""

    type = "urn:zoneguard:problem:problem-categories"
    title = "Invalid problem categories"


class ImportProblem(ValidationError):
    """A file that cannot be imported; `extra['report']` holds the row-level report."""

    type = "urn:zoneguard:problem:import"
    title = "Import rejected"


class NotFound(ZoneGuardError):
    """A referenced object does not exist."""

    status = 404
    type = "urn:zoneguard:problem:not-found"
    title = "Not found"


class Conflict(ZoneGuardError):
    """The request conflicts with the current state (duplicate key, running scan)."""

    status = 409
    type = "urn:zoneguard:problem:conflict"
    title = "Conflict"


class ScanRunning(Conflict):
    """Another scan holds the scan lock."""

    type = "urn:zoneguard:problem:scan-running"
    title = "A scan is already running"


class InvalidTransition(Conflict):
    """A workflow transition that the finding's state does not allow."""

    type = "urn:zoneguard:problem:invalid-transition"
    title = "Invalid workflow transition"


class Unauthorized(ZoneGuardError):
    """Missing or unknown credentials."""

    status = 401
    type = "urn:zoneguard:problem:unauthorized"
    title = "Unauthorized"


class Forbidden(ZoneGuardError):
    """Credentials that do not allow this action or scope."""

    status = 403
    type = "urn:zoneguard:problem:forbidden"
    title = "Forbidden"


class DatabaseUnavailable(ZoneGuardError):
    """The database cannot be reached or set up."""

    status = 503
    type = "urn:zoneguard:problem:database-unavailable"
    title = "Database unavailable"


class ClientGone(ZoneGuardError):
    """The client went away before its request finished: its work was abandoned, rolled back."""

    status = 499  # nginx's "client closed request": logged, never read by anyone
    type = "urn:zoneguard:problem:client-gone"
    title = "Client closed the request"


class EnvironmentProblem(ZoneGuardError):
    """Something missing on the machine (PostgreSQL, PostGIS binaries)."""

    status = 500
    type = "urn:zoneguard:problem:environment"
    title = "Environment problem"


class Busy(ZoneGuardError):
    """Every slot of a bounded, costly resource (e.g. PDF printing) is taken: retry later."""

    status = 503
    type = "urn:zoneguard:problem:busy"
    title = "Busy"
    retry_after_s = 5


class TooLarge(ZoneGuardError):
    """An uploaded file over its configured size limit."""

    status = 413
    type = "urn:zoneguard:problem:too-large"
    title = "Request too large"


class UnsupportedFile(ZoneGuardError):
    """An uploaded file whose content is not an accepted type, or not the type it claims."""

    status = 415
    type = "urn:zoneguard:problem:unsupported-media-type"
    title = "Unsupported media type"


class ScanPartitionFailed(ZoneGuardError):
    """A partition of a distributed rescan failed: the scan fails and changes no finding."""

    status = 503
    type = "urn:zoneguard:problem:scan-partition-failed"
    title = "A partition of the rescan failed"


class ReplicaLagging(ScanPartitionFailed):
    """A read replica did not replay the primary's WAL in time: it would measure stale data."""

    type = "urn:zoneguard:problem:replica-lagging"
    title = "Read replica behind the primary"
