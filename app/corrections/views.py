"""The participant's correction pages: request a correction of a holding. A plain form that
works without JavaScript; after sending, the participant is taken back to the holding on the
home page, which shows where the request stands. Statements of disagreement are in
statement_views.py, deletion requests in deletion_views.py.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from app.corrections.deletions import can_ask_to_delete
from app.corrections.forms import FORM_CUT, back_to, holding_or_404, once
from app.corrections.record import OwnHolding
from app.corrections.service import is_overdue, open_correction, request_correction
from app.db import SessionDep
from app.events.service import is_overdue_event
from app.holdings.sensitivity import is_hidden_at_first
from app.participants.deps import CurrentParticipant
from app.web.deps import web_context
from app.web.forms import FormError, FormErrors
from app.web.templating import render

router = APIRouter(dependencies=[Depends(web_context)])


# --- request a correction ------------------------------------------------------------------


def _correction_form(
    request: Request, own: OwnHolding, errors: FormErrors, values: dict[str, str], status: int
) -> Response:
    return render(
        request,
        "corrections/request.html",
        {
            "own": own,
            "errors": errors,
            "values": values,
            "hidden_at_first": is_hidden_at_first(own.holding, own.purpose),
        },
        status_code=status,
    )


@router.get("/holdings/{holding_id}/correction", response_class=HTMLResponse)
async def correction_form(
    request: Request, holding_id: str, participant: CurrentParticipant, db: SessionDep
) -> Response:
    own = holding_or_404(db, participant, holding_id)
    if open_correction(db, holding_id=own.holding.id) is not None:
        return back_to(own.holding.id)  # one open correction at a time; it shows there
    return _correction_form(request, own, FormErrors(), {}, 200)


@router.post("/holdings/{holding_id}/correction", response_class=HTMLResponse)
async def correction_send(
    request: Request,
    holding_id: str,
    participant: CurrentParticipant,
    db: SessionDep,
    requested_value: str = Form(""),
    reason: str = Form(""),
) -> Response:
    own = holding_or_404(db, participant, holding_id)
    values = {"requested_value": requested_value[:FORM_CUT], "reason": reason[:FORM_CUT]}
    try:
        correction = once(
            db,
            lambda: request_correction(
                db,
                own=own,
                requested_value=values["requested_value"],
                reason=values["reason"],
                base_url=request.app.state.settings.base_url,
            ),
            lambda: open_correction(db, holding_id=own.holding.id),
        )
    except FormError as exc:
        db.rollback()
        errors = FormErrors()
        errors.add(exc.field, exc.message)
        return _correction_form(request, own, errors, values, 400)
    return back_to(own.holding.id, sent=correction.id)


# --- what the home page's holdings show (templates/corrections/holding_actions.html) ------------


TEMPLATE_GLOBALS = {
    "correction_overdue": is_overdue,
    "event_overdue": is_overdue_event,
    "can_ask_to_delete": can_ask_to_delete,
}
