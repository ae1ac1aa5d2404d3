"""The network administrators' side: logging in, and watching that every event reached its
organization and was acknowledged (endpoint health, dead letters, overdue acknowledgements,
flagged disclosures)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from app.corrections.models import Correction
from app.db import utcnow
from app.disclosures.models import Disclosure
from app.events.models import Event
from app.organizations.models import NetworkAdmin, Organization
from app.participants.models import Enrollment
from app.security import throttle
from app.security.passwords import verify_secret
from app.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

LOGIN_SCOPE = "admin.login"
FAILURE_WINDOW = timedelta(hours=24)
LIST_LIMIT = 200


# --- logging in ------------------------------------------------------------------------------


class AdminLockedOut(Exception):
    def __init__(self, until: datetime) -> None:
        super().__init__(until)
        self.until = until


def authenticate_admin(session: Session, *, email: str, password: str) -> NetworkAdmin | None:
    """The admin, or None for a wrong email or password. Raises AdminLockedOut while the email
    is locked (after throttle.MAX_FAILURES wrong tries), even for the right password."""
    key = email.strip().lower()[:254]
    # Counted before the slow hash, so a burst of parallel guesses cannot pass the limit.
    until = throttle.begin_try(session, LOGIN_SCOPE, key)
    if until:
        raise AdminLockedOut(until)
    admin = session.exec(select(NetworkAdmin).where(NetworkAdmin.email == key)).first()
    # verify_secret spends the same time on an unknown email as on a known one.
    if verify_secret(password, admin.password_hash if admin else None) and admin:
        throttle.clear(session, LOGIN_SCOPE, key)
        return admin
    until = throttle.fail_try(session, LOGIN_SCOPE, key)
    if until:
        raise AdminLockedOut(until)
    return None


# --- the dashboard ---------------------------------------------------------------------------


@dataclass
class EndpointHealth:
    endpoint: WebhookEndpoint
    last_attempt: WebhookAttempt | None
    failures_24h: int
    pending: int
    dead: int

    @property
    def live(self) -> bool:
        return self.endpoint.disabled_at is None

    @property
    def last_attempt_ok(self) -> bool | None:
        if self.last_attempt is None:
            return None
        code = self.last_attempt.status_code
        return code is not None and 200 <= code < 300


@dataclass
class OrganizationHealth:
    organization: Organization
    endpoints: list[EndpointHealth] = field(default_factory=list)
    overdue_acks: int = 0

    @property
    def live_endpoints(self) -> int:
        return sum(1 for e in self.endpoints if e.live)

    @property
    def disabled_endpoints(self) -> int:
        return sum(1 for e in self.endpoints if not e.live)

    @property
    def failures_24h(self) -> int:
        return sum(e.failures_24h for e in self.endpoints)

    @property
    def pending(self) -> int:
        return sum(e.pending for e in self.endpoints)


@dataclass
class DeadLetter:
    delivery: WebhookDelivery
    event: Event
    endpoint: WebhookEndpoint
    organization: Organization


@dataclass
class OverdueAck:
    event: Event
    organization: Organization


@dataclass
class Dashboard:
    """Everything templates/admin/dashboard.html shows."""

    organizations: list[OrganizationHealth]
    dead_letters: list[DeadLetter]
    dead_letter_count: int
    overdue_acks: list[OverdueAck]
    overdue_ack_count: int
    overdue_corrections: list[tuple[Correction, Organization]]
    flagged_disclosures: int
    now: datetime


def _failed_attempt():  # type: ignore[no-untyped-def]
    code = col(WebhookAttempt.status_code)
    # No answer at all (timeout, refused connection) counts as a failure, as does any non-2xx.
    return or_(code.is_(None), code < 200, code >= 300)


def endpoint_health(session: Session, *, now: datetime | None = None) -> list[OrganizationHealth]:
    now = now or utcnow()
    organizations = {
        o.id: OrganizationHealth(o)
        for o in session.exec(select(Organization).order_by(col(Organization.name)))
    }
    endpoints = list(
        session.exec(
            select(WebhookEndpoint)
            .where(col(WebhookEndpoint.deleted_at).is_(None))
            .order_by(col(WebhookEndpoint.created_at))
        )
    )
    newest = (
        select(
            WebhookAttempt.endpoint_id,
            func.max(WebhookAttempt.attempted_at).label("at"),
        )
        .group_by(col(WebhookAttempt.endpoint_id))
        .subquery()
    )
    last_attempts = {
        a.endpoint_id: a
        for a in session.exec(
            select(WebhookAttempt)
            .join(
                newest,
                (col(WebhookAttempt.endpoint_id) == newest.c.endpoint_id)
                & (col(WebhookAttempt.attempted_at) == newest.c.at),
            )
            .order_by(col(WebhookAttempt.id))
        )
    }
    failures = dict(
        session.exec(
            select(WebhookAttempt.endpoint_id, func.count())
            .where(col(WebhookAttempt.attempted_at) >= now - FAILURE_WINDOW, _failed_attempt())
            .group_by(col(WebhookAttempt.endpoint_id))
        ).all()
    )
    by_status: dict[tuple[str, str], int] = {
        (endpoint_id, status): count
        for endpoint_id, status, count in session.exec(
            select(WebhookDelivery.endpoint_id, WebhookDelivery.status, func.count())
            .where(col(WebhookDelivery.status).in_(("pending", "dead")))
            .group_by(col(WebhookDelivery.endpoint_id), col(WebhookDelivery.status))
        ).all()
    }
    for endpoint in endpoints:
        view = organizations.get(endpoint.organization_id)
        if view is None:
            continue
        view.endpoints.append(
            EndpointHealth(
                endpoint=endpoint,
                last_attempt=last_attempts.get(endpoint.id),
                failures_24h=failures.get(endpoint.id, 0),
                pending=by_status.get((endpoint.id, "pending"), 0),
                dead=by_status.get((endpoint.id, "dead"), 0),
            )
        )
    overdue = session.exec(
        select(Event.organization_id, func.count())
        .where(_overdue(now))
        .group_by(col(Event.organization_id))
    ).all()
    for organization_id, count in overdue:
        if organization_id in organizations:
            organizations[organization_id].overdue_acks = count
    return list(organizations.values())


def _overdue(now: datetime):  # type: ignore[no-untyped-def]
    return (col(Event.ack_due_by) < now) & col(Event.acked_at).is_(None)


def dead_letters(session: Session) -> tuple[list[DeadLetter], int]:
    """The newest dead-lettered deliveries (at most LIST_LIMIT), and how many there are."""
    total = session.exec(
        select(func.count()).select_from(WebhookDelivery).where(WebhookDelivery.status == "dead")
    ).one()
    rows = session.exec(
        select(WebhookDelivery, Event, WebhookEndpoint, Organization)
        .join(Event, col(Event.id) == WebhookDelivery.event_id)
        .join(WebhookEndpoint, col(WebhookEndpoint.id) == WebhookDelivery.endpoint_id)
        .join(Organization, col(Organization.id) == WebhookEndpoint.organization_id)
        .where(WebhookDelivery.status == "dead")
        .order_by(col(WebhookDelivery.dead_at).desc(), col(WebhookDelivery.id).desc())
        .limit(LIST_LIMIT)
    ).all()
    return [DeadLetter(*row) for row in rows], total


def overdue_acknowledgements(
    session: Session, *, now: datetime | None = None
) -> tuple[list[OverdueAck], int]:
    """Events past their acknowledgement date with no answer, oldest due first."""
    now = now or utcnow()
    total = session.exec(select(func.count()).select_from(Event).where(_overdue(now))).one()
    rows = session.exec(
        select(Event, Organization)
        .join(Organization, col(Organization.id) == Event.organization_id)
        .where(_overdue(now))
        .order_by(col(Event.ack_due_by), col(Event.id))
        .limit(LIST_LIMIT)
    ).all()
    return [OverdueAck(*row) for row in rows], total


def flagged_disclosure_count(session: Session) -> int:
    return session.exec(
        select(func.count()).select_from(Disclosure).where(col(Disclosure.flagged).is_(True))
    ).one()


def overdue_corrections(
    session: Session, *, now: datetime, limit: int = 50
) -> list[tuple[Correction, Organization]]:
    """Corrections past their due date with no answer, with the organization that owes one.
    Only the label and dates are shown here: the values are the participant's business."""
    rows = session.exec(
        select(Correction, Organization)
        .join(Enrollment, col(Enrollment.id) == Correction.enrollment_id)
        .join(Organization, col(Organization.id) == Enrollment.organization_id)
        .where(Correction.status == "requested", col(Correction.due_by) < now)
        .order_by(col(Correction.due_by))
        .limit(limit)
    )
    return [(c, o) for c, o in rows]


def build_dashboard(session: Session, *, now: datetime | None = None) -> Dashboard:
    now = now or utcnow()
    letters, letter_count = dead_letters(session)
    overdue, overdue_count = overdue_acknowledgements(session, now=now)
    return Dashboard(
        organizations=endpoint_health(session, now=now),
        dead_letters=letters,
        dead_letter_count=letter_count,
        overdue_acks=overdue,
        overdue_ack_count=overdue_count,
        overdue_corrections=overdue_corrections(session, now=now),
        flagged_disclosures=flagged_disclosure_count(session),
        now=now,
    )
