"""The participant's statement page: add a statement of disagreement to a denied correction.
A plain form that works without JavaScript; after sending, the participant is taken back to
the holding on the home page.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from app.corrections.forms import FORM_CUT, back_to, once
from app.corrections.models import CorrectionConflict, Statement
from app.corrections.record import OwnCorrection, own_correction
from app.corrections.statements import add_statement
from app.db import SessionDep
from app.participants.deps import CurrentParticipant
from app.participants.models import Participant
from app.web.deps import not_found, web_context
from app.web.forms import FormError, FormErrors
from app.web.templating import render

router = APIRouter(dependencies=[Depends(web_context)])


# --- add a statement of disagreement -------------------------------------------------------


def _statement_page(
    request: Request, own: OwnCorrection, errors: FormErrors, text: str, status: int
) -> Response:
    return render(
        request,
        "corrections/statement.html",
        {"own": own, "errors": errors, "text": text},
        status_code=status,
    )


def _denied_correction_or_404(
    db: Session, participant: Participant, correction_id: str
) -> OwnCorrection:
    own = own_correction(db, participant_id=participant.id, correction_id=correction_id[:40])
    if own is None or own.correction.status != "denied" or own.holding.deleted_at is not None:
        raise not_found()
    return own


@router.get("/corrections/{correction_id}/statement", response_class=HTMLResponse)
async def statement_form(
    request: Request, correction_id: str, participant: CurrentParticipant, db: SessionDep
) -> Response:
    own = _denied_correction_or_404(db, participant, correction_id)
    if own.statement is not None:
        return back_to(own.holding.id)
    return _statement_page(request, own, FormErrors(), "", 200)


@router.post("/corrections/{correction_id}/statement", response_class=HTMLResponse)
async def statement_send(
    request: Request,
    correction_id: str,
    participant: CurrentParticipant,
    db: SessionDep,
    statement: str = Form(""),
) -> Response:
    own = _denied_correction_or_404(db, participant, correction_id)
    text = statement[:FORM_CUT]

    def added_meanwhile() -> Statement | None:
        again = own_correction(db, participant_id=participant.id, correction_id=own.correction.id)
        return again.statement if again else None

    try:
        added = once(
            db,
            lambda: add_statement(
                db, own=own, text=text, base_url=request.app.state.settings.base_url
            ),
            added_meanwhile,
        )
    except FormError as exc:
        db.rollback()
        errors = FormErrors()
        errors.add(exc.field, exc.message)
        return _statement_page(request, own, errors, text, 400)
    except CorrectionConflict:
        db.rollback()
        raise not_found() from None
    return back_to(own.holding.id, statement=added.id)
