"""Who is signed in on a staff page.

`CurrentStaff` is the signed-in staff member; anyone else (signed out, a participant's or a
network admin's session) is sent to /staff/login. A device handed over to a participant
("participant mode") reaches no staff page: it is sent back to the participant's step.
`OrgAdmin` is the same for the organization's data admins; to a case manager those pages
do not exist (404), as another organization's data does not.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from app.db import SessionDep
from app.organizations.models import Staff
from app.staff.models import Handover
from app.staff.requests import waiting_count_of
from app.staff.service import staff_organization
from app.web.deps import LoginRequired, WebContext, WebContextDep, not_found

__all__ = [
    "CurrentStaff",
    "InParticipantMode",
    "OrgAdmin",
    "handover_of",
    "signed_in_staff",
    "staff_organization",
]


class InParticipantMode(Exception):
    """A staff page was asked for on a device handed over to a participant."""

    def __init__(self, handover: Handover) -> None:
        super().__init__(handover.enrollment_id)
        self.handover = handover


def signed_in_staff(request: Request, ctx: WebContext, db: Session) -> Staff:
    """The staff member of this session, whether or not the device is handed over."""
    session = ctx.web_session
    staff = None
    if session is not None and session.kind == "staff" and session.staff_id is not None:
        staff = db.get(Staff, session.staff_id)
    if staff is None or staff.disabled_at is not None:
        raise LoginRequired(request.url.path, kind="staff", idle=ctx.idle_logged_out)
    # Every staff page's bar shows **Requests to answer (n)**: given here, where every staff
    # page passes, rather than by each view.
    request.state.template_context["requests_waiting"] = waiting_count_of(db, staff)
    return staff


def handover_of(ctx: WebContext, db: Session) -> Handover | None:
    if ctx.web_session is None:
        return None
    return db.get(Handover, ctx.web_session.token_hash)


async def require_staff(request: Request, ctx: WebContextDep, db: SessionDep) -> Staff:
    staff = signed_in_staff(request, ctx, db)
    handover = handover_of(ctx, db)
    if handover is not None:
        raise InParticipantMode(handover)
    return staff


CurrentStaff = Annotated[Staff, Depends(require_staff)]


async def require_org_admin(staff: CurrentStaff) -> Staff:
    if staff.role != "org_admin":
        raise not_found()
    return staff


OrgAdmin = Annotated[Staff, Depends(require_org_admin)]
