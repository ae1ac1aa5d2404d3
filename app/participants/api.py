"""Enrolling participants and issuing claim codes over the API."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import IntegrityError

# Kept upward: the API's answer about a participant includes where each consent stands.
from app.consent.service import consent_payload, effective_state, latest_consents
from app.db import SessionDep
from app.i18n import SUPPORTED_LOCALES
from app.organizations.deps import CurrentOrganization
from app.organizations.service import list_purposes
from app.participants.deps import EnrollmentInPath
from app.participants.refs import ExternalRef
from app.participants.service import DuplicateRef, claim_url, enroll, issue_claim_code
from app.schemas import LocaleCode

router = APIRouter(tags=["participants"])


class EnrollmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    external_ref: ExternalRef  # type: ignore[valid-type]
    preferred_language: LocaleCode | None = None


@router.post("/participants", status_code=201)
async def create_participant(
    body: EnrollmentIn, organization: CurrentOrganization, db: SessionDep, request: Request
) -> dict[str, Any]:
    """Register a person with your organization; hand them the claim code or link."""
    # Only a language the portal can show is kept; "es-MX" is shown as "es".
    language = body.preferred_language
    if language is not None and language not in SUPPORTED_LOCALES:
        primary = language.split("-")[0]
        language = primary if primary in SUPPORTED_LOCALES else None
    try:
        enrollment, code = enroll(
            db,
            organization=organization,
            external_ref=body.external_ref,
            preferred_language=language,
        )
        db.commit()
    # IntegrityError: the same ref enrolled at the same moment by another process.
    except (DuplicateRef, IntegrityError):
        db.rollback()
        raise HTTPException(
            status_code=409, detail="a participant with this external_ref exists"
        ) from None
    return {
        "participant_id": enrollment.id,
        "external_ref": enrollment.external_ref,
        "claim_code": code,
        "claim_url": claim_url(request.app.state.settings.base_url, code),
    }


@router.post("/participants/{external_ref}/claim-codes", status_code=201)
async def new_claim_code(
    enrollment: EnrollmentInPath, db: SessionDep, request: Request
) -> dict[str, str]:
    """A fresh code (older unused ones stop working), e.g. for a participant who lost their PIN."""
    code = issue_claim_code(db, enrollment=enrollment)
    db.commit()
    return {"claim_code": code, "claim_url": claim_url(request.app.state.settings.base_url, code)}


@router.get("/participants/{external_ref}")
async def get_participant(
    enrollment: EnrollmentInPath, organization: CurrentOrganization, db: SessionDep
) -> dict[str, Any]:
    current = latest_consents(db, [enrollment.id])
    consents = []
    for purpose in list_purposes(db, organization_id=organization.id or 0):
        if purpose.basis != "consent":
            continue
        consent = current.get((enrollment.id, purpose.id or 0))
        if consent is None:
            consents.append({"purpose": purpose.key, "state": "requested"})
        else:
            consents.append(
                {**consent_payload(consent, purpose), "state": effective_state(consent)}
            )
    return {
        "participant_id": enrollment.id,
        "external_ref": enrollment.external_ref,
        "claimed": enrollment.participant_id is not None,
        "claimed_at": enrollment.claimed_at.isoformat() if enrollment.claimed_at else None,
        "consents": consents,
    }
