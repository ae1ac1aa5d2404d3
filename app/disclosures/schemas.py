from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from app.schemas import Key, ShortText, UtcDateTime


class RecipientRef(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: ShortText  # type: ignore[valid-type]
    organization: Key | None = None


class DisclosureIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    recipient: RecipientRef
    purpose: Key
    field_keys: list[Key] = Field(min_length=1, max_length=500)
    disclosed_at: UtcDateTime | None = Field(
        default=None, description="when it was shared; without a time zone, UTC; default now"
    )
