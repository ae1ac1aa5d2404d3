"""Corrections over the organization API: list them, read one, answer one.

An organization sees only corrections of its own holdings; anyone else's is 404.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from app.corrections.models import Correction, CorrectionConflict
from app.corrections.service import (
    correction_payload,
    corrections_of_organization,
    is_overdue,
    organization_correction,
    resolve_correction,
)
from app.db import SessionDep
from app.organizations.deps import CurrentOrganization
from app.participants.models import Enrollment
from app.schemas import NoteText, ValueText

router = APIRouter(tags=["corrections"])

_ID = re.compile(r"^[a-z]{2,5}_[0-9a-f]{1,40}$")


class ResolutionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: Literal["accepted", "denied"]
    value: ValueText | None = Field(  # type: ignore[valid-type]
        default=None,
        description="accepted: what the holding says now (default: the participant's request)",
    )
    reason: NoteText | None = Field(  # type: ignore[valid-type]
        default=None, description="shown to the participant; required when denying"
    )


def correction_out(correction: Correction, enrollment: Enrollment) -> dict[str, Any]:
    return {
        **correction_payload(correction),
        "participant": {"external_ref": enrollment.external_ref},
        "overdue": is_overdue(correction),
        "tell_recipients": [{"name": name} for name in correction.tell_recipients],
    }


def _own_or_404(
    db: SessionDep, organization: CurrentOrganization, correction_id: str, *, lock: bool = False
) -> Correction:
    correction = (
        organization_correction(
            db, organization=organization, correction_id=correction_id, lock=lock
        )
        if _ID.match(correction_id)
        else None
    )
    if correction is None:
        raise HTTPException(status_code=404, detail=f"no correction {correction_id[:60]!r}")
    return correction


@router.get("/corrections")
async def list_corrections(
    organization: CurrentOrganization,
    db: SessionDep,
    status: Literal["requested", "accepted", "denied"] | None = Query(default=None),
) -> dict[str, list[dict[str, Any]]]:
    """Your organization's corrections, oldest first; `?status=requested` for the open ones."""
    rows = corrections_of_organization(db, organization=organization, status=status)
    return {"corrections": [correction_out(c, e) for c, e in rows]}


@router.get("/corrections/{correction_id}")
async def get_correction(
    correction_id: str, organization: CurrentOrganization, db: SessionDep
) -> dict[str, Any]:
    correction = _own_or_404(db, organization, correction_id)
    enrollment = db.get(Enrollment, correction.enrollment_id)
    assert enrollment is not None
    return correction_out(correction, enrollment)


@router.post("/corrections/{correction_id}/resolution")
async def resolve(
    correction_id: str,
    body: ResolutionIn,
    organization: CurrentOrganization,
    db: SessionDep,
    request: Request,
) -> dict[str, Any]:
    """Accept (the holding changes; everyone it was disclosed to is told) or deny (the
    participant sees `reason` and may add a statement of disagreement)."""
    correction = _own_or_404(db, organization, correction_id, lock=True)
    try:
        resolve_correction(
            db,
            correction=correction,
            organization=organization,
            outcome=body.outcome,
            value=body.value,
            reason=body.reason,
            base_url=request.app.state.settings.base_url,
        )
    except CorrectionConflict as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None
    except ValueError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    db.commit()
    enrollment = db.get(Enrollment, correction.enrollment_id)
    assert enrollment is not None
    return correction_out(correction, enrollment)
