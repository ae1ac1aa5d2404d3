"""What a participant's home page shows (its read model), gathered in a handful of queries.

Each organization holding their data: what it holds (grouped by category), why, on what
basis, for how long, who it was shared with, and each consent-based purpose with its state.
It reads holdings, disclosures, consents and corrections alike and belongs to none of them,
so it is its own package above them all (app/home/), not part of participants.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from markupsafe import Markup
from sqlalchemy import select as sa_select
from sqlmodel import Session, select

from app.consent.models import Consent
from app.consent.service import effective_state
from app.corrections.record import HoldingRecord, holding_records
from app.corrections.record import own_holding as find_own_holding
from app.db import utcnow
from app.disclosures.models import Disclosure
from app.holdings.models import Holding, display_order
from app.holdings.sensitivity import is_hidden_at_first
from app.organizations.models import Organization, Purpose
from app.participants.models import Enrollment
from app.participants.service import enrollments_of


@dataclass
class HoldingView:
    holding: Any  # a Holding, or a plain row with the same columns (read-only)
    purpose: Purpose
    # Corrections, statements and deletion requests of this holding (None when there are none).
    record: HoldingRecord | None = None

    @cached_property
    def deleted(self) -> bool:
        return self.holding.deleted_at is not None

    @cached_property
    def hidden_at_first(self) -> bool:
        return is_hidden_at_first(self.holding, self.purpose)

    def asks_for_attention(self, since: datetime) -> bool:
        """A correction waiting for an answer, or an answer given since `since`."""
        record = self.record
        if record is None:
            return False
        answer = record.last_answer
        return record.open_correction is not None or (
            answer is not None and answer.resolved_at is not None and answer.resolved_at >= since
        )


@dataclass
class DisclosureView:
    disclosure: Any  # a Disclosure, or a plain row with the same columns (read-only)
    purpose: Purpose
    # What was shared: each holding's row (its label is picked in the page's language when
    # drawn), or the field key of one the organization no longer holds.
    shared: list[Any]

    @property
    def consent_covered(self) -> bool | None:
        """Whether the participant's consent covered it; None when the purpose does not rest
        on consent (the law or a contract allowed it instead)."""
        if self.purpose.basis != "consent":
            return None
        return self.disclosure.consent_state == "given"


@dataclass
class ConsentView:
    purpose: Purpose
    consent: Any  # the current Consent, or a plain row with its columns; None when none yet
    state: str  # requested when nothing is recorded yet


@dataclass
class OrganizationView:
    organization: Organization
    enrollment: Enrollment
    # Category → holdings, deleted ones included (they say that they were deleted, and when).
    categories: dict[str, list[HoldingView]] = field(default_factory=dict)
    disclosures: list[DisclosureView] = field(default_factory=list)
    consents: list[ConsentView] = field(default_factory=list)
    purposes: list[Purpose] = field(default_factory=list)
    # Whether each long list starts open (see OPEN_UP_TO): set by build_home.
    holdings_open: bool = True
    disclosures_open: bool = True
    purposes_open: bool = True

    @cached_property
    def holding_count(self) -> int:
        return sum(1 for items in self.categories.values() for h in items if not h.deleted)

    @property
    def anchor(self) -> str:
        return organization_anchor(self.organization)


# Lists this long or shorter start open; longer ones start closed under a summary, so that a
# person with five organizations scrolls through five summaries, not 300 cards. A list opens
# anyway when something in it needs the participant (a flagged disclosure, a correction
# waiting or answered in the last month), so a link from "What needs you" lands on it open.
OPEN_UP_TO = {"holdings": 6, "disclosures": 5, "purposes": 3}
RECENT_ANSWER = timedelta(days=30)  # how long an answer stays news (What needs you says it too)


@dataclass
class HomePage:
    organizations: list[OrganizationView]


@dataclass
class HomeSection:
    """One organization's part of the home page, rendered (or kept from an earlier visit)."""

    organization: Organization
    enrollment: Enrollment
    html: Markup

    @property
    def anchor(self) -> str:
        return organization_anchor(self.organization)


