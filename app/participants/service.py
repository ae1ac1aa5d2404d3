"""Enrolling people, claim codes, participant accounts and logging in."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select, update

from app.db import utcnow
from app.i18n import gettext as _
from app.organizations.models import Organization
from app.participants import recovery
from app.participants.models import ClaimCode, Enrollment, Participant
from app.security import throttle
from app.security.devices import known_device
from app.security.passwords import hash_secret, verify_secret
from app.security.sessions import end_all_sessions
from app.security.tokens import digest, new_claim_code, normalize_claim_code
from app.web.forms import FormError

CLAIM_CODE_VALID = timedelta(days=30)
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,39}$")
PIN_RE = re.compile(r"^[0-9]{6,12}$")
LOGIN_SCOPE = "participant.login"
# Beside the per-username lock: wrong PINs from one client (password spraying), wrong PINs
# across the whole portal (spraying from many clients), and wrong tries from a device that
# signed in before (which may pass a locked username with the right PIN).
CLIENT_SCOPE, CLIENT_LIMIT = "participant.login.client", 20
OVERALL_SCOPE, OVERALL_KEY, OVERALL_LIMIT = "participant.login.all", "*", 300
DEVICE_SCOPE = "participant.login.device"
# Claim codes: failures per client (unknown codes, usernames probed) and per code.
CLAIM_CLIENT_SCOPE, CLAIM_CLIENT_LIMIT = "claim.client", 20
CLAIM_CODE_SCOPE, CLAIM_CODE_LIMIT = "claim.code", 10
WINDOW = timedelta(minutes=15)


class DuplicateRef(ValueError):
    """The organization already enrolled someone with this external_ref."""


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


def own_spent_code(
    session: Session, code: str, *, participant_id: str
) -> tuple[Enrollment, Organization] | None:
    """The enrollment a code that no longer works (used, replaced or run out) was for, but only
    when that enrollment is already this participant's and open: they see it on their home
    page, so naming its organization tells them nothing new. For anyone else a spent code says
    nothing of whose it was: a card found in a bin must not confirm that its owner goes to a
    shelter. Nor does it for a sealed enrollment: after a PIN reset the one signed in may be a
    code's holder, who must not learn which other organizations the account has."""
    row = session.exec(
        select(Enrollment, Organization)
        .join(ClaimCode, ClaimCode.enrollment_id == Enrollment.id)  # type: ignore[arg-type]
        .join(Organization, Organization.id == Enrollment.organization_id)  # type: ignore[arg-type]
        .where(ClaimCode.code_hash == digest(normalize_claim_code(code)), open_to(participant_id))
    ).first()
    return (row[0], row[1]) if row else None


def username_format(username: str) -> str:
    """The username as stored (trimmed, lower case), if it has the allowed length and
    characters; the database is not asked whether it is free (validate_username)."""
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
    return username


class UsernameTaken(FormError):
    """Someone has the username already (never said who)."""

    def __init__(self) -> None:
        super().__init__("username", _("That username is taken. Choose another."))


def validate_username(session: Session, username: str) -> str:
    username = username_format(username)
    if session.exec(select(Participant).where(Participant.username == username)).first():
        raise UsernameTaken()
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
) -> tuple[Participant, str]:
    """The new account and its recovery code (shown once, to print or write down)."""
    username = validate_username(session, username)
    validate_new_pin(pin, confirm_pin)
    participant = Participant(
        username=username, pin_hash=hash_secret(pin), preferred_language=language
    )
    session.add(participant)
    session.flush()
    link_enrollment(session, claim=claim, participant=participant)
    return participant, recovery.give_recovery_code(session, participant)


class CodeAlreadyUsed(FormError):
    """Two tabs or two people sent the same claim code at once; only the first one counts."""

    def __init__(self) -> None:
        super().__init__(
            "code", _("This code was just used. Ask the organization that gave it for a new one.")
        )


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


class WrongUsername(FormError):
    """The username typed on a PIN reset is not the account's the code belongs to."""

    def __init__(self) -> None:
        super().__init__(
            "username", _("That is not the username of this account. Check it and try again.")
        )


