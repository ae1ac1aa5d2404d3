"""Stories: an organization drafts words about a participant for a named use; the participant
approves the exact text, asks for changes, or declines; only an approved text is published, and
a withdrawn approval asks the organization to take it down.

- story.approved, story.changes_requested, story.declined: to the organization, for its records.
- story.withdrawn: asks the organization to take the story down and acknowledge.

Each change, its event and its deliveries commit together (the caller commits).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from app.db import utcnow
from app.events.models import Event
from app.events.service import record_event
from app.i18n import gettext as _
from app.organizations.models import Organization
from app.participants.form_text import checked_text, clean_text
from app.participants.models import Enrollment
from app.participants.service import enrollments_of
from app.stories.models import (
    MAX_CHANGE_REQUEST,
    MAX_STORY_TEXT,
    MAX_STORY_TITLE,
    MAX_WHERE,
    Story,
    StoryWordList,
)
from app.web.forms import FormError

DECISIONS = ("approve", "changes", "decline", "withdraw")
# What the participant may still choose, by state: an answer is for an unanswered text;
# withdrawing is for an approved one. A "no" stands: a declined or withdrawn story is not
# asked again (the organization drafts a new one if the participant wants it).
_OPEN = ("awaiting", "changes_requested")
_ALLOWED = {"approve": _OPEN, "changes": _OPEN, "decline": _OPEN, "withdraw": ("approved",)}
_RESULT = {
    "approve": "approved",
    "changes": "changes_requested",
    "decline": "declined",
    "withdraw": "withdrawn",
}
_EVENT = {
    "approve": "story.approved",
    "changes": "story.changes_requested",
    "decline": "story.declined",
    "withdraw": "story.withdrawn",
}

# Words that tell a person by what they lack: shown to staff as a prompt to tell the whole
# person, never a reason to refuse. Each organization's admins can change these lists.
DEFAULT_DEFICIT_WORDS: dict[str, list[str]] = {
    "en": [
        "victim",
        "suffering",
        "at-risk",
        "broken",
        "homeless person",
        "vulnerable",
        "needy",
        "struggling",
        "helpless",
        "troubled",
    ],
    "es": ["víctima", "sufrimiento", "en riesgo", "roto", "indigente", "vulnerable", "necesitado"],
}
MAX_DEFICIT_WORDS = 100
# A story id as new_id makes it: anything else (a NUL, which PostgreSQL can't even compare)
# is simply not found.
_STORY_ID = re.compile(r"^sty_[0-9a-f]{1,36}$")


class StoryConflict(ValueError):
    """The change does not fit the story's state (publishing an unapproved text, editing a
    declined story, approving a withdrawn one)."""


class StoryTextChanged(StoryConflict):
    """The participant answered a version of the text that is no longer the current one."""


# --- drafting and editing (the organization) -------------------------------------------------


def _checked(title: str, text: str, use: dict[str, str]) -> tuple[str, str, dict[str, str]]:
    title = checked_text(
        "title", title, limit=MAX_STORY_TITLE, empty_message=_("Give the story a title.")
    )
    text = checked_text(
        "text",
        text,
        limit=MAX_STORY_TEXT,
        empty_message=_("Write the story or quote, as it would be published."),
    )
    use = {k: clean_text(v) for k, v in use.items() if clean_text(v)}
    if not use:
        raise FormError("use", _("Say what it is for (an annual report, a grant application)."))
    return title, text, use


def draft_story(
    session: Session,
    *,
    enrollment: Enrollment,
    title: str,
    text: str,
    use: dict[str, str],
    drafted_by: str | None = None,
    now: datetime | None = None,
) -> Story:
    """A new story, awaiting the participant's answer."""
    title, text, use = _checked(title, text, use)
    now = now or utcnow()
    story = Story(
        enrollment_id=enrollment.id,
        organization_id=enrollment.organization_id,
        title=title,
        text=text,
        use=use,
        drafted_by=drafted_by,
        created_at=now,
        updated_at=now,
    )
    session.add(story)
    session.flush()
    return story


