"""Consents recorded by the organization (paper, verbal) and consent checks."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, ConfigDict

from app.consent.notice import build_notice
from app.consent.service import (
    ConsentConflict,
    consent_payload,
    current_consent,
    decide,
    effective_state,
)
from app.corrections.statements import statements_about
from app.db import SessionDep
from app.organizations.deps import CurrentOrganization
from app.organizations.schemas import RecipientRef
from app.organizations.service import find_purpose
from app.participants.deps import EnrollmentInPath
from app.participants.refs import ExternalRef
from app.participants.service import find_enrollment
from app.schemas import Key, NoteText, ShortText

router = APIRouter(tags=["consent"])


class ConsentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    purpose: Key
    state: Literal["given", "withdrawn", "refused"]
    method: Literal["paper", "verbal"]
    note: NoteText | None = None  # type: ignore[valid-type]
    recorded_by: ShortText | None = None  # type: ignore[valid-type]


@router.post("/participants/{external_ref}/consents", status_code=201)
async def record_offline_consent(
    body: ConsentIn,
    enrollment: EnrollmentInPath,
    organization: CurrentOrganization,
    db: SessionDep,
    request: Request,
) -> dict[str, Any]:
    """A consent or withdrawal the organization received outside the portal (a signed paper
    form, a phone call). Same effects and events as one the participant made."""
    purpose = find_purpose(db, organization_id=organization.id or 0, key=body.purpose)
    if purpose is None:
        raise HTTPException(status_code=422, detail=f"purpose {body.purpose!r} is not in your plan")
    if purpose.basis != "consent":
        raise HTTPException(
            status_code=422,
            detail=f"purpose {body.purpose!r} rests on {purpose.basis!r}, not on consent",
        )
    try:
        decision = decide(
            db,
            enrollment=enrollment,
            organization=organization,
            purpose=purpose,
            state=body.state,
            method=body.method,
            notice=build_notice(purpose, organization, enrollment.preferred_language or "en"),
            recorded_by=body.recorded_by or organization.name,
            note=body.note,
            base_url=request.app.state.settings.base_url,
        )
    except ConsentConflict as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None
    db.commit()
    # A repeated decision changes nothing and answers with the current one.
    assert decision.consent is not None
    return consent_payload(decision.consent, purpose)


class ConsentCheckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    external_ref: ExternalRef  # type: ignore[valid-type]
    purpose: Key
    # A name (or a network organization's slug), or the same object a disclosure takes.
    recipient: ShortText | RecipientRef | None = None  # type: ignore[valid-type]


@router.post("/consent-checks")
async def consent_check(
    body: ConsentCheckIn, organization: CurrentOrganization, db: SessionDep
) -> dict[str, Any]:
    """May this participant's data be used or shared for this purpose (and recipient) now?"""
    enrollment = find_enrollment(
        db, organization_id=organization.id or 0, external_ref=body.external_ref
    )
    if enrollment is None:
        raise HTTPException(
            status_code=404, detail=f"no participant with external_ref {body.external_ref!r}"
        )
    purpose = find_purpose(db, organization_id=organization.id or 0, key=body.purpose)
    if purpose is None:
        raise HTTPException(status_code=422, detail=f"purpose {body.purpose!r} is not in your plan")
    consent = current_consent(db, enrollment_id=enrollment.id, purpose_id=purpose.id or 0)
    if purpose.basis == "consent":
        state = effective_state(consent)
        allowed = state == "given"
    else:
        state, allowed = purpose.basis, True
    recipient_listed = None
    if body.recipient is not None:
        recipient_listed = _recipient_listed(purpose.recipients, body.recipient)
        allowed = allowed and recipient_listed
    return {
        "allowed": allowed,
        "state": state,
        "basis": purpose.basis,
        "consent_id": consent.id if consent and purpose.basis == "consent" else None,
        "expires_at": consent.expires_at.isoformat()
        if consent and consent.expires_at and state == "given"
        else None,
        "recipient_listed": recipient_listed,
        # The participant's statements of disagreement, to pass along with the data.
        "statements": statements_about(db, enrollment_id=enrollment.id),
        "consent": consent_payload(consent, purpose) if consent else None,
    }


def _recipient_listed(recipients: list[dict[str, Any]], asked: str | RecipientRef) -> bool:
    """Is the recipient among the purpose's recipients, by name or by organization slug?"""
    names = {str(r.get("name", "")).strip().casefold() for r in recipients}
    slugs = {r["organization"] for r in recipients if r.get("organization")}
    if isinstance(asked, RecipientRef):
        return str(asked.name).strip().casefold() in names or (
            asked.organization is not None and asked.organization in slugs
        )
    wanted = str(asked).strip().casefold()
    return wanted in names or wanted in slugs
