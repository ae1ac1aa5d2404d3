"""Version numbers that say when what a participant sees of an organization has changed.

`Enrollment.record_version` grows in the same transaction as any change to a row of that
enrollment that the home page shows (a holding, disclosure, consent, correction, statement,
deletion request, event or its acknowledgement, the enrollment itself); `Organization.plan_version` grows with
any change to the organization or its plan. The home page keeps each organization's rendered
section under these numbers (app/participants/home_cache.py): a section is reused only while
nothing it shows has changed, in any process, since the numbers live in the database.

The bump happens after every ORM flush, so no write path can forget it. Statements that bypass
the ORM (bulk `update()`/`delete()`) must bump themselves; the only ones on these tables are in
account closure, after which nobody can see the page.
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


@event.listens_for(Session, "after_flush")
def bump_record_versions(session: Session, _flush: UOWTransaction, *_: Any) -> None:
    enrollments, organizations = _changed(session)
    connection = session.connection()
    # Sorted, so two transactions lock the same rows in the same order (no deadlock).
    if enrollments:
        connection.execute(
            update(_enrollment)
            .where(_enrollment.c.id.in_(sorted(enrollments)))
            .values(record_version=_enrollment.c.record_version + 1)
        )
    organizations.discard(None)  # type: ignore[arg-type]
    if organizations:
        connection.execute(
            update(_organization)
            .where(_organization.c.id.in_(sorted(organizations)))
            .values(plan_version=_organization.c.plan_version + 1)
        )
