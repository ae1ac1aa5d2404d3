"""Stories through the API and the participant's page: only the approved current text can be
published, an edit asks again, each answer is an event, a withdrawal reaches a real receiver
and is acknowledged; the words are encrypted at rest, and no one reaches another's story."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text
from sqlmodel import select
from standardwebhooks import Webhook

from app.participants.models import Participant
from app.stories.models import Story
from app.stories.service import stories_for_participant
from app.webhooks.delivery import DeliveryWorker
from tests.factories import (
    add_endpoint,
    deliver,
    enrollment,
    events,
    page_csrf,
    send_form,
    sign_up,
)

TEXT = "Maria fixes bikes for the whole block.\nShe wants to open a shop."
BODY = {"title": "Maria's bikes", "text": TEXT, "use": {"en": "Our 2026 annual report"}}


def draft(org, ref="A-1", **overrides):
    r = org.post(f"/api/v1/participants/{ref}/stories", {**BODY, **overrides})
    assert r.status_code == 201, r.text
    return r.json()


def answer(client, story_id, decision, **fields):
    page = client.get(f"/stories/{story_id}")
    assert page.status_code == 200, page.text
    version = page.text.split('name="text_version" value="')[1].split('"')[0]
    return client.post(
        f"/stories/{story_id}",
        data={
            "csrf_token": page_csrf(client, f"/stories/{story_id}"),
            "decision": decision,
            "text_version": version,
            **fields,
        },
    )


def publish(org, story_id, where="Annual report 2026, page 4"):
    return org.post(f"/api/v1/stories/{story_id}/publish", {"where": where})


def test_only_the_approved_current_text_can_be_published(person, client):
    org = person.org
    created = draft(org)
    assert created["state"] == "awaiting" and created["story_id"].startswith("sty_")
    story_id = created["story_id"]
    assert publish(org, story_id).status_code == 409

    page = client.get(f"/stories/{story_id}")
    assert TEXT.split("\n")[0] in page.text and "Our 2026 annual report" in page.text
    assert "Northside Food Shelf" in page.text
    r = answer(client, story_id, "approve")
    assert r.status_code == 303 and r.headers["location"].endswith("?done=approve#answer")
    assert "Approved." in client.get(r.headers["location"]).text

    published = publish(org, story_id)
    assert published.status_code == 200, published.text
    assert published.json()["published"]["where"] == "Annual report 2026, page 4"

    edited = org.put(f"/api/v1/stories/{story_id}", {"text": TEXT + " She is a mentor."})
    assert edited.status_code == 200 and edited.json()["state"] == "awaiting"
    assert edited.json()["text_version"] == 2
    assert publish(org, story_id).status_code == 409
    answer(client, story_id, "approve")
    assert publish(org, story_id).status_code == 200
    got = org.get(f"/api/v1/stories/{story_id}").json()
    assert got["state"] == "approved" and got["approved_version"] == 2


def test_ask_for_changes_needs_what_to_change_then_an_edit_asks_again(person, client, db):
    org = person.org
    story_id = draft(org)["story_id"]
    empty = answer(client, story_id, "changes", what_to_change="  ")
    assert empty.status_code == 400
    assert "Say what to change." in empty.text and 'aria-invalid="true"' in empty.text
    assert org.get(f"/api/v1/stories/{story_id}").json()["state"] == "awaiting"

    r = answer(client, story_id, "changes", what_to_change="Say I run the repair club.")
    assert r.status_code == 303
    got = org.get(f"/api/v1/stories/{story_id}").json()
    assert got["state"] == "changes_requested"
    assert got["what_to_change"] == "Say I run the repair club."
    (event,) = events(db, type="story.changes_requested")
    assert event.data["story"]["what_to_change"] == "Say I run the repair club."
    assert event.ack_due_by is None
    assert publish(org, story_id).status_code == 409

    org.put(f"/api/v1/stories/{story_id}", {"text": TEXT + " She runs the repair club."})
    assert org.get(f"/api/v1/stories/{story_id}").json()["state"] == "awaiting"
    assert "She runs the repair club." in client.get(f"/stories/{story_id}").text


def test_decline_stands(person, client, db):
    org = person.org
    story_id = draft(org)["story_id"]
    assert answer(client, story_id, "decline").status_code == 303
    assert org.get(f"/api/v1/stories/{story_id}").json()["state"] == "declined"
    assert [e.type for e in events(db) if e.type.startswith("story.")] == ["story.declined"]
    assert publish(org, story_id).status_code == 409
    assert org.put(f"/api/v1/stories/{story_id}", {"text": "Changed"}).status_code == 409
    page = client.get(f"/stories/{story_id}")
    assert "Declined by you" in page.text and 'value="approve"' not in page.text


def test_an_answer_to_words_that_changed_meanwhile_is_not_taken(person, client):
    org = person.org
    story_id = draft(org)["story_id"]
    token = page_csrf(client, f"/stories/{story_id}")
    org.put(f"/api/v1/stories/{story_id}", {"text": "Other words entirely."})
    r = client.post(
        f"/stories/{story_id}",
        data={"csrf_token": token, "decision": "approve", "text_version": "1"},
    )
    assert r.status_code == 409 and "Read them again" in r.text
    assert "Other words entirely." in r.text
    assert org.get(f"/api/v1/stories/{story_id}").json()["state"] == "awaiting"


def test_withdrawal_is_delivered_verified_and_acknowledged(person, client, db, engine, settings):
    from tests.webhooks.receiver import Receiver

    org = person.org
    receiver = Receiver().start()
    try:
        secret = add_endpoint(org, receiver.url("/northside"))["secret"]
        worker = DeliveryWorker(engine, settings, timeout=2.0)
        story_id = draft(org)["story_id"]
        answer(client, story_id, "approve")
        publish(org, story_id)
        r = answer(client, story_id, "withdraw")
        assert r.status_code == 303
        assert "asked to take it down" in client.get(r.headers["location"]).text
        assert publish(org, story_id).status_code == 409
        # One participant's events reach an endpoint in order: a round may carry only the first.
        for _round in range(5):
            if len(receiver.to("/northside")) >= 2:
                break
            deliver(worker)
        verified = [Webhook(secret).verify(m.body, m.headers) for m in receiver.to("/northside")]
        by_type = {payload["type"]: payload for payload in verified}
        approved, withdrawn = by_type["story.approved"], by_type["story.withdrawn"]
    finally:
        receiver.stop()
    assert approved["data"]["story"]["text"] == TEXT
    assert "ack_url" not in approved["data"]
    data = withdrawn["data"]
    assert data["participant"] == {"external_ref": "A-1"} and data["organization"] == "northside"
    assert data["story"]["id"] == story_id
    assert data["story"]["published"]["where"] == "Annual report 2026, page 4"
    assert data["ack_url"].endswith(f"/api/v1/events/{data['event_id']}/ack")
    ack = org.post(f"/api/v1/events/{data['event_id']}/ack", {"outcome": "done", "note": "Down."})
    assert ack.status_code == 200, ack.text
    (event,) = events(db, type="story.withdrawn")
    assert event.ack_outcome == "done"


def test_the_words_are_encrypted_at_rest(person, client, engine):
    story_id = draft(person.org)["story_id"]
    answer(client, story_id, "changes", what_to_change="Leave out my street.")
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT title, text, change_request FROM story WHERE id = :id"), {"id": story_id}
        ).one()
    assert all(value.startswith("enc1:") for value in row)
    raw = " ".join(row)
    assert "bikes" not in raw and "street" not in raw


def test_bad_input_is_a_4xx_with_detail(person):
    org = person.org
    for body in (
        {**BODY, "text": ""},
        {**BODY, "text": "   "},
        {**BODY, "title": ""},
        {**BODY, "use": {}},
        {"title": "x", "text": "y"},
        {**BODY, "text": "a\x00b"},
    ):
        r = org.post("/api/v1/participants/A-1/stories", body)
        assert 400 <= r.status_code < 500 and "detail" in r.json(), (body, r.text)
    r = org.post("/api/v1/participants/NOPE/stories", BODY)
    assert r.status_code == 404 and "detail" in r.json()
    assert org.get("/api/v1/stories/sty_nope").status_code == 404
    assert publish(org, "x" * 500).status_code in (404, 422)
    story_id = draft(org)["story_id"]
    assert org.put(f"/api/v1/stories/{story_id}", {"text": ""}).status_code == 422
    assert org.post(f"/api/v1/stories/{story_id}/publish", {"where": ""}).status_code == 422


def test_no_one_reaches_anothers_story(person, client, make_org, other_browser, db):
    story_id = draft(person.org)["story_id"]
    cedar = make_org("cedar", "Cedar Housing")
    code = enrollment(cedar, "A-1")["claim_code"]  # the same reference at another organization
    assert cedar.get(f"/api/v1/stories/{story_id}").status_code == 404
    assert cedar.put(f"/api/v1/stories/{story_id}", {"text": "Taken over"}).status_code == 404
    assert publish(cedar, story_id).status_code == 404
    assert cedar.get("/api/v1/participants/A-1/stories").json() == {"stories": []}

    sign_up(other_browser, code, "river")
    assert other_browser.get(f"/stories/{story_id}").status_code == 404
    r = other_browser.post(
        f"/stories/{story_id}",
        data={
            "csrf_token": page_csrf(other_browser, "/account"),
            "decision": "approve",
            "text_version": "1",
        },
    )
    assert r.status_code == 404
    assert person.org.get(f"/api/v1/stories/{story_id}").json()["state"] == "awaiting"
    river = db.exec(select(Participant).where(Participant.username == "river")).one()
    assert stories_for_participant(db, river.id) == []


def test_the_list_for_the_reports_and_stories_page(person, client, app, db):
    org = person.org
    first = draft(org, title="Maria's bikes")["story_id"]
    second = draft(org, title="The repair club")["story_id"]
    answer(client, first, "approve")
    maria = db.exec(select(Participant).where(Participant.username == "maria")).one()
    stories = stories_for_participant(db, maria.id)
    assert [s.id for s in stories] == [second, first]  # waiting for an answer first
    assert stories[0].organization == "Northside Food Shelf" and stories[1].state == "approved"
    html = app.state.templates.get_template("stories/for_participant.html").render(stories=stories)
    assert "<h2" in html and "Stories" in html
    assert f'href="/stories/{first}"' in html and f'href="/stories/{second}"' in html
    assert "Approved by you" in html and "Waiting for your answer" in html
    empty = app.state.templates.get_template("stories/for_participant.html").render(stories=[])
    assert "No organization has asked you about a story." in empty


def test_closing_the_account_withdraws_approved_stories_and_erases_them(person, client, db):
    org = person.org
    approved = draft(org)["story_id"]
    answer(client, approved, "approve")
    publish(org, approved)
    draft(org, title="Still waiting")
    export = json.loads(client.get("/download").text)
    assert {s["title"] for s in export["stories"]} == {"Maria's bikes", "Still waiting"}
    assert TEXT in [s["text"] for s in export["stories"]]
    assert "Maria&#39;s bikes" in client.get("/download/print").text

    assert send_form(client, "/account/close", {"pin": person.pin}).status_code == 303
    (withdrawn,) = events(db, type="story.withdrawn")
    assert withdrawn.data["story"]["id"] == approved
    assert withdrawn.data["story"]["published"]["where"] == "Annual report 2026, page 4"
    assert "text" not in withdrawn.data["story"] and withdrawn.ack_due_by is not None
    db.expire_all()
    assert db.exec(select(Story)).all() == []
    assert org.get(f"/api/v1/stories/{approved}").status_code == 404


@pytest.mark.parametrize("decision", ["approve", "decline"])
def test_the_same_answer_sent_twice_is_one_event(person, client, db, decision):
    story_id = draft(person.org)["story_id"]
    assert answer(client, story_id, decision).status_code == 303
    r = client.post(
        f"/stories/{story_id}",
        data={
            "csrf_token": page_csrf(client, f"/stories/{story_id}"),
            "decision": decision,
            "text_version": "1",
        },
    )
    assert r.status_code == 303
    assert len([e for e in events(db) if e.type.startswith("story.")]) == 1


@pytest.mark.parametrize("story_id", ["%00", "sty_%00", "x" * 300, "sty_ZZ", "..%2F.."])
def test_an_odd_story_id_is_not_found(person, client, story_id):
    assert person.org.get(f"/api/v1/stories/{story_id}").status_code == 404
    assert publish(person.org, story_id).status_code == 404
    assert client.get(f"/stories/{story_id}").status_code == 404


def test_a_story_waiting_for_an_answer_needs_the_participant_on_the_home_page(person, client):
    story_id = draft(person.org)["story_id"]
    home = client.get("/").text
    attention = home.split('id="attention-title"', 1)[1].split("</section>", 1)[0]
    assert f'href="/stories/{story_id}">Asks to tell your story: Maria&#39;s bikes</a>' in attention
    listed = client.get("/reports-and-stories").text
    assert f'href="/stories/{story_id}"' in listed and "Maria&#39;s bikes" in listed
    answer(client, story_id, "approve")
    assert f"/stories/{story_id}" not in client.get("/").text.split("</section>", 1)[0]
