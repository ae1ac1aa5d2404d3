"""What needs the participant: the first thing their home page says, each item linked to its
place further down or to its own page.

In order: data shared without their consent; answers to their corrections (refused ones with
the reason, in the last 30 days); organizations late to answer a correction; consent
requests not decided yet; consents that end within 30 days. A few small queries over the
participant's enrollments, run at every visit (the sections below may be kept rendered, this
never is: it depends on the clock and on every organization at once).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from app.consent.service import effective_state, latest_consents
from app.corrections.models import Correction
from app.disclosures.models import Disclosure
from app.organizations.models import Organization, Purpose
from app.participants.models import Enrollment

RECENT = timedelta(days=30)  # how long an answer stays news, and how soon an end is near


@dataclass(frozen=True)
class Attention:
    """One thing that needs the participant: `kind` picks the words, `href` where it is."""

    kind: str  # unconsented, refused, accepted, late, undecided, ending
    organization: Organization
    href: str
    at: datetime | None = None  # when it happened, or the date it is due or ends
    subject: str = ""  # the holding's label, or the recipient's name
    detail: str = ""  # a refusal's reason
    purpose: Purpose | None = None  # for a consent (its title is picked in the page's language)


def what_needs_you(
    session: Session, pairs: list[tuple[Enrollment, Organization]], now: datetime
) -> list[Attention]:
    if not pairs:
        return []
    by_enrollment = {e.id: o for e, o in pairs}
    ids = list(by_enrollment)
    items: list[Attention] = []

    for disclosure, _purpose in session.exec(
        select(Disclosure, Purpose)
        .join(Purpose, col(Purpose.id) == col(Disclosure.purpose_id))
        .where(
            col(Disclosure.enrollment_id).in_(ids),
            col(Purpose.basis) == "consent",
            col(Disclosure.consent_state) != "given",
        )
        .order_by(col(Disclosure.disclosed_at).desc())
    ):
        items.append(
            Attention(
                "unconsented",
                by_enrollment[disclosure.enrollment_id],
                f"#disclosure-{disclosure.id}",
                at=disclosure.disclosed_at,
                subject=disclosure.recipient_name,
            )
        )

    corrections = session.exec(
        select(Correction)
        .where(col(Correction.enrollment_id).in_(ids))
        .order_by(col(Correction.created_at).desc())
    ).all()
    for c in corrections:
        organization = by_enrollment[c.enrollment_id]
        if c.status == "denied" and c.resolved_at and c.resolved_at > now - RECENT:
            href = f"#holding-{c.holding_id}"  # the reason, and Add a statement if none yet
            items.append(
                Attention(
                    "refused", organization, href, c.resolved_at, c.label, c.resolution_reason or ""
                )
            )
    for c in corrections:
        organization = by_enrollment[c.enrollment_id]
        if c.status == "accepted" and c.resolved_at and c.resolved_at > now - RECENT:
            items.append(
                Attention(
                    "accepted", organization, f"#holding-{c.holding_id}", c.resolved_at, c.label
                )
            )
        elif c.status == "requested" and c.due_by < now:
            items.append(
                Attention("late", organization, f"#holding-{c.holding_id}", c.due_by, c.label)
            )

    purposes = session.exec(
        select(Purpose)
        .where(
            col(Purpose.organization_id).in_({o.id for o in by_enrollment.values()}),
            col(Purpose.basis) == "consent",
        )
        .order_by(col(Purpose.key))
    ).all()
    consents = latest_consents(session, ids)
    undecided, ending = [], []
    for enrollment, organization in pairs:
        for purpose in purposes:
            if purpose.organization_id != organization.id:
                continue
            consent = consents.get((enrollment.id, purpose.id or 0))
            state = effective_state(consent, now)
            href = f"/consents/{enrollment.id}/{purpose.key}"
            if state == "requested":
                undecided.append(Attention("undecided", organization, href, purpose=purpose))
            elif (
                state == "given"
                and consent is not None
                and consent.expires_at is not None
                and consent.expires_at < now + RECENT
            ):
                ending.append(
                    Attention("ending", organization, href, consent.expires_at, purpose=purpose)
                )
    return items + undecided + ending
