"""Staff of an organization: logging in, the access log, claim codes, assisted intake and
handing the device over to the client."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from app.consent.models import Consent
from app.consent.service import effective_state, latest_consents
from app.holdings.models import Holding, display_order
from app.organizations.models import Organization, Purpose, Staff
from app.organizations.service import list_purposes
from app.participants.models import Enrollment
from app.participants.service import enroll, find_enrollment, issue_claim_code, open_to
from app.security import throttle
from app.security.models import WebSession
from app.security.passwords import verify_secret
from app.security.tokens import CLAIM_ALPHABET
from app.staff.models import ACCESS_ACTIONS, Handover, StaffAccess

LOGIN_SCOPE = "staff.login"
# Taking a device back from participant mode has its own limit, per hand-over: wrong tries
# there must not lock the case manager out of logging in (anyone holding the device can type).
TAKE_BACK_SCOPE = "staff.take_back"


class StaffLockedOut(Exception):
    def __init__(self, until: datetime) -> None:
        super().__init__(until)
        self.until = until


def authenticate_staff(session: Session, *, email: str, password: str) -> Staff | None:
    """The staff member, or None for a wrong email or password (or a disabled account).
    Raises StaffLockedOut while the email is locked, even for the right password."""
    key = email.strip().lower()[:254]
    # Counted before the slow hash, so a burst of parallel guesses cannot pass the limit.
    until = throttle.begin_try(session, LOGIN_SCOPE, key)
    if until:
        raise StaffLockedOut(until)
    staff = session.exec(
        select(Staff).where(Staff.email == key, col(Staff.disabled_at).is_(None))
    ).first()
    # verify_secret spends the same time on an unknown email as on a known one.
    if verify_secret(password, staff.password_hash if staff else None) and staff:
        throttle.clear(session, LOGIN_SCOPE, key)
        return staff
    until = throttle.fail_try(session, LOGIN_SCOPE, key)
    if until:
        raise StaffLockedOut(until)
    return None


def check_password(staff: Staff, password: str) -> bool:
    """For confirming it is still the staff member (e.g. taking the device back)."""
    return verify_secret(password, staff.password_hash)


def staff_organization(staff: Staff, db: Session) -> Organization:
    organization = db.get(Organization, staff.organization_id)
    assert organization is not None  # a foreign key: a staff member always has one
    return organization


def participants_of(
    session: Session, *, organization_id: int, search: str = ""
) -> list[Enrollment]:
    """The organization's enrollments, newest first. Never another organization's.

    `search` finds a participant by (part of) the reference, or by the label of something the
    organization holds about them ("housing"). Labels are encrypted at rest, so they are
    compared here, after decrypting, not in SQL."""
    enrollments = list(
        session.exec(
            select(Enrollment)
            .where(Enrollment.organization_id == organization_id)
            .order_by(col(Enrollment.id).desc())
        )
    )
    needle = search.strip().casefold()
    if not needle:
        return enrollments
    by_label = {
        holding.enrollment_id
        for holding in session.exec(
            select(Holding)
            .join(Enrollment, col(Enrollment.id) == col(Holding.enrollment_id))
            .where(
                Enrollment.organization_id == organization_id,
                col(Holding.deleted_at).is_(None),
            )
        )
        if needle in holding.label.casefold()
    }
    return [
        enrollment
        for enrollment in enrollments
        if needle in enrollment.external_ref.casefold() or enrollment.id in by_label
    ]


# --- the access log ----------------------------------------------------------------------------


def find_record(session: Session, *, staff: Staff, external_ref: str) -> Enrollment | None:
    """The staff member's own organization's enrollment with this reference; None for anyone
    else's, so another organization's participant looks exactly like one that doesn't exist."""
    return find_enrollment(
        session, organization_id=staff.organization_id, external_ref=external_ref
    )


def own_enrollment(session: Session, *, staff: Staff, enrollment_id: str) -> Enrollment | None:
    enrollment = session.get(Enrollment, enrollment_id)
    if enrollment is None or enrollment.organization_id != staff.organization_id:
        return None
    return enrollment


def log_access(
    session: Session, *, staff: Staff, enrollment: Enrollment, action: str = "viewed"
) -> StaffAccess:
    assert action in ACCESS_ACTIONS and staff.id is not None
    entry = StaffAccess(staff_id=staff.id, enrollment_id=enrollment.id, action=action)
    session.add(entry)
    session.flush()
    return entry


@dataclass
class AccessEntry:
    """One line of "Who looked at your record"."""

    access: StaffAccess
    staff: Staff
    organization: Organization


