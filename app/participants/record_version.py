"""Version numbers that say when what a participant sees of an organization has changed.

`Enrollment.record_version` grows in the same transaction as any change to a row of that
enrollment that the home page shows (a holding, disclosure, consent, correction, statement,
deletion request, event or its acknowledgement, the enrollment itself);
`Organization.plan_version` grows with any change to the organization or its plan. The home
page keeps each organization's rendered section under these numbers (app/home/
cache.py): a section is reused only while nothing it shows has changed, in any process,
since the numbers live in the database.

Every ORM flush records what it changed, so no write path can forget it; the numbers grow just
before the transaction commits. Statements that bypass the ORM (bulk `update()`/`delete()`)
must bump themselves; the only ones on these tables are in account closure, after which nobody
can see the page.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import column, event, table, update
from sqlalchemy.orm import Session, UOWTransaction

# The tables whose rows the home page shows, by what they belong to. A new table shown there
# must be added here (tests/web/test_home_sections.py changes each kind and looks again).
ENROLLMENT_TABLES = {
    "holding",
    "disclosure",
    "consent",
    "correction",
    "statement",
    "deletion_request",
    "event",  # acknowledgements: a deletion confirmed, a correction passed on
}

# Lightweight table clauses: this module is imported by the models, so it can't import them.
_enrollment = table("enrollment", column("id"), column("record_version"))
_organization = table("organization", column("id"), column("plan_version"))


def _changed(session: Session) -> tuple[set[str], set[int]]:
    enrollments: set[str] = set()
    organizations: set[int] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        name = getattr(obj, "__tablename__", None)
        if name == "enrollment":
            enrollments.add(obj.id)
        elif name == "organization":
            organizations.add(obj.id)
        elif name == "purpose":
            organizations.add(obj.organization_id)
        elif name in ENROLLMENT_TABLES:
            enrollments.add(obj.enrollment_id)
    return enrollments, organizations


_CHANGED = "record_versions_to_bump"


@event.listens_for(Session, "after_flush")
def _remember_changes(session: Session, _flush: UOWTransaction) -> None:
    enrollments, organizations = _changed(session)
    if enrollments or organizations:
        pending = session.info.setdefault(_CHANGED, (set(), set()))
        pending[0].update(enrollments)
        pending[1].update(o for o in organizations if o is not None)


# First among the before-commit hooks (insert=True), whatever the import order: the version
# rows, then the feed counters (app/events/feed.py), always in that order and each in sorted
# order, at the very end of every transaction. Two transactions that touch the same
# enrollments can then only wait for each other, never deadlock.
@event.listens_for(Session, "before_commit", insert=True)
def bump_record_versions(session: Session) -> None:
    session.flush()  # commit flushes after this hook: collect what is still unwritten
    pending = session.info.pop(_CHANGED, None)
    if not pending:
        return
    enrollments, organizations = pending
    connection = session.connection()
    if enrollments:
        connection.execute(
            update(_enrollment)
            .where(_enrollment.c.id.in_(sorted(enrollments)))
            .values(record_version=_enrollment.c.record_version + 1)
        )
    if organizations:
        connection.execute(
            update(_organization)
            .where(_organization.c.id.in_(sorted(organizations)))
            .values(plan_version=_organization.c.plan_version + 1)
        )


@event.listens_for(Session, "after_transaction_end")
def _forget_changes(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # rolled back or closed without a commit
        session.info.pop(_CHANGED, None)
