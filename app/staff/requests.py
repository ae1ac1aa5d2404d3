"""Requests to answer: every event of an organization that asks it to act and is not answered.

An event is answered when the organization acknowledged it (done or declined); a correction's
request is answered when the correction is resolved (accepted or denied), whether or not the
event itself was also acknowledged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_
from sqlalchemy import select as select_rows
from sqlmodel import Session, col, select

from app.corrections.models import Correction
from app.db import utcnow
from app.events.models import Event
from app.i18n import gettext as _
from app.i18n import pick_text
from app.organizations.models import Organization, Purpose, Staff


def _waiting(organization_id: int) -> ColumnElement[bool]:
    """The condition on Event of a request still waiting for the organization's answer."""
    resolved = exists().where(
        and_(
            col(Correction.requested_event_id) == col(Event.id),
            col(Correction.status) != "requested",
        )
    )
    return and_(
        col(Event.organization_id) == organization_id,
        col(Event.ack_due_by).is_not(None),
        col(Event.acked_at).is_(None),
        or_(col(Event.type) != "correction.requested", ~resolved),
    )


def waiting_counts(session: Session, *, organization_id: int, now: datetime) -> tuple[int, int]:
    """(waiting, overdue) for the count on staff pages and the daily digest."""
    row = session.execute(
        select_rows(
            func.count(),
            func.count().filter(col(Event.ack_due_by) < now),
        ).where(_waiting(organization_id))
    ).one()
    return int(row[0]), int(row[1])


def waiting_count_of(session: Session, staff: Staff) -> Callable[[], int]:
    """The number for the staff bar's **Requests to answer** link. Lazy: only a page that
    shows the bar runs the query (a POST that redirects never does)."""
    cache: list[int] = []

    def count() -> int:
        if not cache:
            cache.append(
                waiting_counts(session, organization_id=staff.organization_id, now=utcnow())[0]
            )
        return cache[0]

    return count


def answered_by(staff: Staff) -> str:
    """What the participant is shown as the staff member who answered."""
    return (staff.name or "").strip() or staff.email


# --- one request, in plain words -----------------------------------------------------------


@dataclass
class RequestToAnswer:
    event: Event
    correction: Correction | None
    who: str
    asked: str
    to_do: str
    data: list[tuple[str, str]]  # (what, value) pairs shown under the request

    @property
    def due_by(self) -> datetime | None:
        return self.correction.due_by if self.correction else self.event.ack_due_by

    def overdue(self, now: datetime) -> bool:
        return self.due_by is not None and self.due_by < now

    @property
    def answered(self) -> bool:
        if self.correction is not None and self.correction.status != "requested":
            return True
        return self.event.acked_at is not None

    @property
    def is_correction(self) -> bool:
        return self.event.type == "correction.requested" and self.correction is not None


def _purpose_title(session: Session, event: Event, key: str | None) -> str:
    """The purpose's title in the page's language; a recipient's event names the holder's."""
    if not key:
        return ""
    organization_id: int | None = event.organization_id
    if event.role == "recipient":
        slug = (event.data.get("source") or {}).get("organization")
        holder = session.exec(select(Organization).where(col(Organization.slug) == slug)).first()
        organization_id = holder.id if holder else None
    purpose = session.exec(
        select(Purpose).where(
            col(Purpose.organization_id) == organization_id, col(Purpose.key) == key
        )
    ).first()
    title = pick_text(purpose.title)[0] if purpose else ""
    return title or key


def _who(event: Event) -> str:
    ref = (event.data.get("participant") or {}).get("external_ref")
    if ref:
        return str(ref)
    source = event.data.get("source") or {}
    return _(
        "A participant of %(organization)s (their reference there: %(ref)s)",
        organization=source.get("organization", ""),
        ref=source.get("external_ref", ""),
    )


def _names(items: Any) -> str:
    return ", ".join(str(i.get("name", "")) for i in items or [] if isinstance(i, dict))