def reset_pin_by_claim(
    session: Session, *, claim: Claim, username: str, pin: str, confirm_pin: str
) -> Participant:
    """A fresh code for an already claimed enrollment resets the account's PIN: the old PIN
    and every open session stop working. The person types the account's username (a code
    alone never shows it), and the code opens its own organization's records only: the
    account's other enrollments are sealed (app/participants/recovery.py)."""
    assert claim.owner is not None
    owner = claim.owner
    if username.strip().lower() != owner.username:
        raise WrongUsername()
    validate_new_pin(pin, confirm_pin)
    # Hashed before the first write: on SQLite a write holds the lock for the whole hash.
    pin_hash = hash_secret(pin)
    _use_code(session, claim)
    owner.pin_hash = pin_hash
    owner.pin_changed_at = utcnow()
    session.add(owner)
    recovery.seal_all_but(session, participant_id=owner.id, enrollment=claim.enrollment)
    recovery.log(session, owner.id, "pin_reset", claim.organization.id)
    end_all_sessions(session, participant_id=owner.id)
    throttle.clear(session, LOGIN_SCOPE, owner.username)
    return owner


# --- changing the PIN or the username, signed in ---------------------------------------------


def change_pin(session: Session, *, participant: Participant, pin: str) -> None:
    """A signed-in participant's new PIN (checked by validate_new_pin, the current PIN
    confirmed by the caller): the old PIN stops working, and so does every session of the
    account, this one included (the caller starts a fresh one for this browser). Written
    down for the access page, so a change they did not make does not go unnoticed."""
    # Hashed before the first write: on SQLite a write holds the lock for the whole hash.
    pin_hash = hash_secret(pin)
    participant.pin_hash = pin_hash
    participant.pin_changed_at = utcnow()
    session.add(participant)
    recovery.log(session, participant.id, "pin_changed")
    end_all_sessions(session, participant_id=participant.id)


def change_username(session: Session, *, participant: Participant, username: str) -> str:
    """The account's new username, with the rules of claiming (the current PIN confirmed by
    the caller). Raises FormError (UsernameTaken for one in use). Shown on the access page."""
    wanted = username_format(username)
    if wanted == participant.username:
        raise FormError("username", _("That is your username already. Choose a new one."))
    wanted = validate_username(session, wanted)
    participant.username = wanted
    session.add(participant)
    recovery.log(session, participant.id, "username_changed")
    return wanted


# --- logging in --------------------------------------------------------------------------------


class LockedOut(Exception):
    """Logging in is refused until `until`. `reason` says which limit: `username` (too many
    wrong PINs for it), `client` (too many from this client), `overall` (unusual activity
    across the portal) or `device` (too many from a device that signed in before)."""

    def __init__(self, until: datetime, reason: str = "username") -> None:
        super().__init__(until)
        self.until = until
        self.reason = reason


def _locked(session: Session, scope: str, key: str, reason: str) -> None:
    until = throttle.locked_until(session, scope, key)
    if until:
        raise LockedOut(until, reason)


def _failed(session: Session, scope: str, key: str, limit: int) -> datetime | None:
    return throttle.record_failure(session, scope, key, limit=limit, window=WINDOW)


