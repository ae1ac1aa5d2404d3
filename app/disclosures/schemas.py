from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from app.organizations.schemas import RecipientRef
from app.schemas import Key, UtcDateTime


class DisclosureIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    recipient: RecipientRef
    purpose: Key
    field_keys: list[Key] = Field(min_length=1, max_length=500)
    disclosed_at: UtcDateTime | None = Field(
        default=None, description="when it was shared; without a time zone, UTC; default now"
    )
