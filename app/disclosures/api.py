"""Recording disclosures over the API."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException

from app.db import SessionDep
from app.disclosures.schemas import DisclosureIn
from app.disclosures.service import DisclosureError, record_disclosure
from app.participants.deps import EnrollmentInPath

router = APIRouter(tags=["disclosures"])


@router.post("/participants/{external_ref}/disclosures", status_code=201)
async def create_disclosure(
    body: DisclosureIn, enrollment: EnrollmentInPath, db: SessionDep
) -> dict[str, Any]:
    """Always recorded; `flagged` when consent did not cover it or the recipient is not in
    the purpose's recipients. The participant sees it either way."""
    try:
        disclosure = record_disclosure(db, enrollment=enrollment, data=body)
    except DisclosureError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    db.commit()
    return {
        "disclosure_id": disclosure.id,
        "consent_state": disclosure.consent_state,
        "flagged": disclosure.flagged,
        "flag_reasons": disclosure.flag_reasons,
    }
