"""The webhook-endpoint and event API: shapes, isolation between organizations, the pull
feed, acknowledgements and redelivery."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from sqlmodel import Session

from app.db import utcnow
from app.events.models import Event
from app.events.service import record_event
from app.organizations.service import get_organization
from app.participants.service import enroll, find_enrollment
from tests.factories import add_endpoint, consent, deliveries, enroll_with_purpose
from tests.webhooks.receiver import Reply


def _past_events(
    db: Session, slug: str, count: int, *, ref: str = "P-1", seconds_ago: int = 300
) -> list[Event]:
    """`count` events, one a second, starting `seconds_ago`."""
    organization = get_organization(db, slug)
    enrollment = find_enrollment(db, organization_id=organization.id, external_ref=ref)
    if enrollment is None:
        enrollment, _ = enroll(
            db, organization=organization, external_ref=ref, preferred_language=None
        )
    start = utcnow() - timedelta(seconds=seconds_ago)
    events = [
        record_event(
            db,
            enrollment_id=enrollment.id,
            organization_id=organization.id,
            type="consent.withdrawn",
            data={"organization": slug, "participant": {"external_ref": ref}},
            base_url="http://testserver",
            now=start + timedelta(seconds=i),
        )
        for i in range(count)
    ]
    db.commit()
    return events


# --- endpoints ---------------------------------------------------------------------------


def test_create_list_and_delete_an_endpoint(org):
    created = org.post(
        "/api/v1/webhook-endpoints",
        {"url": "http://127.0.0.1:9000/hooks", "event_types": ["consent.withdrawn"]},
    )
    assert created.status_code == 201
    body = created.json()
    assert body["id"].startswith("we_") and body["url"] == "http://127.0.0.1:9000/hooks"
    assert body["event_types"] == ["consent.withdrawn"]
    assert body["secret"].startswith("whsec_")
    assert len(base64.b64decode(body["secret"].removeprefix("whsec_"))) == 32

    listed = org.get("/api/v1/webhook-endpoints")
    assert listed.status_code == 200
    (item,) = listed.json()["endpoints"]
    assert item["id"] == body["id"] and item["event_types"] == ["consent.withdrawn"]
    assert "secret" not in item and body["secret"] not in listed.text

    assert org.delete(f"/api/v1/webhook-endpoints/{body['id']}").status_code == 204
    assert org.get("/api/v1/webhook-endpoints").json() == {"endpoints": []}
    assert org.delete(f"/api/v1/webhook-endpoints/{body['id']}").status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"url": "http://127.0.0.1:9000/hooks", "event_types": ["consent.eaten"]},
        {"url": "http://127.0.0.1:9000/hooks", "event_types": []},
        {"url": "gopher://127.0.0.1/hooks"},
        {"url": ""},
        {"url": "http://127.0.0.1/" + "a" * 2000},
        {"url": "http://127.0.0.1/\x00"},
        {"url": "http://127.0.0.1/", "secret": "mine"},
        {},
    ],
)
def test_bad_endpoints_are_refused_with_422(org, body):
    response = org.post("/api/v1/webhook-endpoints", body)
    assert response.status_code == 422
    assert response.json()["detail"]


def test_rotating_returns_a_new_secret(org):
    endpoint = add_endpoint(org, "http://127.0.0.1:9000/hooks")
    rotated = org.post(f"/api/v1/webhook-endpoints/{endpoint['id']}/rotate-secret")
    assert rotated.status_code == 200
    assert rotated.json()["secret"].startswith("whsec_")
    assert rotated.json()["secret"] != endpoint["secret"]
    assert rotated.json()["previous_secret_expires_at"]


def test_attempts_are_listed_newest_first(org, receiver, make_worker, clock, engine):
    endpoint = add_endpoint(org, receiver.url("/hook"))
    receiver.script("/hook", Reply(status=500), Reply(status=502))
    enroll_with_purpose(org)
    consent(org, state="given")
    worker = make_worker()
    worker.run_once_sync()
    clock.advance(timedelta(seconds=10))
    worker.run_once_sync()
    clock.advance(timedelta(minutes=10))
    worker.run_once_sync()

    response = org.get(f"/api/v1/webhook-endpoints/{endpoint['id']}/attempts")
    assert response.status_code == 200
    listed = response.json()["attempts"]
    assert [a["status_code"] for a in listed] == [200, 502, 500]
    assert [a["delivered"] for a in listed] == [True, False, False]
    assert listed[0]["attempted_at"] > listed[1]["attempted_at"] > listed[2]["attempted_at"]
    (delivery,) = deliveries(engine)
    assert {a["webhook_id"] for a in listed} == {delivery.event_id}


def test_another_organizations_endpoints_are_not_found(make_org):
    northside = make_org("northside", "Northside")
    southside = make_org("southside", "Southside")
    endpoint = add_endpoint(northside, "http://127.0.0.1:9000/hooks")

    assert southside.get("/api/v1/webhook-endpoints").json() == {"endpoints": []}
    for method, path in [
        ("delete", f"/api/v1/webhook-endpoints/{endpoint['id']}"),
        ("post", f"/api/v1/webhook-endpoints/{endpoint['id']}/rotate-secret"),
        ("get", f"/api/v1/webhook-endpoints/{endpoint['id']}/attempts"),
    ]:
        response = getattr(southside, method)(path)
        assert response.status_code == 404, (method, path)
        assert response.json() == {"detail": "no such webhook endpoint"}
    # ...and it is untouched.
    assert northside.get("/api/v1/webhook-endpoints").json()["endpoints"][0]["id"] == endpoint["id"]


def test_the_endpoints_api_needs_a_key(client):
    assert client.get("/api/v1/webhook-endpoints").status_code == 401
    assert client.get("/api/v1/events").status_code == 401


# --- the event feed ----------------------------------------------------------------------


def test_the_feed_pages_through_events_in_order(org, make_org, db):
    make_org("southside", "Southside")
    mine = _past_events(db, "northside", 7)
    _past_events(db, "southside", 3)  # never in northside's feed

    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 3} | ({"after": cursor} if cursor else {})
        response = org.get("/api/v1/events", params=params)
        assert response.status_code == 200
        page = response.json()
        if not page["events"]:
            assert page["next"] == cursor  # nothing new: keep the same place
            break
        pages += 1
        seen += [e["id"] for e in page["events"]]
        cursor = page["next"]
    assert seen == [e.id for e in mine]
    assert pages == 3

    first = org.get("/api/v1/events", params={"limit": 1}).json()["events"][0]
    assert first["type"] == "consent.withdrawn"
    assert first["data"]["event_id"] == first["id"] == mine[0].id
    assert first["data"]["organization"] == "northside"
    assert first["data"]["version"] == 1
    assert first["data"]["ack_url"] == f"http://testserver/api/v1/events/{first['id']}/ack"
    assert first["timestamp"] == mine[0].created_at.isoformat()
    assert first["ack"] is None

    # Events recorded later show up after the cursor, and only they.
    later = _past_events(db, "northside", 2, seconds_ago=5)
    page = org.get("/api/v1/events", params={"after": cursor}).json()
    assert [e["id"] for e in page["events"]] == [e.id for e in later]


def _record(session: Session, ref: str = "A-1", slug: str = "northside") -> Event:
    organization = get_organization(session, slug)
    enrollment = find_enrollment(session, organization_id=organization.id, external_ref=ref)
    if enrollment is None:
        enrollment, _ = enroll(
            session, organization=organization, external_ref=ref, preferred_language=None
        )
    return record_event(
        session,
        enrollment_id=enrollment.id,
        organization_id=organization.id,
        type="consent.given",
        data={"organization": slug, "participant": {"external_ref": ref}},
    )


def test_an_event_shows_in_the_feed_as_soon_as_it_commits(org, db):
    event = _record(db)
    db.commit()
    page = org.get("/api/v1/events").json()
    assert [e["id"] for e in page["events"]] == [event.id]
    # A transaction that rolls back leaves no event and uses up no position.
    _record(db, ref="A-2")
    db.rollback()
    later = _record(db, ref="A-3")
    db.commit()
    assert later.feed_position == event.feed_position + 1
    page = org.get("/api/v1/events", params={"after": page["next"]}).json()
    assert [e["id"] for e in page["events"]] == [later.id]


def test_an_event_that_commits_late_is_not_skipped(org, db, engine):
    """The case that ordering by time got wrong: an event made first but committed last must
    still come after a cursor that has moved past the ones committed before it. (SQLite lets
    one transaction write at a time, so only PostgreSQL can interleave them like this.)"""
    if engine.dialect.name != "postgresql":
        pytest.skip("two writing transactions at once need PostgreSQL")
    _record(db, ref="A-1")  # the enrollments exist before the race
    _record(db, ref="A-2")
    db.commit()
    start = org.get("/api/v1/events").json()["next"]

    with Session(engine, expire_on_commit=False) as slow, Session(engine) as quick:
        late = _record(slow, ref="A-1")
        slow.flush()  # made, written, not yet committed
        early = _record(quick, ref="A-2")
        quick.commit()
        assert late.created_at < early.created_at
        page = org.get("/api/v1/events", params={"after": start}).json()
        assert [e["id"] for e in page["events"]] == [early.id]
        slow.commit()
    page = org.get("/api/v1/events", params={"after": page["next"]}).json()
    assert [e["id"] for e in page["events"]] == [late.id]


def test_a_cursor_of_the_earlier_form_still_works(org, db):
    first, second = _past_events(db, "northside", 2)
    old_style = f"{first.created_at.isoformat()}|{first.id}".encode()
    cursor = base64.urlsafe_b64encode(old_style).decode().rstrip("=")
    page = org.get("/api/v1/events", params={"after": cursor}).json()
    assert [e["id"] for e in page["events"]] == [second.id]


def test_a_cursor_that_is_not_ours_is_a_422(org):
    for cursor in ["not-a-cursor", "%%%", base64.urlsafe_b64encode(b"yesterday|x").decode()]:
        response = org.get("/api/v1/events", params={"after": cursor})
        assert response.status_code == 422, cursor


# --- acknowledgements and redelivery -----------------------------------------------------


def test_acknowledging_an_event(org, db, engine):
    (event,) = _past_events(db, "northside", 1)

    response = org.post(f"/api/v1/events/{event.id}/ack", {"outcome": "done", "note": "Deleted."})
    assert response.status_code == 200
    assert response.json()["ack"]["outcome"] == "done"
    assert response.json()["ack"]["note"] == "Deleted."
    with Session(engine) as session:
        stored = session.get(Event, event.id)
        assert stored.acked_at is not None and stored.ack_outcome == "done"
        assert stored.ack_note == "Deleted."

    # The same answer again is harmless; a different one is a conflict.
    again = org.post(f"/api/v1/events/{event.id}/ack", {"outcome": "done"})
    assert again.status_code == 200 and again.json()["ack"]["note"] == "Deleted."
    changed = org.post(f"/api/v1/events/{event.id}/ack", {"outcome": "declined"})
    assert changed.status_code == 409
    assert "already acknowledged" in changed.json()["detail"]
    feed = org.get("/api/v1/events").json()["events"]
    assert feed[0]["ack"]["outcome"] == "done"


@pytest.mark.parametrize(
    "body",
    [
        {"outcome": "maybe"},
        {},
        {"outcome": "done", "note": "x" * 2001},
        {"outcome": "done", "x": 1},
    ],
)
def test_a_bad_acknowledgement_is_a_422(org, db, body):
    (event,) = _past_events(db, "northside", 1)
    assert org.post(f"/api/v1/events/{event.id}/ack", body).status_code == 422


def test_another_organizations_event_is_not_found(make_org, db):
    northside = make_org("northside", "Northside")
    southside = make_org("southside", "Southside")
    (event,) = _past_events(db, "northside", 1)

    for path in [f"/api/v1/events/{event.id}/ack", f"/api/v1/events/{event.id}/redeliver"]:
        response = southside.post(path, {"outcome": "done"})
        assert response.status_code == 404
        assert response.json() == {"detail": "no such event"}
    assert southside.get(f"/api/v1/events/{event.id}").status_code == 404
    assert southside.get("/api/v1/events").json()["events"] == []
    assert northside.get(f"/api/v1/events/{event.id}").status_code == 200
    with Session(db.get_bind()) as session:
        assert session.get(Event, event.id).acked_at is None


def test_redeliver_answers_202_and_queues_again(org, db, engine):
    add_endpoint(org, "http://127.0.0.1:9/hook")
    (event,) = _past_events(db, "northside", 1)
    assert org.post(f"/api/v1/events/{event.id}/redeliver").json()["queued"] == 0  # still pending

    with Session(engine) as session:
        (delivery,) = deliveries(engine)
        delivery.status, delivery.attempts = "dead", 10
        session.add(delivery)
        session.commit()
    response = org.post(f"/api/v1/events/{event.id}/redeliver")
    assert response.status_code == 202
    assert response.json() == {"event_id": event.id, "queued": 1}
    (delivery,) = deliveries(engine)
    assert delivery.status == "pending" and delivery.attempts == 0


def test_redeliver_reaches_an_endpoint_added_after_the_event(org, db, engine):
    (event,) = _past_events(db, "northside", 1)
    assert deliveries(engine) == []
    endpoint = add_endpoint(org, "http://127.0.0.1:9/hook")
    assert org.post(f"/api/v1/events/{event.id}/redeliver").json()["queued"] == 1
    (delivery,) = deliveries(engine)
    assert delivery.endpoint_id == endpoint["id"] and delivery.event_id == event.id
