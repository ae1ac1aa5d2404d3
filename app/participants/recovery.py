"""After a lost PIN: a claim code proves a person to its own organization only.

Resetting a PIN with one organization's code opens the account with that organization's
records alone; every other enrollment is *sealed* until the participant proves themselves
again, with that organization's own fresh code or with the recovery code they were given when
the account was made (CONTRACT.md section 7). Otherwise one organization's leaked API key or a
rogue case manager could open a shelter's records through a food shelf's code.

Every reset and every reopening is written down (AccountRecovery) and shown on the
participant's access page.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select, update

from app.db import utcnow
from app.i18n import gettext as _
from app.organizations.models import Organization
from app.participants.models import AccountRecovery, Enrollment, Participant
from app.security import throttle
from app.security.tokens import CLAIM_ALPHABET, digest

RECOVERY_SCOPE = "participant.recovery"
RECOVERY_TRIES = 5
RECOVERY_LOCKOUT = timedelta(minutes=15)


class RecoveryRefused(ValueError):
    """A wrong recovery code, or too many tries: `until` is set while tries are paused."""

    def __init__(self, message: str, until: datetime | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.until = until


def new_recovery_code() -> str:
    """16 characters from the claim alphabet (~79 bits), shown as XXXX-XXXX-XXXX-XXXX."""
    raw = "".join(secrets.choice(CLAIM_ALPHABET) for _ in range(16))
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def normalize_recovery_code(code: str) -> str:
    cleaned = "".join(ch for ch in code.upper() if ch.isalnum())[:32]
    return "-".join(cleaned[i : i + 4] for i in range(0, len(cleaned), 4))


def give_recovery_code(session: Session, participant: Participant) -> str:
    """A fresh recovery code for the account; the one before stops working. Shown once."""
    code = new_recovery_code()
    participant.recovery_code_hash = digest(code)
    session.add(participant)
    return code


def log(
    session: Session, participant_id: str, kind: str, organization_id: int | None = None
) -> None:
    session.add(
        AccountRecovery(participant_id=participant_id, kind=kind, organization_id=organization_id)
    )


def seal_all_but(session: Session, *, participant_id: str, enrollment: Enrollment) -> None:
    """A PIN reset with `enrollment`'s code: its records open, every other one is sealed."""
    now = utcnow()
    session.exec(  # type: ignore[call-overload]
        update(Enrollment)
        .where(
            col(Enrollment.participant_id) == participant_id,
            col(Enrollment.id) != enrollment.id,
            col(Enrollment.sealed_at).is_(None),
        )
        .values(sealed_at=now)
    )
    enrollment.sealed_at = None
    session.add(enrollment)


def is_sealed(session: Session, participant_id: str) -> bool:
    return (
        session.exec(
            select(Enrollment.id).where(
                Enrollment.participant_id == participant_id,
                col(Enrollment.sealed_at).is_not(None),
            )
        ).first()
        is not None
    )


@dataclass
class ResetNotice:
    at: datetime
    organization_name: str


def reset_notice_due(session: Session, participant_id: str) -> ResetNotice | None:
    """The last PIN reset, while no recovery code has opened the account since. The home page
    then says that other organizations' records, if any, stay closed: it says so whether or
    not there are any, so the page does not tell a code's holder about other organizations."""
    row = session.exec(
        select(AccountRecovery, Organization)
        .outerjoin(Organization, col(Organization.id) == AccountRecovery.organization_id)
        .where(
            AccountRecovery.participant_id == participant_id,
            col(AccountRecovery.kind).in_(["pin_reset", "opened_by_recovery_code"]),
        )
        .order_by(col(AccountRecovery.at).desc(), col(AccountRecovery.id).desc())
        .limit(1)
    ).first()
    if row is None or row[0].kind != "pin_reset":
        return None
    return ResetNotice(row[0].at, row[1].name if row[1] else "")


def open_with_recovery_code(session: Session, *, participant: Participant, code: str) -> str:
    """Unseal every enrollment of the account; returns the next recovery code (the used one
    stops working). Raises RecoveryRefused for a wrong code, and pauses after
    RECOVERY_TRIES wrong ones."""
    until = throttle.locked_until(session, RECOVERY_SCOPE, participant.id)
    if until:
        raise RecoveryRefused(_("Too many wrong recovery codes. Try again later."), until)
    given = normalize_recovery_code(code)
    expected = participant.recovery_code_hash
    if not given or expected is None or not secrets.compare_digest(digest(given), expected):
        until = throttle.record_failure(
            session,
            RECOVERY_SCOPE,
            participant.id,
            limit=RECOVERY_TRIES,
            window=RECOVERY_LOCKOUT,
            lockout=RECOVERY_LOCKOUT,
        )
        if until:
            raise RecoveryRefused(_("Too many wrong recovery codes. Try again later."), until)
        raise RecoveryRefused(_("That recovery code is not right. Check it and try again."))
    session.exec(  # type: ignore[call-overload]
        update(Enrollment)
        .where(
            col(Enrollment.participant_id) == participant.id,
            col(Enrollment.sealed_at).is_not(None),
        )
        .values(sealed_at=None)
    )
    throttle.clear(session, RECOVERY_SCOPE, participant.id)
    log(session, participant.id, "opened_by_recovery_code")
    return give_recovery_code(session, participant)


def open_with_code(session: Session, *, participant: Participant, enrollment: Enrollment) -> None:
    """The organization's own fresh code, used by the signed-in owner: its records open."""
    enrollment.sealed_at = None
    session.add(enrollment)
    log(session, participant.id, "opened_by_code", enrollment.organization_id)


def history(session: Session, participant_id: str) -> list[tuple[AccountRecovery, str]]:
    """Every PIN reset and reopening of the account, newest first, with the organization's
    name where its code was used."""
    rows = session.exec(
        select(AccountRecovery, Organization)
        .outerjoin(Organization, col(Organization.id) == AccountRecovery.organization_id)
        .where(AccountRecovery.participant_id == participant_id)
        .order_by(col(AccountRecovery.at).desc(), col(AccountRecovery.id).desc())
    )
    return [(r, o.name if o else "") for r, o in rows]
