"""The data collection plan, and the organization's profile, over the API."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Response

from app.db import SessionDep
from app.organizations.deps import CurrentOrganization
from app.organizations.schemas import (
    OrganizationProfileIn,
    OrganizationProfileOut,
    PurposeIn,
    PurposeOut,
)
from app.organizations.service import (
    UnknownOrganization,
    list_purposes,
    profile_out,
    purpose_out,
    set_profile,
    upsert_purpose,
)
from app.schemas import Key

router = APIRouter(tags=["plan"])


@router.put("/purposes/{purpose_key}", response_model=PurposeOut)
async def put_purpose(
    purpose_key: Key,
    body: PurposeIn,
    organization: CurrentOrganization,
    db: SessionDep,
    response: Response,
) -> PurposeOut:
    """Create or replace one purpose of the plan."""
    try:
        purpose, created = upsert_purpose(db, organization=organization, key=purpose_key, data=body)
    except UnknownOrganization as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    db.commit()
    response.status_code = 201 if created else 200
    return purpose_out(purpose)


@router.get("/purposes")
async def get_purposes(
    organization: CurrentOrganization, db: SessionDep
) -> dict[str, list[PurposeOut]]:
    return {
        "purposes": [
            purpose_out(p) for p in list_purposes(db, organization_id=organization.id or 0)
        ]
    }


profile_router = APIRouter(tags=["organization"])


@profile_router.get("/organization", response_model=OrganizationProfileOut)
async def get_profile(organization: CurrentOrganization) -> OrganizationProfileOut:
    """The calling organization's profile: how participants reach it (name, phone, address,
    opening hours, languages spoken), as their pages show it."""
    return profile_out(organization)


@profile_router.put("/organization", response_model=OrganizationProfileOut)
async def put_profile(
    body: OrganizationProfileIn, organization: CurrentOrganization, db: SessionDep
) -> OrganizationProfileOut:
    """Replace the calling organization's profile, all of it: a field left out is cleared.
    Participants see it at once wherever a page sends them to the organization."""
    set_profile(db, organization=organization, data=body)
    db.commit()
    return profile_out(organization)
