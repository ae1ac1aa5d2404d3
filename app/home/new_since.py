"""What is new since the participant's last visit: the home page's second section, right after
What needs you. Per organization: the things it added or changed, and whom it shared the
participant's data with, each linked to its place further down.

What "the last visit" is. No column records it, and a GET / writes nothing: the page is
benchmarked under load, and a write per view would turn each one into a write. The
participant's web sessions already are the record, kept in the database (so it holds across
processes) with when each started and when it was last used (`last_seen_at`, written at most
once a minute by app/security/sessions.py). A visit is the current session together with any
session that ended less than `SAME_VISIT` before it started, or overlaps it: a fresh session
after changing the PIN, logging in again at once, a second phone in use at the same time. The
previous visit is the latest `last_seen_at` of the sessions before that: one small read of a
few rows. So what arrives during this visit stays new until the participant comes back
another day, and whatever they saw on the previous visit (give or take the minute of slack in
`last_seen_at`) is not new again. With no earlier session there is no last visit, and nothing
is called new.

New means recorded after the previous visit: a holding created (added) or updated (changed,
not deleted; its value or how it is described), and a disclosure recorded (whenever the
organization says it happened). An organization added to the account since then says nothing
here of what it held before: its own section lists it all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select as sa_select
from sqlmodel import Session

from app.home.read_model import HomePage, organization_anchor
from app.organizations.models import Organization
from app.security.models import WebSession

# Sessions this close together are one visit (logging in again, a new session for a new PIN).
SAME_VISIT = timedelta(minutes=10)
# How many of the participant's latest sessions are read to find where this visit began.
SESSIONS_READ = 50
# How many items each organization names; the rest are counted.
NAMED = 3


@dataclass(frozen=True)
class NewHolding:
    id: str
    label: str

    @property
    def href(self) -> str:
        return f"#holding-{self.id}"


@dataclass(frozen=True)
class NewDisclosure:
    id: str
    recipient_name: str
    disclosed_at: datetime

    @property
    def href(self) -> str:
        return f"#disclosure-{self.id}"  # the recipient's name in the organization's section


@dataclass
class NewAtOrganization:
    """What one organization did since the last visit, latest first."""

    organization: Organization
    added: list[NewHolding] = field(default_factory=list)
    changed: list[NewHolding] = field(default_factory=list)
    shared: list[NewDisclosure] = field(default_factory=list)

    @property
    def href(self) -> str:
        return f"#{organization_anchor(self.organization)}"

    @property
    def named_added(self) -> list[NewHolding]:
        return self.added[:NAMED]

    @property
    def named_changed(self) -> list[NewHolding]:
        return self.changed[:NAMED]

    @property
    def named_shared(self) -> list[NewDisclosure]:
        return self.shared[:NAMED]


@dataclass
class NewSince:
    """`since` is None when there was no earlier visit (nothing is then called new)."""

    since: datetime | None
    organizations: list[NewAtOrganization] = field(default_factory=list)


def previous_visit(session: Session, current: WebSession) -> datetime | None:
    """When the participant was last seen on an earlier visit, or None if this is the first
    one the portal knows of."""
    if current.participant_id is None:
        return None
    table = WebSession.__table__  # type: ignore[attr-defined]
    rows = session.execute(
        sa_select(table.c.created_at, table.c.last_seen_at)
        .where(table.c.participant_id == current.participant_id, table.c.kind == "participant")
        .order_by(table.c.created_at.desc())
        .limit(SESSIONS_READ)
    ).all()
    start = current.created_at
    merged = True
    while merged:  # a handful of rows: grow this visit back over every session it touches
        merged = False
        for created, seen in rows:
            if created < start and seen >= start - SAME_VISIT:
                start, merged = created, True
    return max((seen for _c, seen in rows if seen < start - SAME_VISIT), default=None)


def what_is_new(session: Session, page: HomePage, current: WebSession | None) -> NewSince:
    """From the rows the home page has already read: only the previous visit costs a query."""
    since = previous_visit(session, current) if current is not None else None
    if since is None or not page.organizations:
        return NewSince(since)
    found = []
    for org in page.organizations:
        news = NewAtOrganization(org.organization)
        holdings = sorted(
            (
                item.holding
                for items in org.categories.values()
                for item in items
                if not item.deleted and item.holding.updated_at > since
            ),
            key=lambda h: (h.updated_at, h.id),
            reverse=True,
        )
        for h in holdings:
            (news.added if h.created_at > since else news.changed).append(NewHolding(h.id, h.label))
        news.shared = [
            NewDisclosure(d.disclosure.id, d.disclosure.recipient_name, d.disclosure.disclosed_at)
            for d in org.disclosures  # newest first
            if d.disclosure.created_at > since
        ]
        if news.added or news.changed or news.shared:
            found.append(news)
    return NewSince(since, found)