def access_log_of(session: Session, *, participant_id: str) -> list[AccessEntry]:
    """Every staff access to any of the participant's enrollments, newest first."""
    rows = session.exec(
        select(StaffAccess, Staff, Organization)
        .join(Enrollment, col(Enrollment.id) == StaffAccess.enrollment_id)
        .join(Staff, col(Staff.id) == StaffAccess.staff_id)
        .join(Organization, col(Organization.id) == Enrollment.organization_id)
        .where(open_to(participant_id))
        .order_by(col(StaffAccess.at).desc(), col(StaffAccess.id).desc())
    ).all()
    return [AccessEntry(*row) for row in rows]


# --- claim codes and the record a case manager sees ------------------------------------------


def issue_claim_code_by_staff(session: Session, *, staff: Staff, enrollment: Enrollment) -> str:
    """A fresh claim code (older unused ones stop working). For a client who already has an
    account it resets their PIN when used, so the client sees that it was issued, and by whom."""
    code = issue_claim_code(session, enrollment=enrollment)
    log_access(session, staff=staff, enrollment=enrollment, action="claim_code_issued")
    return code


def consent_purposes(session: Session, *, organization_id: int) -> list[Purpose]:
    """The purposes of the plan that rest on consent: the ones an intake asks about."""
    return [
        p for p in list_purposes(session, organization_id=organization_id) if p.basis == "consent"
    ]


@dataclass
class PurposeState:
    purpose: Purpose
    state: str  # requested | given | refused | withdrawn | expired
    consent: Consent | None


def consent_states(session: Session, *, enrollment: Enrollment) -> list[PurposeState]:
    latest = latest_consents(session, [enrollment.id])
    states = []
    for purpose in consent_purposes(session, organization_id=enrollment.organization_id):
        consent = latest.get((enrollment.id, purpose.id or 0))
        states.append(PurposeState(purpose, effective_state(consent), consent))
    return states


def holdings_of(session: Session, *, enrollment: Enrollment) -> list[Holding]:
    return sorted(
        session.exec(
            select(Holding).where(
                Holding.enrollment_id == enrollment.id, col(Holding.deleted_at).is_(None)
            )
        ),
        key=display_order,
    )


# --- assisted intake -------------------------------------------------------------------------

# What the client may answer on a consent step (recorded by app.consent.service.decide, with
# the case manager's help). "later" records nothing: the purpose stays `requested`, and the
# client can decide on their own phone whenever they like.
INTAKE_ANSWERS = ("given", "refused", "later")
MAX_REF = 128


def new_intake_ref() -> str:
    """A reference for a client who gives none: random, so it names nobody."""
    return "intake-" + "".join(secrets.choice(CLAIM_ALPHABET) for _ in range(8)).lower()


def start_intake(
    session: Session, *, staff: Staff, external_ref: str, preferred_language: str | None
) -> Enrollment:
    """Enroll the client. The claim code `enroll` makes is dropped unseen: the card or QR code
    at the end of the intake issues a fresh one, so no code is kept anywhere in plain text."""
    organization = staff_organization(staff, session)
    enrollment, _code = enroll(
        session,
        organization=organization,
        external_ref=external_ref.strip() or new_intake_ref(),
        preferred_language=preferred_language,
    )
    return enrollment


# --- handing the device over (participant mode) ----------------------------------------------


def hand_over(
    session: Session, *, web_session: WebSession, staff: Staff, enrollment: Enrollment
) -> Handover:
    assert staff.id is not None
    handover = session.get(Handover, web_session.token_hash)
    if handover is None:
        handover = Handover(
            session_hash=web_session.token_hash, staff_id=staff.id, enrollment_id=enrollment.id
        )
        session.add(handover)
    session.flush()
    return handover


class WrongPassword(Exception):
    pass


def take_back(session: Session, *, handover: Handover, staff: Staff, password: str) -> None:
    """End participant mode: only the staff member's password does it. Wrong tries count
    toward a limit of this hand-over's own, so the device can't be used to guess the password
    nor to lock the staff member's login."""
    key = handover.session_hash
    until = throttle.begin_try(session, TAKE_BACK_SCOPE, key)
    if until:
        raise StaffLockedOut(until)
    if not check_password(staff, password):
        until = throttle.fail_try(session, TAKE_BACK_SCOPE, key)
        if until:
            raise StaffLockedOut(until)
        raise WrongPassword()
    throttle.clear(session, TAKE_BACK_SCOPE, key)
    session.delete(handover)
    session.flush()
