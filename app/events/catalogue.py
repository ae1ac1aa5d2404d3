"""The event catalogue: every event type an organization can receive, and what it means (to
the organization, and in plain words to the participant)."""

from __future__ import annotations

from dataclasses import dataclass

from app.i18n import lazy_gettext as _l

DEFAULT_ACK_DAYS = 30


@dataclass(frozen=True)
class EventType:
    name: str
    asks_to_act: bool
    doc: str


CATALOGUE: tuple[EventType, ...] = (
    EventType("consent.given", False, "The participant gave consent for a purpose."),
    EventType(
        "consent.withdrawn",
        True,
        "The participant withdrew consent: stop using and sharing the data for this purpose.",
    ),
    EventType(
        "consent.expired",
        True,
        "A consent reached its expiry: it no longer covers use or sharing for this purpose.",
    ),
    EventType(
        "correction.requested",
        True,
        "The participant asks for a holding to be corrected; resolve it by `due_by`.",
    ),
    EventType("data.corrected", True, "A holding was corrected: update your copy."),
    EventType(
        "statement.added",
        True,
        "The participant disagrees with a holding; pass the statement along with the data.",
    ),
    EventType("deletion.requested", True, "The participant asks for a holding to be deleted."),
    EventType(
        "participant.closed",
        True,
        "The participant closed their portal account.",
    ),
    EventType(
        "context.shared",
        True,
        "The participant shared their own context (a strength, a goal, something case managers "
        "should know) with you: add it to their record in their words.",
    ),
    EventType(
        "context.withdrawn",
        True,
        "The participant withdrew context they had shared with you: stop using it.",
    ),
    EventType(
        "concern.raised",
        True,
        "The participant raised a concern (a disclosure without consent, an overdue answer) "
        "with you and the network administrators: answer it.",
    ),
    EventType(
        "story.approved",
        False,
        "The participant approved the exact text of a story for its named use: you may "
        "publish this version (`story.text_version`), and only it.",
    ),
    EventType(
        "story.changes_requested",
        False,
        "The participant asks for changes to a story (`story.what_to_change`): edit it, and "
        "they are asked again.",
    ),
    EventType("story.declined", False, "The participant declined a story: do not publish it."),
    EventType(
        "story.withdrawn",
        True,
        "The participant withdrew their approval of a story: take it down wherever it was "
        "published, then acknowledge.",
    ),
)

EVENT_TYPES = tuple(t.name for t in CATALOGUE)
ACTION_EVENT_TYPES = frozenset(t.name for t in CATALOGUE if t.asks_to_act)

# What each event in the ledger was, in the participant's words: the printable download and a
# concern's history both show them.
EVENT_WORDS = {
    "consent.given": _l("Consent given"),
    "consent.withdrawn": _l("Consent withdrawn"),
    "consent.expired": _l("Consent expired"),
    "correction.requested": _l("Correction requested"),
    "data.corrected": _l("Data corrected"),
    "statement.added": _l("Statement of disagreement added"),
    "deletion.requested": _l("Deletion requested"),
    "participant.closed": _l("Account closed"),
    "context.shared": _l("Your own words shared"),
    "context.withdrawn": _l("Your own words withdrawn"),
    "concern.raised": _l("Concern raised"),
    "story.approved": _l("Story approved"),
    "story.changes_requested": _l("Changes to a story asked for"),
    "story.declined": _l("Story declined"),
    "story.withdrawn": _l("Approval of a story withdrawn"),
}
