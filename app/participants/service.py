"""Enrolling people, claim codes, participant accounts and logging in."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select, update

from app.db import utcnow
from app.i18n import gettext as _
from app.organizations.models import Organization
from app.participants.models import ClaimCode, Enrollment, Participant
from app.security import throttle
from app.security.passwords import hash_secret, verify_secret
from app.security.sessions import end_all_sessions
from app.security.tokens import digest, new_claim_code, normalize_claim_code

CLAIM_CODE_VALID = timedelta(days=30)
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,39}$")
PIN_RE = re.compile(r"^[0-9]{6,12}$")
LOGIN_SCOPE = "participant.login"


class DuplicateRef(ValueError):
    """The organization already enrolled someone with this external_ref."""


class FormError(ValueError):
    """Bad input on a participant form: `field` names the field, the message is translated."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


# --- enrolling (the organization's side) -----------------------------------------------------


def enroll(
    session: Session,
    *,
    organization: Organization,
    external_ref: str,
    preferred_language: str | None,
) -> tuple[Enrollment, str]:
    assert organization.id is not None
    if find_enrollment(session, organization_id=organization.id, external_ref=external_ref):
        raise DuplicateRef(external_ref)
    enrollment = Enrollment(
        organization_id=organization.id,
        external_ref=external_ref,
        preferred_language=preferred_language,
    )
    session.add(enrollment)
    session.flush()
    return enrollment, issue_claim_code(session, enrollment=enrollment)


def issue_claim_code(session: Session, *, enrollment: Enrollment) -> str:
    """A fresh code for the enrollment; older unused codes stop working."""
    now = utcnow()
    session.exec(  # type: ignore[call-overload]
        update(ClaimCode)
        .where(
            col(ClaimCode.enrollment_id) == enrollment.id,
            col(ClaimCode.used_at).is_(None),
            col(ClaimCode.retired_at).is_(None),
        )
        .values(retired_at=now)
    )
    code = new_claim_code()
    session.add(
        ClaimCode(
            enrollment_id=enrollment.id,
            code_hash=digest(code),
            created_at=now,
            expires_at=now + CLAIM_CODE_VALID,
        )
    )
    return code


def claim_url(base_url: str, code: str) -> str:
    return f"{base_url}/claim/{code}"


def find_enrollment(
    session: Session, *, organization_id: int, external_ref: str
) -> Enrollment | None:
    return session.exec(
        select(Enrollment).where(
            Enrollment.organization_id == organization_id, Enrollment.external_ref == external_ref
        )
    ).first()


# --- claiming (the participant's side) -------------------------------------------------------


@dataclass
class Claim:
    code: ClaimCode
    enrollment: Enrollment
    organization: Organization
    owner: Participant | None  # set when the enrollment was claimed before (a PIN reset)


def find_claim(session: Session, code: str, now: datetime | None = None) -> Claim | None:
    now = now or utcnow()
    row = session.exec(
        select(ClaimCode, Enrollment, Organization)
        .join(Enrollment, Enrollment.id == ClaimCode.enrollment_id)  # type: ignore[arg-type]
        .join(Organization, Organization.id == Enrollment.organization_id)  # type: ignore[arg-type]
        .where(ClaimCode.code_hash == digest(normalize_claim_code(code)))
    ).first()
    if row is None:
        return None
    claim_code, enrollment, organization = row
    if claim_code.used_at or claim_code.retired_at or claim_code.expires_at <= now:
        return None
    owner = (
        session.get(Participant, enrollment.participant_id) if enrollment.participant_id else None
    )
    if owner is not None and owner.closed_at is not None:
        return None
    return Claim(claim_code, enrollment, organization, owner)


def validate_username(session: Session, username: str) -> str:
    username = username.strip().lower()
    if not username:
        raise FormError("username", _("Choose a username."))
    if not USERNAME_RE.match(username):
        raise FormError(
            "username",
            _(
                "Use 3 to 40 letters (a to z), numbers, dots, dashes or underscores, "
                "starting with a letter or number."
            ),
        )
    if session.exec(select(Participant).where(Participant.username == username)).first():
        raise FormError("username", _("That username is taken. Choose another."))
    return username


