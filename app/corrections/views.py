"""The participant's pages: request a correction, add a statement of disagreement, ask to
delete. Each is a plain form that works without JavaScript; after sending, the participant is
taken back to the holding on the home page, which shows where the request stands."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session

from app.corrections.models import MAX_EXPLANATION, MAX_REQUESTED_VALUE, Statement
from app.corrections.service import (
    CorrectionConflict,
    DeletionNotAllowed,
    OwnCorrection,
    OwnHolding,
    add_statement,
    can_ask_to_delete,
    is_overdue,
    open_correction,
    open_deletion_request,
    own_correction,
    own_holding,
    request_correction,
    request_deletion,
)
from app.db import SessionDep
from app.events.service import is_overdue_event
from app.holdings.service import is_hidden_at_first
from app.participants.deps import CurrentParticipant
from app.participants.models import Participant
from app.participants.service import FormError
from app.web.deps import not_found, web_context
from app.web.forms import FormErrors
from app.web.templating import render

router = APIRouter(dependencies=[Depends(web_context)])
T = TypeVar("T")

# Form fields are cut at this many characters before checking: far over every limit, so a
# huge paste still gets the "too long" error, but a page never echoes megabytes back.
_FORM_CUT = 20 * max(MAX_EXPLANATION, MAX_REQUESTED_VALUE)


def _holding_or_404(db: Session, participant: Participant, holding_id: str) -> OwnHolding:
    own = own_holding(db, participant_id=participant.id, holding_id=holding_id[:40])
    if own is None:
        raise not_found()
    return own


def _back_to(holding_id: str, **query: str) -> RedirectResponse:
    params = "&".join(f"{k}={v}" for k, v in query.items())
    return RedirectResponse(f"/?{params}#holding-{holding_id}", status_code=303)


def _once(db: Session, make: Callable[[], T], made_meanwhile: Callable[[], T | None]) -> T:
    """Make something and commit it. When the same form was sent twice at the same moment and
    the other send won (the database's unique open key refused this one), answer with what
    the other send made."""
    try:
        made = make()
        db.commit()
    except (IntegrityError, OperationalError):
        db.rollback()
        existing = made_meanwhile()
        if existing is None:
            raise
        return existing
    return made


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
    own = _holding_or_404(db, participant, holding_id)
    if open_correction(db, holding_id=own.holding.id) is not None:
        return _back_to(own.holding.id)  # one open correction at a time; it shows there
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
    own = _holding_or_404(db, participant, holding_id)
    values = {"requested_value": requested_value[:_FORM_CUT], "reason": reason[:_FORM_CUT]}
    try:
        correction = _once(
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
    return _back_to(own.holding.id, sent=correction.id)


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
        return _back_to(own.holding.id)
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
    text = statement[:_FORM_CUT]

    def added_meanwhile() -> Statement | None:
        again = own_correction(db, participant_id=participant.id, correction_id=own.correction.id)
        return again.statement if again else None

    try:
        added = _once(
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
    return _back_to(own.holding.id, statement=added.id)


# --- ask to delete ---------------------------------------------------------------------------


@router.get("/holdings/{holding_id}/deletion", response_class=HTMLResponse)
async def deletion_page(
    request: Request, holding_id: str, participant: CurrentParticipant, db: SessionDep
) -> Response:
    """Ask to delete: a confirmation for consent-based holdings; for others, why the
    organization keeps it."""
    own = _holding_or_404(db, participant, holding_id)
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
    own = _holding_or_404(db, participant, holding_id)
    try:
        deletion = _once(
            db,
            lambda: request_deletion(db, own=own, base_url=request.app.state.settings.base_url),
            lambda: open_deletion_request(db, holding_id=own.holding.id),
        )
    except DeletionNotAllowed:
        db.rollback()
        return RedirectResponse(f"/holdings/{own.holding.id}/deletion", status_code=303)
    return _back_to(own.holding.id, deletion=deletion.id)


# --- what the home page's holdings show (templates/corrections/holding_actions.html) ------------


TEMPLATE_GLOBALS = {
    "correction_overdue": is_overdue,
    "event_overdue": is_overdue_event,
    "can_ask_to_delete": can_ask_to_delete,
}
