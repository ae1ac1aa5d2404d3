"""What needs the participant: the first thing their home page says, each item linked to its
place further down or to its own page.

In order: data shared without their consent; answers to their corrections (refused ones with
the reason, in the last 30 days); organizations late to answer a correction; consent
requests not decided yet; stories an organization asks to tell about them; consents that end
within 30 days. Worked out from the rows the home page has already read
(app/home/read_model.py), and the stories waiting for an answer it is given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from app.home.read_model import RECENT_ANSWER, HomePage
from app.organizations.models import Organization, Purpose

ENDS_SOON = timedelta(days=30)  # how soon the end of a consent is near


@dataclass(frozen=True)
class Attention:
    """One thing that needs the participant: `kind` picks the words, `href` where it is."""

    kind: str  # unconsented, refused, accepted, late, undecided, story, ending
    organization: Organization
    href: str
    at: datetime | None = None  # when it happened, or the date it is due or ends
    subject: str = ""  # the holding's label, the recipient's name, or a story's title
    detail: str = ""  # a refusal's reason
    purpose: Purpose | None = None  # for a consent (its title is picked in the page's language)


def what_needs_you(page: HomePage, now: datetime, stories: Sequence[Any] = ()) -> list[Attention]:
    """`stories`: the participant's stories waiting for their answer (Story rows)."""
    items: list[Attention] = []
    for org in page.organizations:
        for d in org.disclosures:  # newest first
            if d.consent_covered is False:
                disclosure = d.disclosure
                items.append(
                    Attention(
                        "unconsented",
                        org.organization,
                        f"#disclosure-{disclosure.id}",
                        at=disclosure.disclosed_at,
                        subject=disclosure.recipient_name,
                    )
                )

    # Every correction of every organization, newest first.
    corrections: list[tuple[Any, Organization]] = sorted(
        (
            (c, org.organization)
            for org in page.organizations
            for items_of_category in org.categories.values()
            for item in items_of_category
            if item.record is not None
            for c in item.record.corrections
        ),
        key=lambda pair: pair[0].created_at,
        reverse=True,
    )
    # Refusals first (with their reasons), then acceptances and late answers, newest first.
    recent = now - RECENT_ANSWER
    refused: list[Attention] = []
    later: list[Attention] = []
    for c, organization in corrections:
        href = f"#holding-{c.holding_id}"  # the reason, and Add a statement if none yet
        answered = c.resolved_at is not None and c.resolved_at > recent
        if c.status == "denied" and answered:
            refused.append(
                Attention(
                    "refused", organization, href, c.resolved_at, c.label, c.resolution_reason or ""
                )
            )
        elif c.status == "accepted" and answered:
            later.append(Attention("accepted", organization, href, c.resolved_at, c.label))
        elif c.status == "requested" and c.due_by < now:
            later.append(Attention("late", organization, href, c.due_by, c.label))
    items += refused + later

    undecided, ending = [], []
    for org in page.organizations:
        for c in org.consents:  # by purpose key
            href = f"/consents/{org.enrollment.id}/{c.purpose.key}"
            if c.state == "requested":
                undecided.append(Attention("undecided", org.organization, href, purpose=c.purpose))
            elif (
                c.state == "given"
                and c.consent is not None
                and c.consent.expires_at is not None
                and c.consent.expires_at < now + ENDS_SOON
            ):
                ending.append(
                    Attention(
                        "ending", org.organization, href, c.consent.expires_at, purpose=c.purpose
                    )
                )
    organizations = {org.enrollment.id: org.organization for org in page.organizations}
    asked = [
        Attention("story", organizations[s.enrollment_id], f"/stories/{s.id}", subject=s.title)
        for s in stories
        if s.enrollment_id in organizations
    ]
    return items + undecided + asked + ending


def by_organization(items: list[Attention]) -> list[tuple[Organization, list[Attention]]]:
    """The items under each organization's name, said once (on a phone, a name repeated in
    every line pushes the last items off the first screen); organizations in the order of
    their first item, so the most pressing comes first."""
    groups: dict[int | None, tuple[Organization, list[Attention]]] = {}
    for item in items:
        groups.setdefault(item.organization.id, (item.organization, []))[1].append(item)
    return [
        (organization, _one_of_each_kind_first(group)) for organization, group in groups.values()
    ]


def _one_of_each_kind_first(items: list[Attention]) -> list[Attention]:
    """Two refusals and a late answer: the first of each kind, then the second refusal, so
    that every kind of news is on the first screen before any kind is said twice."""
    seen: set[str] = set()
    first: list[Attention] = []
    rest: list[Attention] = []
    for item in items:
        (rest if item.kind in seen else first).append(item)
        seen.add(item.kind)
    return first + rest