def validate_new_pin(pin: str, confirm: str) -> str:
    if not pin:
        raise FormError("pin", _("Choose a PIN."))
    if not PIN_RE.match(pin):
        raise FormError("pin", _("Your PIN must be 6 to 12 numbers."))
    if len(set(pin)) == 1 or pin in "01234567890123" or pin in "98765432109876":
        raise FormError(
            "pin", _("That PIN is too easy to guess. Avoid repeats and runs like 123456.")
        )
    if pin != confirm:
        raise FormError("confirm_pin", _("The two PINs do not match."))
    return pin


def create_account_by_claim(
    session: Session, *, claim: Claim, username: str, pin: str, confirm_pin: str, language: str
) -> Participant:
    username = validate_username(session, username)
    validate_new_pin(pin, confirm_pin)
    participant = Participant(
        username=username, pin_hash=hash_secret(pin), preferred_language=language
    )
    session.add(participant)
    session.flush()
    link_enrollment(session, claim=claim, participant=participant)
    return participant


class CodeAlreadyUsed(FormError):
    """Two tabs or two people sent the same claim code at once; only the first one counts."""

    def __init__(self) -> None:
        super().__init__("code", _("This code was just used. Ask the organization for a new one."))


def _use_code(session: Session, claim: Claim) -> None:
    # One conditional UPDATE, so a code sent twice at the same moment is used only once.
    now = utcnow()
    used = session.exec(  # type: ignore[call-overload]
        update(ClaimCode)
        .where(
            col(ClaimCode.id) == claim.code.id,
            col(ClaimCode.used_at).is_(None),
            col(ClaimCode.retired_at).is_(None),
        )
        .values(used_at=now)
    )
    if used.rowcount != 1:
        raise CodeAlreadyUsed()
    claim.code.used_at = now


def link_enrollment(session: Session, *, claim: Claim, participant: Participant) -> None:
    _use_code(session, claim)
    claim.enrollment.participant_id = participant.id
    claim.enrollment.claimed_at = claim.enrollment.claimed_at or utcnow()
    session.add(claim.enrollment)


def reset_pin_by_claim(
    session: Session, *, claim: Claim, pin: str, confirm_pin: str
) -> Participant:
    """A fresh code for an already claimed enrollment resets the account's PIN: the old PIN
    and every open session stop working."""
    assert claim.owner is not None
    validate_new_pin(pin, confirm_pin)
    _use_code(session, claim)
    owner = claim.owner
    owner.pin_hash = hash_secret(pin)
    owner.pin_changed_at = utcnow()
    session.add(owner)
    end_all_sessions(session, participant_id=owner.id)
    throttle.clear(session, LOGIN_SCOPE, owner.username)
    return owner


# --- logging in --------------------------------------------------------------------------------


class LockedOut(Exception):
    def __init__(self, until: datetime) -> None:
        super().__init__(until)
        self.until = until


def authenticate(session: Session, *, username: str, pin: str) -> Participant | None:
    """The participant, or None for a wrong username or PIN. Raises LockedOut while the
    username is locked, even for the right PIN."""
    key = username.strip().lower()[:254]
    # The try is counted before the PIN is checked, so tries sent at once cannot all slip in.
    until = throttle.begin_try(session, LOGIN_SCOPE, key)
    if until:
        raise LockedOut(until)
    participant = session.exec(
        select(Participant).where(Participant.username == key, Participant.closed_at.is_(None))  # type: ignore[union-attr]
    ).first()
    # verify_secret spends the same time on an unknown username as on a known one.
    if verify_secret(pin, participant.pin_hash if participant else None) and participant:
        throttle.clear(session, LOGIN_SCOPE, key)
        return participant
    until = throttle.fail_try(session, LOGIN_SCOPE, key)
    if until:
        raise LockedOut(until)
    return None


def enrollments_of(session: Session, participant_id: str) -> list[tuple[Enrollment, Organization]]:
    return [
        (e, o)
        for e, o in session.exec(
            select(Enrollment, Organization)
            .join(Organization, Organization.id == Enrollment.organization_id)  # type: ignore[arg-type]
            .where(Enrollment.participant_id == participant_id)
            .order_by(Organization.name)  # type: ignore[arg-type]
        )
    ]