def organization_anchor(organization: Organization) -> str:
    """The id of an organization's section: the table of contents links to it."""
    return f"org-{organization.slug}"


def build_home(session: Session, participant_id: str) -> HomePage:
    """Everything the home page shows of each organization holding the participant's data."""
    pairs = enrollments_of(session, participant_id)
    if not pairs:
        return HomePage(organizations=[])
    enrollment_ids = [e.id for e, _o in pairs]
    org_ids = [o.id for _e, o in pairs]
    purposes = {
        p.id: p
        for p in session.exec(
            select(Purpose).where(Purpose.organization_id.in_(org_ids)).order_by(Purpose.key)  # type: ignore[attr-defined]
        )
    }
    # Holdings and disclosures are read as plain rows, not ORM objects: the page only reads
    # them, and a participant may have hundreds (bench/home_page.py measures it).
    holding_table, disclosure_table = Holding.__table__, Disclosure.__table__  # type: ignore[attr-defined]
    holdings = sorted(
        session.execute(
            sa_select(holding_table).where(holding_table.c.enrollment_id.in_(enrollment_ids))
        ),
        key=display_order,  # in Python: the label is encrypted
    )
    disclosures = session.execute(
        sa_select(disclosure_table)
        .where(disclosure_table.c.enrollment_id.in_(enrollment_ids))
        .order_by(disclosure_table.c.disclosed_at.desc())
    ).all()
    consents = _current_consents(session, enrollment_ids)
    records = holding_records(session, enrollment_ids=enrollment_ids)

    views = {e.id: OrganizationView(organization=o, enrollment=e) for e, o in pairs}
    by_key: dict[str, dict[str, Any]] = defaultdict(dict)
    for h in holdings:
        by_key[h.enrollment_id][h.field_key] = h
        views[h.enrollment_id].categories.setdefault(h.category, []).append(
            HoldingView(h, purposes[h.purpose_id], records.get(h.id))
        )
    for d in disclosures:
        views[d.enrollment_id].disclosures.append(
            DisclosureView(
                disclosure=d,
                purpose=purposes[d.purpose_id],
                shared=[by_key[d.enrollment_id].get(k, k) for k in d.field_keys],
            )
        )
    recent = utcnow() - RECENT_ANSWER
    for view in views.values():
        view.purposes = [p for p in purposes.values() if p.organization_id == view.organization.id]
        view.holdings_open = view.holding_count <= OPEN_UP_TO["holdings"] or any(
            item.asks_for_attention(recent) for items in view.categories.values() for item in items
        )
        view.disclosures_open = len(view.disclosures) <= OPEN_UP_TO["disclosures"] or any(
            d.disclosure.flagged for d in view.disclosures
        )
        view.purposes_open = len(view.purposes) <= OPEN_UP_TO["purposes"]
        for purpose in view.purposes:
            if purpose.basis == "consent":
                consent = consents.get((view.enrollment.id, purpose.id or 0))
                view.consents.append(ConsentView(purpose, consent, effective_state(consent)))
    return HomePage(organizations=list(views.values()))


def _current_consents(session: Session, enrollment_ids: list[str]) -> dict[tuple[str, int], Any]:
    """The current consent row per (enrollment, purpose), as latest_consents finds it (the
    newest; of two in the same instant, the larger id), but read as plain rows and picked in
    Python: a participant's few dozen decisions cost less so than a grouping query and ORM
    objects (bench/home_page.py)."""
    table = Consent.__table__  # type: ignore[attr-defined]
    rows = session.execute(
        sa_select(table)
        .where(table.c.enrollment_id.in_(enrollment_ids))
        .order_by(table.c.created_at, table.c.id)
    )
    return {(row.enrollment_id, row.purpose_id): row for row in rows}  # the last one stays


def own_holding(session: Session, *, participant_id: str, holding_id: str) -> HoldingView | None:
    """One of the participant's own current holdings, as the home page shows it; another
    person's is simply not found (the same lookup the correction pages use)."""
    own = find_own_holding(session, participant_id=participant_id, holding_id=holding_id)
    return HoldingView(own.holding, own.purpose) if own else None
