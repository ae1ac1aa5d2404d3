"""Feed positions: the order in which an organization's events became visible.

The pull feed (`GET /api/v1/events?after=…`) hands out a cursor and later returns what comes
after it. Ordering by the time an event was made is not safe: that time is set before its
transaction commits, so a transaction that commits late can land *behind* a cursor a reader
already holds, and that event is never read. Positions are therefore given at commit time:
right before a transaction that recorded events commits, it advances its organizations'
counters (row locks held until the commit) and numbers its events. A transaction that takes
a position commits before the next one can take one, so a reader that has seen position n
has seen everything up to n, for good.

The counter rows are the last locks a transaction takes (just before COMMIT, in organization
order), so taking them can't deadlock with the locks its own writes took earlier.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Connection, bindparam, column, event, table, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, UOWTransaction
from sqlalchemy.orm.attributes import set_committed_value

# Lightweight table clauses: this module is imported by the models, so it can't import them.
_event = table("event", column("id"), column("feed_position"))
_counter = table("feed_counter", column("organization_id"), column("position"))
_PENDING = "events_waiting_for_a_feed_position"


@event.listens_for(Session, "after_flush")
def _remember_new_events(session: Session, _flush: UOWTransaction) -> None:
    new = [obj for obj in session.new if getattr(obj, "__tablename__", None) == "event"]
    if new:
        session.info.setdefault(_PENDING, []).extend(new)


@event.listens_for(Session, "before_commit")
def _give_feed_positions(session: Session) -> None:
    # Commit flushes after this hook: flush now, so events added since the last flush are
    # numbered too (a no-op when there is nothing to write).
    session.flush()
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    by_organization: dict[int, list[Any]] = defaultdict(list)
    for new_event in pending:
        by_organization[new_event.organization_id].append(new_event)
    connection = session.connection()
    for organization_id in sorted(by_organization):
        events = by_organization[organization_id]
        last = _advance(connection, organization_id, len(events))
        first = last - len(events) + 1
        connection.execute(
            update(_event)
            .where(_event.c.id == bindparam("event_id"))
            .values(feed_position=bindparam("position")),
            [{"event_id": e.id, "position": first + n} for n, e in enumerate(events)],
        )
        for n, numbered in enumerate(events):
            set_committed_value(numbered, "feed_position", first + n)


@event.listens_for(Session, "after_transaction_end")
def _forget_rolled_back_events(session: Session, transaction: Any) -> None:
    # A transaction that ended without committing (rolled back, or its session closed) leaves
    # no events behind to number.
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


def _advance(connection: Connection, organization_id: int, count: int) -> int:
    """Move the organization's counter on by `count`; returns the last position taken."""
    insert = postgresql_insert if connection.dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(_counter)
        .values(organization_id=organization_id, position=count)
        .on_conflict_do_update(
            index_elements=[_counter.c.organization_id],
            set_={"position": _counter.c.position + count},
        )
        .returning(_counter.c.position)
    )
    return int(connection.execute(statement).scalar_one())
