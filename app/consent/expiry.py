"""Consent expiry: a given consent past its end date is recorded as expired, once.

The rule (`expire_due`) and the way the periodic job runs it (`expire_consents`: its own
transaction, one worker at a time) are kept together here, in the consent domain, so that
delivery never reaches into consent: app/jobs.py calls `expire_consents` about once a minute.
A consent already reads as expired before the job runs (`effective_state`); the job is what
records the `consent.expired` event and tells the organization.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.config import Settings
from app.consent.models import Consent
from app.consent.service import _record_consent_event, current_consent
from app.db import utcnow
from app.organizations.models import Organization, Purpose
from app.participants.models import Enrollment

EXPIRY_LOCK_KEY = 727_001  # PostgreSQL advisory lock: one worker at a time expires consents


def expire_consents(engine: Engine, settings: Settings, now: datetime) -> int:
    """The periodic job: record consent.expired for consents past their expiry (and queue
    the webhooks) in one transaction; returns how many."""
    with Session(engine, expire_on_commit=False) as session:
        if engine.dialect.name == "postgresql":
            got_lock = session.execute(
                text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": EXPIRY_LOCK_KEY}
            ).scalar()
            if not got_lock:
                return 0  # another worker is doing it right now
        count = expire_due(session, base_url=settings.base_url, now=now)
        session.commit()
        return count


def expire_due(session: Session, *, base_url: str = "", now: datetime | None = None) -> int:
    """Record `expired` for every given consent past its expiry; returns how many."""
    now = now or utcnow()
    due = session.exec(
        select(Consent).where(Consent.state == "given", Consent.expires_at <= now)  # type: ignore[operator]
    ).all()
    count = 0
    for given in due:
        latest = current_consent(
            session, enrollment_id=given.enrollment_id, purpose_id=given.purpose_id
        )
        if latest is None or latest.id != given.id:
            continue  # a later decision replaced it
        enrollment = session.get(Enrollment, given.enrollment_id)
        purpose = session.get(Purpose, given.purpose_id)
        assert enrollment is not None and purpose is not None
        organization = session.get(Organization, enrollment.organization_id)
        assert organization is not None
        expired = Consent(
            enrollment_id=given.enrollment_id,
            purpose_id=given.purpose_id,
            state="expired",
            method=given.method,
            notice_version=given.notice_version,
            notice_language=given.notice_language,
            notice_text=given.notice_text,
            given_at=given.given_at,
            expires_at=given.expires_at,
            created_at=now,
        )
        session.add(expired)
        _record_consent_event(
            session,
            type="consent.expired",
            consent=expired,
            enrollment=enrollment,
            organization=organization,
            purpose=purpose,
            base_url=base_url,
            now=now,
        )
        count += 1
    session.flush()
    return count