def authenticate(
    session: Session,
    *,
    username: str,
    pin: str,
    client: str = "",
    device: str | None = None,
    secret_key: str = "",
) -> Participant | None:
    """The participant, or None for a wrong username or PIN. Raises LockedOut while a limit
    holds: the username's (even for the right PIN), the client's, or the portal's overall.

    A device that signed in to this account before (`device`, its cookie) passes the
    username, client and overall limits with the right PIN, so a stranger's guesses don't
    lock the owner out; its own wrong tries are counted against the device."""
    key = username.strip().lower()[:254]
    participant = session.exec(
        select(Participant).where(Participant.username == key, Participant.closed_at.is_(None))  # type: ignore[union-attr]
    ).first()
    nonce = known_device(secret_key, device, participant.id) if participant else None
    if nonce is not None:
        assert participant is not None
        until = throttle.begin_try(session, DEVICE_SCOPE, nonce)
        if until:
            raise LockedOut(until, "device")
        if verify_secret(pin, participant.pin_hash):
            throttle.clear(session, DEVICE_SCOPE, nonce)
            throttle.clear(session, LOGIN_SCOPE, key)
            return participant
        until = throttle.fail_try(session, DEVICE_SCOPE, nonce)
        if until:
            raise LockedOut(until, "device")
        return None
    _locked(session, OVERALL_SCOPE, OVERALL_KEY, "overall")
    if client:
        _locked(session, CLIENT_SCOPE, client, "client")
    # The try is counted before the PIN is checked, so tries sent at once cannot all slip in.
    until = throttle.begin_try(session, LOGIN_SCOPE, key)
    if until:
        raise LockedOut(until)
    # verify_secret spends the same time on an unknown username as on a known one.
    if verify_secret(pin, participant.pin_hash if participant else None) and participant:
        throttle.clear(session, LOGIN_SCOPE, key)
        return participant
    overall = _failed(session, OVERALL_SCOPE, OVERALL_KEY, OVERALL_LIMIT)
    by_client = _failed(session, CLIENT_SCOPE, client, CLIENT_LIMIT) if client else None
    until = throttle.fail_try(session, LOGIN_SCOPE, key)
    if until:
        raise LockedOut(until)
    if by_client:
        raise LockedOut(by_client, "client")
    if overall:
        raise LockedOut(overall, "overall")
    return None


# --- claim attempts ----------------------------------------------------------------------------


def claim_locked(session: Session, *, client: str, code: str | None = None) -> datetime | None:
    """While set, the claim pages refuse this client (or this code) until then."""
    if code is not None:
        until = throttle.locked_until(session, CLAIM_CODE_SCOPE, digest(normalize_claim_code(code)))
        if until:
            return until
    return throttle.locked_until(session, CLAIM_CLIENT_SCOPE, client) if client else None


def claim_failed(session: Session, *, client: str, code: str | None = None) -> datetime | None:
    """An unknown code, a username that is taken or not the account's: counted per client
    and per code, so neither codes nor usernames can be probed at speed."""
    until = None
    if code is not None:
        until = _failed(
            session, CLAIM_CODE_SCOPE, digest(normalize_claim_code(code)), CLAIM_CODE_LIMIT
        )
    if client:
        until = _failed(session, CLAIM_CLIENT_SCOPE, client, CLAIM_CLIENT_LIMIT) or until
    return until


def open_to(participant_id: str):  # type: ignore[no-untyped-def]
    """The enrollments the participant's pages may show: their own, and not sealed after a
    PIN reset. Every participant-side query of another table joins Enrollment on this."""
    return (col(Enrollment.participant_id) == participant_id) & col(Enrollment.sealed_at).is_(None)


def own_enrollment(
    session: Session, *, participant_id: str, enrollment_id: str
) -> tuple[Enrollment, Organization] | None:
    """One of the participant's open enrollments, with its organization; None otherwise."""
    row = session.exec(
        select(Enrollment, Organization)
        .join(Organization, col(Organization.id) == col(Enrollment.organization_id))
        .where(col(Enrollment.id) == enrollment_id, open_to(participant_id))
    ).first()
    return (row[0], row[1]) if row else None


def enrollments_of(
    session: Session, participant_id: str, *, sealed_too: bool = False
) -> list[tuple[Enrollment, Organization]]:
    """The participant's enrollments and their organizations, by name; only the open ones
    unless `sealed_too` (closing the account, which tells every organization)."""
    mine = col(Enrollment.participant_id) == participant_id
    return [
        (e, o)
        for e, o in session.exec(
            select(Enrollment, Organization)
            .join(Organization, Organization.id == Enrollment.organization_id)  # type: ignore[arg-type]
            .where(mine if sealed_too else open_to(participant_id))
            .order_by(Organization.name)  # type: ignore[arg-type]
        )
    ]