def describe(session: Session, event: Event, correction: Correction | None) -> RequestToAnswer:
    """What the participant asked, and what the organization has to do now."""
    data = event.data
    holding = data.get("holding") or {}
    label = str(holding.get("label", ""))
    recipient = event.role == "recipient"
    source = (data.get("source") or {}).get("organization", "")
    facts: list[tuple[str, str]] = []
    kind = event.type
    if kind in ("consent.withdrawn", "consent.expired"):
        title = _purpose_title(session, event, (data.get("consent") or {}).get("purpose"))
        recipients = _names(data.get("recipients"))
        if kind == "consent.withdrawn":
            asked = _("They withdrew their consent for %(purpose)s.", purpose=title)
        else:
            asked = _("Their consent for %(purpose)s expired.", purpose=title)
        if recipient:
            to_do = _(
                "Stop using the data %(organization)s shared with you for %(purpose)s.",
                organization=source,
                purpose=title,
            )
        elif recipients:
            to_do = _(
                "Stop sharing their data for %(purpose)s with %(recipients)s and tell them.",
                purpose=title,
                recipients=recipients,
            )
        else:
            to_do = _("Stop using their data for %(purpose)s.", purpose=title)
        facts.append((_("Purpose"), title))
        if recipients:
            facts.append((_("Shared with"), recipients))
    elif kind == "correction.requested":
        c = data.get("correction") or {}
        old = str(c.get("current_value") or "")
        new = str(c.get("requested_value") or "")
        label = str(c.get("label") or label)
        asked = _("They ask for %(label)s to say %(new)s.", label=label, new=new)
        to_do = _(
            "Decide whether to change %(label)s from %(old)s to %(new)s.",
            label=label,
            old=old,
            new=new,
        )
        facts += [(_("It says now"), old), (_("They asked for"), new)]
        facts.append((_("Their reason"), str(c.get("reason") or "")))
    elif kind == "data.corrected":
        h = data.get("holding") or {}
        old, new = str(h.get("old_value") or ""), str(h.get("new_value") or "")
        tell = _names(data.get("tell_recipients"))
        asked = _("%(label)s was corrected to %(new)s.", label=label, new=new)
        if recipient:
            to_do = _(
                "Change your copy of %(label)s from %(old)s to %(new)s.",
                label=label,
                old=old,
                new=new,
            )
        elif tell:
            to_do = _(
                "Tell %(recipients)s that %(label)s is now %(new)s.",
                recipients=tell,
                label=label,
                new=new,
            )
        else:
            to_do = _("Check that every copy of %(label)s says %(new)s.", label=label, new=new)
        facts += [(_("It said"), old), (_("It says now"), new)]
    elif kind == "statement.added":
        text = str((data.get("statement") or {}).get("text") or "")
        asked = _("They disagree with %(label)s and added a statement.", label=label)
        to_do = _(
            "Keep their statement with %(label)s and pass it along whenever you share it.",
            label=label,
        )
        facts.append((_("Their statement"), text))
        if "value" in holding:
            facts.append((_("It says now"), str(holding.get("value") or "")))
    elif kind == "deletion.requested":
        asked = _("They ask for %(label)s to be deleted.", label=label)
        to_do = _("Delete %(label)s or explain why you keep it.", label=label)
    elif kind == "participant.closed":
        asked = _("They closed their portal account.")
        to_do = _(
            "Note in your records that they closed their account; they no longer see it online."
        )
    elif kind == "context.shared":
        text = str((data.get("context") or {}).get("text") or "")
        asked = _("They shared something about themselves with you.")
        to_do = _("Add it to their record, in their words.")
        facts.append((_("In their words"), text))
    elif kind == "concern.raised":
        concern = data.get("concern") or {}
        about = concern.get("about") or {}
        if about.get("type") == "disclosure":
            asked = _(
                "They raised a concern: you shared their data with %(recipient)s without "
                "their consent.",
                recipient=str(about.get("recipient") or ""),
            )
        elif about.get("type") == "request":
            asked = _(
                "They raised a concern: you did not answer their request in time (%(what)s).",
                what=str(about.get("event_type") or ""),
            )
        else:
            asked = _(
                "They raised a concern: you did not answer their correction of %(label)s in time.",
                label=str(about.get("label") or ""),
            )
        to_do = _(
            "Answer their concern: say what you did about it. They and the network "
            "administrators are shown your answer."
        )
        facts.append((_("What they say happened"), str(concern.get("text") or "")))
    elif kind == "context.withdrawn":
        asked = _("They took back what they had shared about themselves.")
        to_do = _("Stop using it and remove it from their record.")
    elif kind == "story.withdrawn":
        story = data.get("story") or {}
        where = str((story.get("published") or {}).get("where") or "")
        asked = _("They withdrew their approval of a story about them.")
        if where:
            to_do = _("Take the story down from %(where)s, then mark it as done.", where=where)
        else:
            to_do = _("Do not publish the story, then mark it as done.")
        if story.get("title"):
            facts.append((_("Story"), str(story["title"])))
    else:
        asked = kind
        to_do = _("Act on it, then mark it as done.")
    if label and kind not in ("consent.withdrawn", "consent.expired", "participant.closed"):
        facts.insert(0, (_("Data"), label))
    if recipient and source:
        facts.append((_("Shared with you by"), source))
    return RequestToAnswer(event, correction, _who(event), asked, to_do, facts)


def _corrections_by_event(session: Session, events: list[Event]) -> dict[str, Correction]:
    ids = [e.id for e in events if e.type == "correction.requested"]
    if not ids:
        return {}
    rows = session.exec(select(Correction).where(col(Correction.requested_event_id).in_(ids)))
    return {c.requested_event_id: c for c in rows if c.requested_event_id}


def requests_to_answer(
    session: Session, *, organization_id: int, now: datetime | None = None
) -> list[RequestToAnswer]:
    """Every waiting request: overdue first (the most overdue first), then the oldest."""
    now = now or utcnow()
    events = list(
        session.exec(select(Event).where(_waiting(organization_id)).order_by(col(Event.created_at)))
    )
    corrections = _corrections_by_event(session, events)
    items = [describe(session, e, corrections.get(e.id)) for e in events]
    # Due dates differ by type (a correction's is its own): sort on the one shown.
    far = datetime.max.replace(tzinfo=now.tzinfo)
    items.sort(
        key=lambda r: (
            not r.overdue(now),
            (r.due_by or far) if r.overdue(now) else r.event.created_at,
        )
    )
    return items


def request_of(session: Session, *, organization_id: int, event_id: str) -> RequestToAnswer | None:
    """One request of the organization, answered or not; another organization's is None."""
    event = session.get(Event, event_id[:40])
    if event is None or event.organization_id != organization_id or event.ack_due_by is None:
        return None
    correction = _corrections_by_event(session, [event]).get(event.id)
    return describe(session, event, correction)
