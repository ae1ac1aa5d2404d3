"""Statements of disagreement as they travel with the data: in consent checks and in every
later event about the holding. Only reads; kept apart from service.py so the consent domain
can use it without an import cycle."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from app.corrections.models import Statement
from app.holdings.models import Holding


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
