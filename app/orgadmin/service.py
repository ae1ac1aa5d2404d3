"""What the org admin pages read and change: API keys, the facts the plan review needs, and
the organization dashboard's counts.

Plain functions over the caller's session; the caller commits. Every lookup takes the
organization, so an org admin only ever reaches their own organization's rows.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.consent.service import effective_state, latest_consents
from app.corrections.models import Correction
from app.db import is_int_id, utcnow
from app.events.models import Event
from app.holdings.models import Holding
from app.orgadmin.review import PlanReview, review_plan
from app.organizations.models import ApiKey, Organization, Purpose
from app.organizations.service import list_purposes
from app.participants.models import Enrollment
from app.reports.service import report_counts_by

# --- API keys ----------------------------------------------------------------------------------


def list_api_keys(session: Session, *, organization: Organization) -> list[ApiKey]:
    """Live keys first, then revoked ones; newest first within each."""
    keys = session.exec(
        select(ApiKey)
        .where(ApiKey.organization_id == organization.id)
        .order_by(col(ApiKey.created_at).desc(), col(ApiKey.id).desc())
    )
    return sorted(keys, key=lambda k: k.revoked_at is not None)


def own_api_key(session: Session, *, organization: Organization, key_id: int) -> ApiKey | None:
    """One of the organization's keys; None when it is another's (or none at all)."""
    if not is_int_id(key_id):  # from a URL: a number no key can have
        return None
    key = session.get(ApiKey, key_id)
    return key if key is not None and key.organization_id == organization.id else None


def revoke_api_key(
    session: Session, *, organization: Organization, key_id: int, now: datetime | None = None
) -> ApiKey | None:
    """Revoke one of the organization's keys; None when it is not theirs (or not at all).
    Revoking twice keeps the first time."""
    key = own_api_key(session, organization=organization, key_id=key_id)
    if key is None:
        return None
    if key.revoked_at is None:
        key.revoked_at = now or utcnow()
        session.add(key)
        session.flush()
    return key


# --- facts for the data-justice review --------------------------------------------------------


def held_categories(session: Session, *, organization: Organization) -> dict[str, set[str]]:
    """Each category the organization holds data in, with the purposes it is filed under."""
    rows = session.exec(
        select(Holding.category, Purpose.key)
        .join(Purpose, col(Purpose.id) == Holding.purpose_id)
        .where(Purpose.organization_id == organization.id, col(Holding.deleted_at).is_(None))
        .distinct()
    )
    held: dict[str, set[str]] = defaultdict(set)
    for category, key in rows:
        held[category].add(key)
    return dict(held)


def participant_languages(session: Session, *, organization: Organization) -> set[str]:
    """The languages the organization's participants prefer (as it enrolled them)."""
    rows = session.exec(
        select(Enrollment.preferred_language)
        .where(
            Enrollment.organization_id == organization.id,
            col(Enrollment.preferred_language).is_not(None),
        )
        .distinct()
    )
    return {language for language in rows if language}


def review_organization_plan(session: Session, *, organization: Organization) -> PlanReview:
    assert organization.id is not None
    return review_plan(
        list_purposes(session, organization_id=organization.id),
        held_categories=held_categories(session, organization=organization),
        participant_languages=participant_languages(session, organization=organization),
        reports=report_counts_by(session, organization_id=organization.id),
    )


# --- the organization dashboard ---------------------------------------------------------------

CONSENT_STATES_SHOWN = ("given", "withdrawn", "expired")


@dataclass
class PurposeConsents:
    purpose: Purpose
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class OrganizationDashboard:
    """Everything templates/orgadmin/dashboard.html shows."""

    consents: list[PurposeConsents]
    corrections_open: int
    corrections_overdue: int
    acks_overdue: int
    now: datetime


def consent_counts(
    session: Session, *, organization: Organization, now: datetime | None = None
) -> list[PurposeConsents]:
    """Per purpose resting on consent: how many participants' current consent is given,
    withdrawn or expired (a given consent past its expiry counts as expired)."""
    now = now or utcnow()
    assert organization.id is not None
    purposes = [
        p for p in list_purposes(session, organization_id=organization.id) if p.basis == "consent"
    ]
    enrollment_ids = list(
        session.exec(select(Enrollment.id).where(Enrollment.organization_id == organization.id))
    )
    tally: Counter[tuple[int, str]] = Counter(
        (consent.purpose_id, effective_state(consent, now))
        for consent in latest_consents(session, enrollment_ids).values()
    )
    return [
        PurposeConsents(
            purpose=p, counts={state: tally[(p.id or 0, state)] for state in CONSENT_STATES_SHOWN}
        )
        for p in purposes
    ]


def _count(session: Session, query) -> int:  # type: ignore[no-untyped-def]
    return int(session.exec(query).one())


def build_dashboard(
    session: Session, *, organization: Organization, now: datetime | None = None
) -> OrganizationDashboard:
    now = now or utcnow()
    open_corrections = (
        select(func.count())
        .select_from(Correction)
        .join(Enrollment, col(Enrollment.id) == Correction.enrollment_id)
        .where(Enrollment.organization_id == organization.id, Correction.status == "requested")
    )
    return OrganizationDashboard(
        consents=consent_counts(session, organization=organization, now=now),
        corrections_open=_count(session, open_corrections),
        corrections_overdue=_count(session, open_corrections.where(col(Correction.due_by) < now)),
        acks_overdue=_count(
            session,
            select(func.count())
            .select_from(Event)
            .where(
                Event.organization_id == organization.id,
                col(Event.ack_due_by) < now,
                col(Event.acked_at).is_(None),
            ),
        ),
        now=now,
    )
