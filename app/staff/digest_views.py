"""The signed-in staff member chooses whether to get the daily digest (app/staff/digest.py)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form
from fastapi.responses import RedirectResponse, Response

from app.db import SessionDep
from app.staff.deps import CurrentStaff
from app.web.deps import web_context

# web_context checks the CSRF token of every POST.
router = APIRouter(dependencies=[Depends(web_context)])


@router.post("/staff/digest")
async def set_digest(
    staff: CurrentStaff, db: SessionDep, digest_opt_in: str = Form("")
) -> Response:
    # A checkbox left unchecked is not sent at all: absent means "no".
    staff.digest_opt_in = bool(digest_opt_in)
    db.add(staff)
    db.commit()
    return RedirectResponse("/staff?digest=saved", status_code=303)
