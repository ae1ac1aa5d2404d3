"""The API's caller: the organization whose key is in `Authorization: Bearer ...`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from app.db import SessionDep
from app.organizations.models import Organization
from app.organizations.service import organization_for_api_key


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
