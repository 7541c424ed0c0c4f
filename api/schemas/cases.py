"""Evidence, field measurements, 督办单, 约谈 and the audit log, as the API carries them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from api.schemas.common import LongText, Page, RowId, Text

Name = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[^\x00]*$")]


class EvidenceOut(BaseModel):
    """One uploaded piece of evidence: its name, type (by content), size, sha256, who, when."""

    id: int
    finding_id: int | None = None
    filename: str
    media_type: str
    type_name: str | None = None
    size_bytes: int
    sha256: str
    note: str | None
    uploaded_by: str
    uploaded_at: datetime


class EvidenceList(BaseModel):
    """The evidence of one case, oldest first."""

    items: list[EvidenceOut]


class MeasurementIn(BaseModel):
    """A distance measured on site by two officers."""

    model_config = ConfigDict(extra="forbid")
    distance_m: float = Field(ge=0, le=100_000, allow_inf_nan=False, description="米")
    method: Literal["卷尺", "测距轮", "激光测距仪", "GNSS"]
    instrument: Text
    measurers: list[Name] = Field(min_length=2, max_length=2,
                                  description="两名不同的测量人员")
    measured_on: date
    evidence_id: RowId | None = Field(default=None, description="同一问题的现场照片")


class MeasurementOut(BaseModel):
    """A recorded field measurement and the verdict it gives."""

    id: int
    finding_id: int
    distance_m: float
    method: str
    instrument: str
    measurers: list[str]
    measured_on: date
    evidence_id: int | None
    verdict: Literal["prohibited", "review", "allowed"]
    verdict_name: str
    recorded_by: str
    recorded_at: datetime


class MeasurementList(BaseModel):
    """The field measurements of one case, oldest first."""

    items: list[MeasurementOut]


class OrderIn(BaseModel):
    """挂牌督办: the 督办单 of a case."""

    model_config = ConfigDict(extra="forbid")
    finding_id: RowId
    number: Annotated[str, StringConstraints(min_length=1, max_length=100,
                                             pattern=r"^[^\x00]*$")]
    office: Text
    deadline: date
    requirements: LongText


class LiftIn(BaseModel):
    """解除督办, with an optional note."""

    model_config = ConfigDict(extra="forbid")
    comment: LongText | None = None


class OrderOut(BaseModel):
    """A 督办单, active or lifted."""

    model_config = ConfigDict(extra="allow")
    id: int
    finding_id: int
    number: str
    office: str
    issued_on: date
    deadline: date
    requirements: str
    issued_by: str
    lifted_on: date | None
    lifted_by: str | None
    active: bool
    overdue: bool
    district: str | None = None


class InterviewIn(BaseModel):
    """约谈: the unit talked to, when, who took part, what was said (about a case, optionally)."""

    model_config = ConfigDict(extra="forbid")
    unit: Text
    held_on: date
    participants: LongText
    summary: LongText
    finding_id: RowId | None = None


class InterviewOut(BaseModel):
    """A recorded 约谈."""

    model_config = ConfigDict(extra="allow")
    id: int
    finding_id: int | None
    unit: str
    held_on: date
    participants: str
    summary: str
    recorded_by: str
    recorded_at: datetime
    district: str | None = None


class DistrictCounts(BaseModel):
    """督办 counts of one district (区县 code)."""

    district: str
    yellow: int
    red: int
    open_orders: int
    interviews: int


class SupervisionSummary(BaseModel):
    """黄牌/红牌 cases, open 督办单 and 约谈 by district, with the totals."""

    on: date
    region: str | None
    since: date | None
    until: date | None
    total: dict[str, int]
    districts: list[DistrictCounts]


class AuditOut(BaseModel):
    """One audit-log row; `at` in Beijing time."""

    id: int
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


OrderPage = Page[OrderOut]
InterviewPage = Page[InterviewOut]
AuditPage = Page[AuditOut]
