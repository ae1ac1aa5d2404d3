"""Who a participant route is about: the signed-in participant of a page, or the enrollment
an API call names by its `external_ref`.

These are FastAPI dependencies over the participant's own records, so they live with
participants: the shared web plumbing (app/web/deps.py) and the API key's check
(app/organizations/deps.py) sit below and know nothing of what a participant may do.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from app.db import SessionDep
from app.organizations.deps import CurrentOrganization
from app.participants import recovery
from app.participants.models import Enrollment, Participant
from app.participants.refs import ExternalRefInPath
from app.participants.service import find_enrollment
from app.web.deps import LoginRequired, WebContextDep

# --- the participant's pages ----------------------------------------------------------------


async def require_participant(request: Request, ctx: WebContextDep) -> Participant:
    if ctx.participant is None:
        raise LoginRequired(request.url.path, idle=ctx.idle_logged_out)
    return ctx.participant


CurrentParticipant = Annotated[Participant, Depends(require_participant)]


class RecordsSealed(Exception):
    """The page acts on the whole account while records are sealed after a PIN reset."""


async def require_open_account(participant: CurrentParticipant, db: SessionDep) -> Participant:
    """For pages over the whole account (own words, closing it): while a PIN reset keeps
    other organizations' records sealed, they wait until the participant opens them, so a
    code's holder can neither read nor change what concerns those organizations."""
    if recovery.is_sealed(db, participant.id):
        raise RecordsSealed()
    return participant


OpenParticipant = Annotated[Participant, Depends(require_open_account)]


# --- the organization API -------------------------------------------------------------------


async def enrollment_in_path(
    request: Request,
    external_ref: ExternalRefInPath,
    organization: CurrentOrganization,
    db: SessionDep,
) -> Enrollment:
    """The caller's own enrollment for `external_ref`; anyone else's is simply not found.

    Once the participant has closed their portal account, the portal takes no more data about
    them: reads still answer, changes get 410 Gone."""
    enrollment = find_enrollment(
        db, organization_id=organization.id or 0, external_ref=external_ref
    )
    if enrollment is None:
        raise HTTPException(
            status_code=404, detail=f"no participant with external_ref {external_ref!r}"
        )
    if request.method != "GET" and enrollment.participant_id is not None:
        owner = db.get(Participant, enrollment.participant_id)
        if owner is not None and owner.closed_at is not None:
            raise HTTPException(
                status_code=410,
                detail="this participant closed their portal account; the portal takes no "
                "more data about them",
            )
    return enrollment


EnrollmentInPath = Annotated[Enrollment, Depends(enrollment_in_path)]
