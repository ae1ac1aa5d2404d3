"""What an organization holds about a participant. Every holding names its purpose."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from app.db import utcnow
from app.holdings.models import Holding, display_order
from app.holdings.schemas import HoldingIn, HoldingItem, default_text, per_language
from app.organizations.models import Purpose
from app.participants.models import Enrollment


class UnknownPurpose(ValueError):
    """The holding names a purpose that is not in the organization's plan."""


def _plan(session: Session, organization_id: int) -> dict[str, Purpose]:
    return {
        p.key: p
        for p in session.exec(select(Purpose).where(Purpose.organization_id == organization_id))
    }


def _apply(holding: Holding, data: HoldingIn, purpose: Purpose) -> bool:
    """Copy the fields over; True when anything changed."""
    values: dict[str, Any] = {
        "label": default_text(data.label),
        "label_texts": per_language(data.label),
        "category": data.category,
        "value": data.value,
        "purpose_id": purpose.id,
        "source": None if data.source is None else default_text(data.source),
        "source_texts": per_language(data.source),
        "collected_at": data.collected_at,
        "retain_until": data.retain_until,
        "sensitive": purpose.sensitive if data.sensitive is None else data.sensitive,
        "deleted_at": None,
    }
    changed = False
    for field, value in values.items():
        if getattr(holding, field) != value:
            setattr(holding, field, value)
            changed = True
    if changed:
        holding.updated_at = utcnow()
    return changed


def upsert_holding(
    session: Session, *, enrollment: Enrollment, field_key: str, data: HoldingIn
) -> tuple[Holding, bool]:
    plan = _plan(session, enrollment.organization_id)
    purpose = plan.get(data.purpose)
    if purpose is None:
        raise UnknownPurpose(data.purpose)
    holding = session.exec(
        select(Holding).where(
            Holding.enrollment_id == enrollment.id, Holding.field_key == field_key
        )
    ).first()
    created = holding is None or holding.deleted_at is not None
    if holding is None:
        holding = Holding(
            enrollment_id=enrollment.id, field_key=field_key, label="", category="", purpose_id=0
        )
    _apply(holding, data, purpose)
    session.add(holding)
    session.flush()
    return holding, created


def replace_holdings(
    session: Session, *, enrollment: Enrollment, items: list[HoldingItem]
) -> dict[str, int]:
    """Make the enrollment's holdings exactly `items`; missing ones are deleted."""
    plan = _plan(session, enrollment.organization_id)
    unknown = sorted({i.purpose for i in items if i.purpose not in plan})
    if unknown:
        raise UnknownPurpose(", ".join(unknown))
    keys = [i.field_key for i in items]
    if len(keys) != len(set(keys)):
        raise ValueError("each field_key may appear only once")
    existing = {h.field_key: h for h in holdings_of(session, enrollment.id, include_deleted=True)}
    counts = {"created": 0, "updated": 0, "deleted": 0}
    for item in items:
        holding = existing.get(item.field_key)
        if holding is None or holding.deleted_at is not None:
            holding = holding or Holding(
                enrollment_id=enrollment.id,
                field_key=item.field_key,
                label="",
                category="",
                purpose_id=0,
            )
            counts["created"] += 1
            _apply(holding, item, plan[item.purpose])
        elif _apply(holding, item, plan[item.purpose]):
            counts["updated"] += 1
        session.add(holding)
    wanted = set(keys)
    for key, holding in existing.items():
        if key not in wanted and holding.deleted_at is None:
            _mark_deleted(holding)
            session.add(holding)
            counts["deleted"] += 1
    session.flush()
    return counts


def _mark_deleted(holding: Holding) -> None:
    # The value goes; the row stays so the participant sees what was deleted, and when.
    holding.value = None
    holding.deleted_at = utcnow()
    holding.updated_at = holding.deleted_at


def delete_holding(session: Session, *, enrollment: Enrollment, field_key: str) -> bool:
    holding = session.exec(
        select(Holding).where(
            Holding.enrollment_id == enrollment.id,
            Holding.field_key == field_key,
            Holding.deleted_at.is_(None),  # type: ignore[union-attr]
        )
    ).first()
    if holding is None:
        return False
    _mark_deleted(holding)
    session.add(holding)
    return True


def holdings_of(
    session: Session, enrollment_id: str, *, include_deleted: bool = False
) -> list[Holding]:
    query = select(Holding).where(Holding.enrollment_id == enrollment_id)
    if not include_deleted:
        query = query.where(Holding.deleted_at.is_(None))  # type: ignore[union-attr]
    return sorted(session.exec(query), key=display_order)


def holding_out(holding: Holding, purpose_key: str) -> dict[str, Any]:
    return {
        "field_key": holding.field_key,
        # What the organization gave: a string, or the texts per language.
        "label": holding.label_texts or holding.label,
        "category": holding.category,
        "value": holding.value,
        "purpose": purpose_key,
        "source": holding.source_texts or holding.source,
        "collected_at": holding.collected_at.isoformat() if holding.collected_at else None,
        "retain_until": holding.retain_until.isoformat() if holding.retain_until else None,
        "sensitive": holding.sensitive,
        "updated_at": holding.updated_at.isoformat(),
        "deleted_at": holding.deleted_at.isoformat() if holding.deleted_at else None,
    }
