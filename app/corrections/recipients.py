"""Who is told about a change to a holding, and how the holding reads in what they are told.

A corrected holding and a statement of disagreement both go to the holder and to every network
organization that a disclosure of the holding named as its recipient; recipients outside the
network (a county, a funder) can only be told by the holder. Corrections, statements and
deletion requests all describe the holding the same way, so that is here too.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from app.disclosures.models import Disclosure  # kept, the table only: who received the data
from app.holdings.models import Holding
from app.organizations.models import Organization, Purpose
from app.participants.models import Enrollment


def holding_payload(holding: Holding, purpose: Purpose) -> dict[str, Any]:
    return {
        "field_key": holding.field_key,
        "label": holding.label,
        "category": holding.category,
        "purpose": purpose.key,
    }


def _disclosures_of_holding(session: Session, holding: Holding) -> list[Disclosure]:
    # field_keys is a JSON list: filtered here rather than with dialect-specific JSON operators.
    disclosures = session.exec(
        select(Disclosure)
        .where(Disclosure.enrollment_id == holding.enrollment_id)
        .order_by(Disclosure.disclosed_at)  # type: ignore[arg-type]
    )
    return [d for d in disclosures if holding.field_key in d.field_keys]


def network_recipients(
    session: Session, *, holding: Holding, enrollment: Enrollment
) -> list[Organization]:
    """Network organizations a disclosure of this holding named as its recipient."""
    ids = {
        d.recipient_organization_id
        for d in _disclosures_of_holding(session, holding)
        if d.recipient_organization_id and d.recipient_organization_id != enrollment.organization_id
    }
    if not ids:
        return []
    return list(
        session.exec(
            select(Organization)
            .where(Organization.id.in_(ids))  # type: ignore[union-attr]
            .order_by(Organization.slug)  # type: ignore[arg-type]
        )
    )


def other_recipients(session: Session, *, holding: Holding) -> list[str]:
    """Recipients outside the network (a county, a funder): only the holder can tell them."""
    names: list[str] = []
    for d in _disclosures_of_holding(session, holding):
        if d.recipient_organization_id is None and d.recipient_name not in names:
            names.append(d.recipient_name)
    return names
