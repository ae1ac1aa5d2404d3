"""The API's caller: the organization whose key is in `Authorization: Bearer ...`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from app.db import SessionDep
from app.organizations.models import Organization
from app.organizations.service import organization_for_api_key
from app.participants.models import Enrollment, Participant
from app.participants.service import find_enrollment
from app.schemas import ExternalRefInPath


async def current_organization(request: Request, db: SessionDep) -> Organization:
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise HTTPException(
            status_code=401,
            detail="missing API key: send 'Authorization: Bearer <api_key>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    organization = organization_for_api_key(db, key.strip())
    if organization is None:
        raise HTTPException(
            status_code=401,
            detail="unknown or revoked API key",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return organization


CurrentOrganization = Annotated[Organization, Depends(current_organization)]


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
