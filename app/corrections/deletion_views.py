"""The participant's deletion pages: ask an organization to delete a holding that rests on
consent, or read why it keeps one that does not. A plain form that works without JavaScript;
after sending, the participant is taken back to the holding on the home page.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.corrections.deletions import (
    DeletionNotAllowed,
    can_ask_to_delete,
    open_deletion_request,
    request_deletion,
)
from app.corrections.forms import back_to, holding_or_404, once
from app.db import SessionDep
from app.participants.deps import CurrentParticipant
from app.web.deps import web_context
from app.web.templating import render

router = APIRouter(dependencies=[Depends(web_context)])


# --- ask to delete ---------------------------------------------------------------------------


@router.get("/holdings/{holding_id}/deletion", response_class=HTMLResponse)
async def deletion_page(
    request: Request, holding_id: str, participant: CurrentParticipant, db: SessionDep
) -> Response:
    """Ask to delete: a confirmation for consent-based holdings; for others, why the
    organization keeps it."""
    own = holding_or_404(db, participant, holding_id)
    waiting = open_deletion_request(db, holding_id=own.holding.id)
    db.commit()  # an answered request may have been closed just now
    return render(
        request,
        "corrections/deletion.html",
        {"own": own, "allowed": can_ask_to_delete(own.purpose), "waiting": waiting},
    )


@router.post("/holdings/{holding_id}/deletion")
async def deletion_send(
    request: Request, holding_id: str, participant: CurrentParticipant, db: SessionDep
) -> Response:
    own = holding_or_404(db, participant, holding_id)
    try:
        deletion = once(
            db,
            lambda: request_deletion(db, own=own, base_url=request.app.state.settings.base_url),
            lambda: open_deletion_request(db, holding_id=own.holding.id),
        )
    except DeletionNotAllowed:
        db.rollback()
        return RedirectResponse(f"/holdings/{own.holding.id}/deletion", status_code=303)
    return back_to(own.holding.id, deletion=deletion.id)
