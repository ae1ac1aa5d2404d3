"""Reports as the API reads and writes them (CONTRACT.md section 6)."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.organizations.schemas import RecipientRef
from app.reports.models import MAX_COUNT_BY
from app.schemas import Key, LocalizedTitle


class PeriodIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    from_: date | None = Field(default=None, alias="from")
    to: date | None = None

    @model_validator(mode="after")
    def _in_order(self) -> PeriodIn:
        if self.from_ and self.to and self.from_ > self.to:
            raise ValueError("period: 'from' must be on or before 'to'")
        return self


class ReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: LocalizedTitle  # type: ignore[valid-type]
    recipient: RecipientRef
    purpose: Key
    count_by: list[Key] = Field(min_length=1, max_length=MAX_COUNT_BY)
    period: PeriodIn | None = None

    @model_validator(mode="after")
    def _distinct_fields(self) -> ReportIn:
        if len(set(self.count_by)) != len(self.count_by):
            raise ValueError("count_by: name each field once")
        return self


def period_out(start: date | None, end: date | None) -> dict[str, Any] | None:
    if start is None and end is None:
        return None
    return {"from": start.isoformat() if start else None, "to": end.isoformat() if end else None}
