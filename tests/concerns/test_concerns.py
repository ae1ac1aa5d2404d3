"""A participant raises a concern about a disclosure made without their consent, or a
correction answered late: it reaches the organization as a request to answer and the network
administrators on /admin, and every answer comes back to the participant's concern page."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.concerns.models import Concern, ConcernReply
from app.db import utcnow
from app.disclosures.models import Disclosure
from app.organizations.service import create_network_admin
from app.participants.models import Enrollment
from tests.factories import (
    Person,
    World,
    another_browser,
    consent_url,
    corrections,
    csrf_from,
    decide,
    enroll,
    events,
    page_csrf,
    request_correction,
    send_form,
    sign_up,
)

ADMIN_EMAIL = "ombuds@network.example"
ADMIN_PASSWORD = "correct horse battery"
WHAT_HAPPENED = "They gave my phone number to the county. I never agreed to that."


@pytest.fixture
def ombuds(app: Any, db: Session, world: World) -> Iterator[TestClient]:
    create_network_admin(db, email=ADMIN_EMAIL, password=ADMIN_PASSWORD)
    db.commit()
    for c in another_browser(app):
        page = c.get("/admin/login")
        r = c.post(
            "/admin/login",
            data={
                "email": ADMIN_EMAIL,
                "password": ADMIN_PASSWORD,
                "csrf_token": csrf_from(page.text),
            },
        )
        assert r.status_code == 303
        yield c


def _flagged(db: Session) -> Disclosure:
    db.expire_all()
    rows = db.exec(select(Disclosure).where(Disclosure.recipient_organization_id.is_(None))).all()  # type: ignore[union-attr]
    (disclosure,) = rows
    assert disclosure.flagged
    return disclosure


def _raise(client: TestClient, path: str, text: str = WHAT_HAPPENED) -> Any:
    return send_form(client, path, {"what_happened": text})


def _concerns(db: Session) -> list[Concern]:
    db.expire_all()
    return list(db.exec(select(Concern)))


def test_raise_on_a_flagged_disclosure_reaches_the_org_and_the_admins(
    world, db, desk, eastside_desk, ombuds
):
    disclosure = _flagged(db)
    path = f"/disclosures/{disclosure.id}/concern"
    home = world.maria.get("/").text
    assert f'href="{path}"' in home and "Raise a concern" in home

    form = world.maria.get(path)
    assert form.status_code == 200
    assert '<label for="what_happened">What happened</label>' in form.text
    response = _raise(world.maria, path)
    assert response.status_code == 303, response.text
    (concern,) = _concerns(db)
    assert response.headers["location"].startswith(f"{path}?raised={concern.id}")
    assert concern.text == WHAT_HAPPENED and concern.subject_type == "disclosure"

    # Encrypted at rest: the database holds only ciphertext.
    stored = db.connection().exec_driver_sql("SELECT text FROM concern").scalar_one()
    assert stored.startswith("enc1:") and "county" not in stored

    # The organization's event, with the ack URL like every event that asks it to act.
    (event,) = events(db, type="concern.raised")
    assert concern.event_id == event.id
    assert event.data["concern"]["text"] == WHAT_HAPPENED
    assert event.data["concern"]["about"]["type"] == "disclosure"
    assert event.data["ack_url"].endswith(f"/api/v1/events/{event.id}/ack")
    feed = world.holder.get("/api/v1/events").json()
    assert any(item["data"]["event_id"] == event.id for item in feed["events"])

    requests = desk.get("/staff/requests").text
    assert "Requests to answer (1)" in requests
    assert "Hennepin County without their consent" in requests
    one = desk.get(f"/staff/requests/{event.id}").text
    assert WHAT_HAPPENED in one and "Mark as done" in one

    # Another organization's staff don't see it, and can't answer it.
    assert "Requests to answer (0)" in eastside_desk.get("/staff/requests").text
    assert eastside_desk.get(f"/staff/requests/{event.id}").status_code == 404
    r = send_form(
        eastside_desk,
        f"/staff/requests/{event.id}",
        {"answer": "done", "note": "x"},
        page="/staff/requests",
    )
    assert r.status_code == 404

    dashboard = ombuds.get("/admin").text
    assert "Open concerns" in dashboard
    assert f'id="concern-{concern.id}"' in dashboard
    assert "Northside Food Shelf" in dashboard and WHAT_HAPPENED in dashboard


def test_admin_reply_and_org_answer_are_seen_by_the_participant(world, db, desk, ombuds):
    path = f"/disclosures/{_flagged(db).id}/concern"
    assert _raise(world.maria, path).status_code == 303
    (concern,) = _concerns(db)

    r = send_form(
        ombuds,
        f"/admin/concerns/{concern.id}/reply",
        {"reply": "We asked Northside to explain."},
        page="/admin",
    )
    assert r.status_code == 303, r.text
    (reply,) = db.exec(select(ConcernReply)).all()
    assert reply.admin_name == ADMIN_EMAIL
    stored = db.connection().exec_driver_sql("SELECT text FROM concern_reply").scalar_one()
    assert stored.startswith("enc1:")
    page = world.maria.get(path).text
    assert "We asked Northside to explain." in page
    assert f"Reply from {ADMIN_EMAIL}, network administrator" in page

    # Still open on /admin until the organization answers too.
    assert f'id="concern-{concern.id}"' in ombuds.get("/admin").text

    event_id = concern.event_id
    r = send_form(
        desk,
        f"/staff/requests/{event_id}",
        {"answer": "done", "note": "We asked the county to delete it."},
    )
    assert r.status_code == 303, r.text
    page = world.maria.get(path).text
    assert "Northside Food Shelf answered that it acted on your concern." in page
    assert "We asked the county to delete it." in page
    assert "Answered by Ana Reyes of Northside Food Shelf" in page
    assert "Requests to answer (0)" in desk.get("/staff/requests").text
    # Answered by both: no longer open.
    assert f'id="concern-{concern.id}"' not in ombuds.get("/admin").text
    assert ombuds.get(f"/admin/concerns/{concern.id}").status_code == 200

    # Download my data holds the concern, the reply and the organization's answer.
    (exported,) = world.maria.get("/download").json()["organizations"][:1]
    (mine,) = exported["concerns"]
    assert mine["what_happened"] == WHAT_HAPPENED and mine["about"]["type"] == "disclosure"
    assert [r["text"] for r in mine["replies"]] == ["We asked Northside to explain."]
    (answer,) = [e for e in exported["events"] if e["id"] == event_id]
    assert answer["acknowledgement"]["by"] == "Ana Reyes"


def test_an_api_decline_is_shown_too(world, db):
    path = f"/disclosures/{_flagged(db).id}/concern"
    assert _raise(world.maria, path).status_code == 303
    (concern,) = _concerns(db)
    r = world.holder.post(
        f"/api/v1/events/{concern.event_id}/ack",
        {"outcome": "declined", "note": "The county had a court order."},
    )
    assert r.status_code in (200, 201), r.text
    page = world.maria.get(path).text
    assert "Northside Food Shelf declined to act on your concern." in page
    assert "The county had a court order." in page


def test_raise_on_an_overdue_correction(world, db, desk):
    assert request_correction(world.maria, world.phone).status_code == 303
    (correction,) = corrections(db)
    path = f"/corrections/{correction.id}/concern"
    # Not overdue yet: nothing to raise, no page.
    assert world.maria.get(path).status_code == 404
    correction.due_by = utcnow() - timedelta(days=1)
    db.add(correction)
    db.commit()
    assert f'href="{path}"' in world.maria.get("/").text
    assert _raise(world.maria, path, "Nobody answered me.").status_code == 303
    (concern,) = _concerns(db)
    assert concern.subject_type == "correction" and concern.subject_id == correction.id
    requests = desk.get("/staff/requests").text
    assert "did not answer their correction of Phone number in time" in requests
    assert "Nobody answered me." in world.maria.get(path).text


def test_raise_on_an_overdue_withdrawal(world, db, desk):
    """Any request answered late, not only a correction: here a withdrawal Northside did not
    acknowledge by its due date."""
    enrollment = db.exec(select(Enrollment).where(Enrollment.external_ref == "N-1")).one()
    maria = Person("maria", "482913", enrollment.id, "N-1")
    assert decide(world.maria, maria, "give").status_code == 303
    assert decide(world.maria, maria, "withdraw").status_code == 303
    (withdrawal,) = events(db, type="consent.withdrawn", role="holder")
    path = f"/requests/{withdrawal.id}/concern"
    assert world.maria.get(path).status_code == 404  # not late yet
    withdrawal.ack_due_by = utcnow() - timedelta(days=1)
    db.add(withdrawal)
    db.commit()
    consent_page = world.maria.get(consent_url(maria)).text
    assert f'href="{path}"' in consent_page
    assert _raise(world.maria, path, "Nobody stopped sharing.").status_code == 303
    (concern,) = _concerns(db)
    assert concern.subject_type == "request" and concern.subject_id == withdrawal.id
    assert "did not answer their request in time" in desk.get("/staff/requests").text
    # A recipient's copy of the same withdrawal is not the participant's to raise here.
    for recipient_copy in events(db, type="consent.withdrawn", role="recipient"):
        assert world.maria.get(f"/requests/{recipient_copy.id}/concern").status_code == 404
    # Once answered, no new concern can be raised; the page keeps the one raised.
    ack = world.holder.post(f"/api/v1/events/{withdrawal.id}/ack", {"outcome": "done"})
    assert ack.status_code == 200, ack.text
    page = world.maria.get(path).text
    assert "Nobody stopped sharing." in page and 'name="what_happened"' not in page


def test_empty_or_too_long_text_is_a_form_error_and_saves_nothing(world, db):
    path = f"/disclosures/{_flagged(db).id}/concern"
    r = _raise(world.maria, path, "   ")
    assert r.status_code == 400
    assert "There is a problem" in r.text and "Write what happened." in r.text
    assert 'href="#what_happened"' in r.text
    r = _raise(world.maria, path, "x" * 2001)
    assert r.status_code == 400 and "too long" in r.text
    assert _concerns(db) == []
    assert events(db, type="concern.raised") == []
    # In the participant's language.
    r = send_form(world.maria, path, {"what_happened": ""}, page=f"{path}?lang=es")
    assert r.status_code == 400 and '<html lang="es"' in r.text


def test_another_participant_can_not_see_or_post(app, world, db):
    path = f"/disclosures/{_flagged(db).id}/concern"
    assert _raise(world.maria, path).status_code == 303
    code = enroll(world.holder, "N-2")
    for rosa in another_browser(app):
        sign_up(rosa, code, "rosa")
        assert rosa.get(path).status_code == 404
        token = page_csrf(rosa, "/")
        r = rosa.post(path, data={"csrf_token": token, "what_happened": "mine now"})
        assert r.status_code == 404
        (concern,) = _concerns(db)
        assert rosa.get(f"/admin/concerns/{concern.id}").status_code == 303  # admins only
        r = rosa.post(
            f"/admin/concerns/{concern.id}/reply", data={"csrf_token": token, "reply": "x"}
        )
        assert r.status_code == 303 and r.headers["location"].startswith("/admin/login")
    assert len(_concerns(db)) == 1
    assert db.exec(select(ConcernReply)).all() == []


def test_without_the_csrf_token_it_is_refused(world, db, ombuds):
    path = f"/disclosures/{_flagged(db).id}/concern"
    r = world.maria.post(path, data={"what_happened": WHAT_HAPPENED})
    assert r.status_code == 403
    assert _concerns(db) == []
    assert _raise(world.maria, path).status_code == 303
    (concern,) = _concerns(db)
    r = ombuds.post(f"/admin/concerns/{concern.id}/reply", data={"reply": "hello"})
    assert r.status_code == 403
    assert db.exec(select(ConcernReply)).all() == []


def test_an_empty_admin_reply_is_a_form_error(world, db, ombuds):
    path = f"/disclosures/{_flagged(db).id}/concern"
    assert _raise(world.maria, path).status_code == 303
    (concern,) = _concerns(db)
    r = send_form(ombuds, f"/admin/concerns/{concern.id}/reply", {"reply": ""}, page="/admin")
    assert r.status_code == 400 and "Write your reply." in r.text
    assert db.exec(select(ConcernReply)).all() == []