def edit_story(
    session: Session,
    *,
    story: Story,
    text: str,
    title: str | None = None,
    use: dict[str, str] | None = None,
    now: datetime | None = None,
) -> Story:
    """New words need a new approval: a changed text (or title, or use) goes back to
    awaiting. The same words sent again change nothing."""
    if story.state in ("declined", "withdrawn"):
        raise StoryConflict(f"the participant {story.state} this story; draft a new one")
    title, text, use = _checked(
        story.title if title is None else title, text, story.use if use is None else use
    )
    if (title, text, use) == (story.title, story.text, story.use):
        return story
    story.title, story.text, story.use = title, text, use
    story.text_version += 1
    story.state, story.approved_version = "awaiting", None
    story.updated_at = now or utcnow()
    session.add(story)
    session.flush()
    return story


def is_publishable(story: Story) -> bool:
    return story.state == "approved" and story.approved_version == story.text_version


def publish_story(
    session: Session, *, story: Story, where: str, now: datetime | None = None
) -> Story:
    """Record where it was published: only the current text, and only when approved."""
    where = checked_text(
        "where", where, limit=MAX_WHERE, empty_message=_("Say where it was published.")
    )
    if not is_publishable(story):
        raise StoryConflict("only a text the participant approved can be published")
    story.published_where, story.published_at = where, now or utcnow()
    session.add(story)
    session.flush()
    return story


def story_payload(story: Story) -> dict[str, Any]:
    return {
        "id": story.id,
        "title": story.title,
        "text": story.text,
        "use": story.use,
        "state": story.state,
        "text_version": story.text_version,
        "approved_version": story.approved_version,
        "what_to_change": story.change_request,
        "published": {"where": story.published_where, "at": story.published_at.isoformat()}
        if story.published_at
        else None,
        "created_at": story.created_at.isoformat(),
        "updated_at": story.updated_at.isoformat(),
    }


def organization_story(session: Session, *, organization_id: int, story_id: str) -> Story | None:
    """One of the organization's own stories; another's is None, as one that does not exist."""
    story = session.get(Story, story_id) if _STORY_ID.match(story_id) else None
    return story if story is not None and story.organization_id == organization_id else None


def stories_of_enrollment(session: Session, *, enrollment_id: str) -> list[Story]:
    return list(
        session.exec(
            select(Story)
            .where(Story.enrollment_id == enrollment_id)
            .order_by(col(Story.created_at), col(Story.id))
        )
    )


# --- the participant's answer ----------------------------------------------------------------


def decide(
    session: Session,
    *,
    story: Story,
    enrollment: Enrollment,
    organization: Organization,
    decision: str,
    text_version: int,
    what_to_change: str = "",
    base_url: str = "",
    now: datetime | None = None,
) -> Event | None:
    """The participant's answer to the text they read (`text_version`). The same answer sent
    twice (a double tap) changes nothing and returns None; otherwise the event."""
    if decision not in DECISIONS:
        raise StoryConflict(f"decision must be one of {DECISIONS}")
    if text_version != story.text_version:
        raise StoryTextChanged("the text changed since it was read")
    result = _RESULT[decision]
    if story.state == result and decision != "changes":
        return None
    if story.state not in _ALLOWED[decision]:
        raise StoryConflict(f"a story {story.state} can't be answered with {decision!r}")
    if decision == "changes":
        what_to_change = checked_text(
            "what_to_change",
            what_to_change,
            limit=MAX_CHANGE_REQUEST,
            empty_message=_("Say what to change."),
        )
        if story.state == result and story.change_request == what_to_change:
            return None
        story.change_request = what_to_change
    now = now or utcnow()
    story.state, story.decided_at = result, now
    story.approved_version = story.text_version if decision == "approve" else None
    session.add(story)
    session.flush()
    return _tell(
        session,
        story=story,
        enrollment=enrollment,
        organization=organization,
        type=_EVENT[decision],
        base_url=base_url,
        now=now,
    )


def _tell(
    session: Session,
    *,
    story: Story,
    enrollment: Enrollment,
    organization: Organization,
    type: str,
    base_url: str,
    now: datetime,
    payload: dict[str, Any] | None = None,
) -> Event:
    return record_event(
        session,
        enrollment_id=enrollment.id,
        organization_id=organization.id or 0,
        type=type,
        data={
            "organization": organization.slug,
            "participant": {"external_ref": enrollment.external_ref},
            "story": payload or story_payload(story),
        },
        base_url=base_url,
        now=now,
    )


def participant_story(
    session: Session, *, participant_id: str, story_id: str
) -> tuple[Story, Enrollment, Organization] | None:
    """One of the participant's own stories, from an organization whose records are open;
    anyone else's is None."""
    story = session.get(Story, story_id) if _STORY_ID.match(story_id) else None
    if story is None:
        return None
    for enrollment, organization in enrollments_of(session, participant_id):
        if enrollment.id == story.enrollment_id:
            return story, enrollment, organization
    return None


