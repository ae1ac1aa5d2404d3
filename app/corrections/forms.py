"""What the participant's correction, statement and deletion forms share: finding the
participant's own holding, going back to it on the home page, cutting huge pastes, and making
one thing when a form is sent twice. Its own file so the three pages' modules import it
rather than each other.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from fastapi.responses import RedirectResponse
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session

from app.corrections.models import MAX_EXPLANATION, MAX_REQUESTED_VALUE
from app.corrections.record import OwnHolding, own_holding
from app.participants.models import Participant
from app.web.deps import not_found

T = TypeVar("T")

# Form fields are cut at this many characters before checking: far over every limit, so a
# huge paste still gets the "too long" error, but a page never echoes megabytes back.
FORM_CUT = 20 * max(MAX_EXPLANATION, MAX_REQUESTED_VALUE)


def holding_or_404(db: Session, participant: Participant, holding_id: str) -> OwnHolding:
    own = own_holding(db, participant_id=participant.id, holding_id=holding_id[:40])
    if own is None:
        raise not_found()
    return own


def back_to(holding_id: str, **query: str) -> RedirectResponse:
    params = "&".join(f"{k}={v}" for k, v in query.items())
    return RedirectResponse(f"/?{params}#holding-{holding_id}", status_code=303)


def once(db: Session, make: Callable[[], T], made_meanwhile: Callable[[], T | None]) -> T:
    """Make something and commit it. When the same form was sent twice at the same moment and
    the other send won (the database's unique open key refused this one), answer with what
    the other send made."""
    try:
        made = make()
        db.commit()
    except (IntegrityError, OperationalError):
        db.rollback()
        existing = made_meanwhile()
        if existing is None:
            raise
        return existing
    return made
