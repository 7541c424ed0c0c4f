"""Facility requirements of rule files: "at least N of a kind within d of a school or gate"."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

import pydantic
from pydantic import Field

from zoneguard.citations import Citation, Code, Count, Provision, Text
from zoneguard.domain import Level


class Per(StrEnum):
    """What a requirement is measured from: the campus, its main gates, or every gate."""

    SCHOOL = "school"  # within d of the campus (its boundary, or its point)
    MAIN_GATE = "main_gate"  # within d of each main gate (the campus when none is mapped)
    EACH_GATE = "each_gate"  # within d of every gate (the campus when none is mapped)


PER_NAMES = {Per.SCHOOL: "学校", Per.MAIN_GATE: "正门", Per.EACH_GATE: "每个校门"}


class Requirement(Provision):
    """At least `count` facilities of `kind` within `within_m` of a school or its gates."""

    id: Annotated[str, Field(strict=True, pattern=r"^[a-z0-9][a-z0-9_.-]*$")]
    jurisdiction: Code
    area: Text | None = None  # the file's `name`, set by the loader
    kind: Annotated[str, Field(strict=True, pattern=r"^[a-z][a-z0-9_]*$")]
    protects: tuple[Level, ...] = Field(min_length=1)
    per: Per
    within_m: Annotated[float, Field(gt=0, le=5000, strict=True, allow_inf_nan=False)]
    count: Count = 1
    # cameras: the gate must lie in the camera's view (bearing within direction ± fov/2)
    camera_covers_gate: bool = False
    target: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)] = 1.0  # coverage target
    citations: tuple[Citation, ...] = Field(min_length=1)
    effective_from: Annotated[date, Field(strict=True)]
    effective_to: Annotated[date, Field(strict=True)] | None = None
    notes: Text | None = None  # internal: for rule authors

    @pydantic.model_validator(mode="after")
    def _consistent(self) -> Requirement:
        from zoneguard.facility_kinds import facility_kinds  # data file, read once

        kinds = facility_kinds()
        if self.kind not in kinds:
            raise ValueError(f"kind：未知的设施种类 {self.kind!r}；可选 "
                             f"{'、'.join(kinds)}（见 data/facility_kinds.yaml）")
        self.check_period()
        if self.camera_covers_gate and not kinds[self.kind].camera:
            raise ValueError(f"camera_covers_gate：{self.kind} 不是摄像头类设施")
        if self.camera_covers_gate and self.per is Per.SCHOOL:
            raise ValueError("camera_covers_gate：per 须为 main_gate 或 each_gate")
        return self

