"""Statements of disagreement: the participant's answer to a denied correction, and how it
travels with the data (in consent checks and in every later event about the holding).

The consent domain reads `statements_about` to carry the statements along with its own events;
nothing here imports consent, so that import runs one way only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from app.corrections.models import MAX_EXPLANATION, CorrectionConflict, Statement
from app.corrections.recipients import holding_payload, network_recipients
from app.corrections.record import OwnCorrection
from app.db import utcnow
from app.events.service import record_for_holder_and_recipients
from app.holdings.models import Holding
from app.i18n import gettext as _
from app.organizations.models import Purpose
from app.participants.form_text import checked_text

# --- how statements travel with the data ---------------------------------------------------------


def statement_payload(statement: Statement, holding: Holding) -> dict[str, Any]:
    return {
        "id": statement.id,
        "field_key": holding.field_key,
        "label": holding.label,
        "text": statement.text,
        "added_at": statement.created_at.isoformat(),
        "correction_id": statement.correction_id,
    }


def statements_about(
    session: Session,
    *,
    enrollment_id: str,
    purpose_id: int | None = None,
    holding_id: str | None = None,
) -> list[dict[str, Any]]:
    """The statements on the enrollment's current holdings, oldest first; narrowed to the
    holdings that serve one purpose, or to one holding."""
    query = (
        select(Statement, Holding)
        .join(Holding, Holding.id == Statement.holding_id)  # type: ignore[arg-type]
        .where(
            Statement.enrollment_id == enrollment_id,
            Holding.deleted_at.is_(None),  # type: ignore[union-attr]
        )
    )
    if purpose_id is not None:
        query = query.where(Holding.purpose_id == purpose_id)
    if holding_id is not None:
        query = query.where(Holding.id == holding_id)
    rows = session.exec(query.order_by(Statement.created_at, Statement.id))  # type: ignore[arg-type]
    return [statement_payload(statement, holding) for statement, holding in rows]


# --- adding a statement --------------------------------------------------------------------------


def add_statement(
    session: Session,
    *,
    own: OwnCorrection,
    text: str,
    base_url: str = "",
    now: datetime | None = None,
) -> Statement:
    """Attach the participant's statement of disagreement to the holding of a denied
    correction, and send it to the holder and every network recipient."""
    if own.correction.status != "denied":
        raise CorrectionConflict("a statement answers a denied correction")
    if own.statement is not None:
        return own.statement  # the form sent twice adds nothing
    if own.holding.deleted_at is not None:
        raise CorrectionConflict("the holding was deleted")
    text = checked_text(
        "statement",
        text,
        limit=MAX_EXPLANATION,
        empty_message=_("Write your statement: say what you disagree with, and why."),
    )
    now = now or utcnow()
    statement = Statement(
        holding_id=own.holding.id,
        enrollment_id=own.enrollment.id,
        correction_id=own.correction.id,
        text=text,
        created_at=now,
    )
    session.add(statement)
    session.flush()
    purpose = session.get(Purpose, own.holding.purpose_id)
    assert purpose is not None
    record_for_holder_and_recipients(
        session,
        type="statement.added",
        enrollment=own.enrollment,
        holder=own.organization,
        recipients=network_recipients(session, holding=own.holding, enrollment=own.enrollment),
        data={
            "holding": {**holding_payload(own.holding, purpose), "value": own.holding.value},
            "statement": {
                "id": statement.id,
                "text": statement.text,
                "added_at": now.isoformat(),
                "correction_id": own.correction.id,
            },
            "statements": statements_about(
                session, enrollment_id=own.enrollment.id, holding_id=own.holding.id
            ),
        },
        base_url=base_url,
        now=now,
    )
    own.statement = statement
    return statement
