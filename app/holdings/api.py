"""Holdings over the API: single upsert, bulk replace, delete, list."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Response
from sqlmodel import select

from app.db import SessionDep
from app.holdings.schemas import HoldingIn, HoldingsReplace
from app.holdings.service import (
    UnknownPurpose,
    delete_holding,
    holding_out,
    holdings_of,
    replace_holdings,
    upsert_holding,
)
from app.organizations.models import Purpose
from app.participants.deps import EnrollmentInPath
from app.schemas import Key

router = APIRouter(tags=["holdings"])


def _unknown_purpose(exc: UnknownPurpose) -> HTTPException:
    return HTTPException(
        status_code=422,
        detail=f"purpose not in your data collection plan: {exc}. Every holding must name the "
        "purpose it serves (PUT /api/v1/purposes/{key} first).",
    )


def _purpose_keys(db: SessionDep, organization_id: int) -> dict[int, str]:
    return {
        p.id or 0: p.key
        for p in db.exec(select(Purpose).where(Purpose.organization_id == organization_id))
    }


@router.put("/participants/{external_ref}/holdings/{field_key}")
async def put_holding(
    field_key: Key,
    body: HoldingIn,
    enrollment: EnrollmentInPath,
    db: SessionDep,
    response: Response,
) -> dict[str, Any]:
    try:
        holding, created = upsert_holding(db, enrollment=enrollment, field_key=field_key, data=body)
    except UnknownPurpose as exc:
        raise _unknown_purpose(exc) from None
    db.commit()
    response.status_code = 201 if created else 200
    return holding_out(holding, body.purpose)


@router.put("/participants/{external_ref}/holdings")
async def replace_all_holdings(
    body: HoldingsReplace, enrollment: EnrollmentInPath, db: SessionDep
) -> dict[str, int]:
    """Replace the whole set: holdings not in the body are deleted."""
    try:
        counts = replace_holdings(db, enrollment=enrollment, items=body.holdings)
    except UnknownPurpose as exc:
        raise _unknown_purpose(exc) from None
    except ValueError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    db.commit()
    return counts


@router.delete("/participants/{external_ref}/holdings/{field_key}", status_code=204)
async def remove_holding(field_key: Key, enrollment: EnrollmentInPath, db: SessionDep) -> Response:
    if not delete_holding(db, enrollment=enrollment, field_key=field_key):
        raise HTTPException(status_code=404, detail=f"no holding {field_key!r}")
    db.commit()
    return Response(status_code=204)


@router.get("/participants/{external_ref}/holdings")
async def list_holdings(
    enrollment: EnrollmentInPath, db: SessionDep, include_deleted: bool = False
) -> dict[str, list[dict[str, Any]]]:
    """What you hold about the participant; `include_deleted=true` adds the deleted items
    (without their values, with `deleted_at`), as the participant sees them."""
    keys = _purpose_keys(db, enrollment.organization_id)
    held = holdings_of(db, enrollment.id, include_deleted=include_deleted)
    return {"holdings": [holding_out(h, keys.get(h.purpose_id, "")) for h in held]}