@dataclass(frozen=True)
class StoryForParticipant:
    """One line of the participant's list of stories (templates/stories/for_participant.html)."""

    id: str
    title: str
    organization: str
    state: str
    use: dict[str, str]
    published: bool
    updated_at: datetime

    @property
    def url(self) -> str:
        return f"/stories/{self.id}"


def stories_for_participant(db: Session, participant_id: str) -> list[StoryForParticipant]:
    """The participant's stories from every organization whose records are open to them,
    the ones waiting for an answer first, then newest first."""
    pairs = {e.id: o for e, o in enrollments_of(db, participant_id)}
    if not pairs:
        return []
    rows = db.exec(
        select(Story)
        .where(col(Story.enrollment_id).in_(list(pairs)))
        .order_by(col(Story.updated_at).desc(), col(Story.id).desc())
    )
    items = [
        StoryForParticipant(
            id=s.id,
            title=s.title,
            organization=pairs[s.enrollment_id].name,
            state=s.state,
            use=s.use,
            published=s.published_at is not None and s.state == "approved",
            updated_at=s.updated_at,
        )
        for s in rows
    ]
    return sorted(items, key=lambda i: i.state not in _OPEN)  # stable: newest first within


def awaiting_answer(db: Session, enrollment_ids: list[str]) -> list[Story]:
    """The stories in these enrollments that wait for the participant's answer (for What
    needs you on the home page), oldest first."""
    if not enrollment_ids:
        return []
    return list(
        db.exec(
            select(Story)
            .where(col(Story.enrollment_id).in_(enrollment_ids), col(Story.state) == "awaiting")
            .order_by(col(Story.updated_at), col(Story.id))
        )
    )


# --- deficit words ---------------------------------------------------------------------------


def word_lists(session: Session, *, organization_id: int) -> dict[str, list[str]]:
    """The organization's lists per language: its own where it changed one, else the default."""
    lists = {k: list(v) for k, v in DEFAULT_DEFICIT_WORDS.items()}
    for row in session.exec(
        select(StoryWordList).where(StoryWordList.organization_id == organization_id)
    ):
        lists[row.locale] = list(row.words)
    return lists


def parse_words(raw: str) -> list[str]:
    """One word or phrase a line (or between commas), without repeats."""
    words = [clean_text(w).lower()[:80] for w in re.split(r"[\n,]+", raw)]
    return list(dict.fromkeys(w for w in words if w))[:MAX_DEFICIT_WORDS]


def set_word_list(
    session: Session, *, organization_id: int, locale: str, words: list[str]
) -> StoryWordList:
    row = session.get(StoryWordList, (organization_id, locale))
    if row is None:
        row = StoryWordList(organization_id=organization_id, locale=locale)
    row.words, row.updated_at = words, utcnow()
    session.add(row)
    session.flush()
    return row


def deficit_words_in(text: str, lists: dict[str, list[str]]) -> list[str]:
    """The listed words the text uses (whole words, any case), in the text's order."""
    found: dict[str, int] = {}
    for words in lists.values():
        for word in words:
            match = re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text, re.IGNORECASE)
            if match and word not in found:
                found[word] = match.start()
    return sorted(found, key=lambda w: found[w])


# --- closing an account ----------------------------------------------------------------------


def withdraw_for_closure(
    session: Session,
    *,
    pairs: list[tuple[Enrollment, Organization]],
    base_url: str = "",
    now: datetime | None = None,
) -> list[Event]:
    """Before a closed account's stories are erased: every approved one is withdrawn, so
    its organization takes it down. The event names the story and where it was published,
    never its words (the ledger keeps no values of a closed account)."""
    now = now or utcnow()
    told = []
    for enrollment, organization in pairs:
        for story in stories_of_enrollment(session, enrollment_id=enrollment.id):
            if story.state != "approved":
                continue
            payload = {
                "id": story.id,
                "state": "withdrawn",
                "published": {
                    "where": story.published_where,
                    "at": story.published_at.isoformat(),
                }
                if story.published_at
                else None,
                "reason": "participant.closed",
            }
            told.append(
                _tell(
                    session,
                    story=story,
                    enrollment=enrollment,
                    organization=organization,
                    type="story.withdrawn",
                    base_url=base_url,
                    now=now,
                    payload=payload,
                )
            )
    return told
