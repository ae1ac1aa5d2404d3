"""A participant asks for a correction: the form, the event to the holder, the due date, bad
input, double submission, and isolation between participants."""

from __future__ import annotations

import html
import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app.corrections.models import Correction
from tests.factories import (
    CSRF_FIELD,
    corrections,
    enroll,
    events,
    hold,
    holding_id,
    request_correction,
    send_form,
    shown_day,
    sign_up,
)


def test_the_home_page_offers_a_correction_on_each_holding(world):
    home = world.maria.get("/")
    assert f'href="/holdings/{world.phone}/correction"' in home.text
    assert "Request a correction" in home.text


def test_the_form_has_the_contract_labels_and_button(world):
    page = world.maria.get(f"/holdings/{world.phone}/correction")
    assert page.status_code == 200
    assert re.search(r'<label for="requested_value">What it should say</label>', page.text)
    assert re.search(r'<label for="reason">Why</label>', page.text)
    assert re.search(r'<button type="submit"[^>]*>Send request</button>', page.text)
    assert "612-555-0100" in page.text  # what it says now


def test_sending_it_records_the_correction_and_tells_the_holder(world, db):
    before = datetime.now(UTC)
    response = request_correction(world.maria, world.phone, "612-555-0199", "I changed my number.")
    assert response.status_code == 303
    assert response.headers["location"].endswith(f"#holding-{world.phone}")

    (correction,) = corrections(db)
    assert correction.status == "requested"
    assert correction.current_value == "612-555-0100"
    assert correction.requested_value == "612-555-0199"
    assert (
        before + timedelta(days=30) <= correction.due_by <= datetime.now(UTC) + timedelta(days=30)
    )

    (event,) = events(db, type="correction.requested")
    assert event.role == "holder" and event.data["organization"] == "northside"
    assert event.data["participant"] == {"external_ref": "N-1"}
    sent = event.data["correction"]
    assert {
        k: sent[k]
        for k in ("id", "field_key", "label", "current_value", "requested_value", "reason")
    } == {
        "id": correction.id,
        "field_key": "phone",
        "label": "Phone number",
        "current_value": "612-555-0100",
        "requested_value": "612-555-0199",
        "reason": "I changed my number.",
    }
    assert datetime.fromisoformat(sent["due_by"]) == correction.due_by
    assert event.data["ack_url"].endswith(f"/api/v1/events/{event.id}/ack")

    # Eastside received the phone number, but a request is only the holder's business.
    assert events(db, organization_id=event.organization_id) == [event]
    assert len(events(db)) == 1


def test_the_holding_then_shows_correction_requested_with_its_due_date(world, db):
    request_correction(world.maria, world.phone)
    (correction,) = corrections(db)
    home = world.maria.get(f"/?sent={correction.id}").text
    assert "Correction requested" in home
    assert shown_day(correction.due_by) in home  # e.g. "Dec 24, 2026"
    assert "Your request was sent to Northside Food Shelf." in home
    # One open request at a time: the button is gone until it is answered.
    assert f'href="/holdings/{world.phone}/correction"' not in home


def test_the_same_form_sent_twice_makes_one_correction(world, db):
    page = world.maria.get(f"/holdings/{world.phone}/correction").text
    token = CSRF_FIELD.search(page).group(1)
    form = {"csrf_token": token, "requested_value": "612-555-0199", "reason": "New number."}
    first = world.maria.post(f"/holdings/{world.phone}/correction", data=form)
    second = world.maria.post(f"/holdings/{world.phone}/correction", data=form)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert len(corrections(db)) == 1
    assert len(events(db, type="correction.requested")) == 1


def test_the_database_refuses_a_second_open_correction_on_a_holding(world, db, engine):
    request_correction(world.maria, world.phone)
    (first,) = corrections(db)
    # Two sends that both passed the check at the same moment: the unique open key stops one.
    with Session(engine) as other:
        other.add(
            Correction(
                holding_id=first.holding_id,
                enrollment_id=first.enrollment_id,
                field_key="phone",
                label="Phone number",
                requested_value="x",
                reason="y",
                due_by=first.due_by,
                open_key=first.holding_id,
            )
        )
        with pytest.raises(IntegrityError):
            other.commit()


@pytest.mark.parametrize(
    ("value", "reason", "field", "message"),
    [
        ("", "I changed my number.", "requested_value", "Enter what it should say."),
        ("612-555-0199", "", "reason", "Say why it should change"),
        ("612-555-0199", "   \n  ", "reason", "Say why it should change"),
        ("612-555-0199", "x" * 100_000, "reason", "This is too long."),
        ("612-555-0100", "Same", "requested_value", "That is what it says now."),
    ],
)
def test_bad_input_is_a_form_error_with_the_answers_kept(world, db, value, reason, field, message):
    response = request_correction(world.maria, world.phone, value, reason)
    assert response.status_code == 400
    text = response.text
    assert "<title>Error:" in text
    assert 'class="error-summary"' in text and f'href="#{field}"' in text
    assert message in html.unescape(text)
    assert f'id="{field}-error"' in text
    if value:
        assert value in text  # the answer is kept
    assert corrections(db) == []
    assert events(db) == []


def test_control_characters_are_dropped_not_stored(world, db):
    response = request_correction(world.maria, world.phone, "612\x00-555-0199", "Moved\x07 house.")
    assert response.status_code == 303
    (correction,) = corrections(db)
    assert correction.requested_value == "612-555-0199"
    assert correction.reason == "Moved house."


def test_a_form_error_speaks_the_participants_language(world):
    world.maria.get("/?lang=es")
    response = request_correction(world.maria, world.phone, "", "")
    assert response.status_code == 400
    assert '<html lang="es">' in response.text


def test_another_participant_cannot_see_or_use_the_form(world, other_browser, db):
    code = enroll(world.holder, "N-2")
    hold(world.holder, "N-2", "phone", value="651-555-0111")
    sign_up(other_browser, code, "omar")

    assert other_browser.get(f"/holdings/{world.phone}/correction").status_code == 404
    token = CSRF_FIELD.search(other_browser.get("/").text).group(1)
    response = other_browser.post(
        f"/holdings/{world.phone}/correction",
        data={"csrf_token": token, "requested_value": "hacked", "reason": "because"},
    )
    assert response.status_code == 404
    assert corrections(db) == []
    assert world.phone not in other_browser.get("/").text


def test_signed_out_visitors_are_sent_to_log_in(world, other_browser):
    response = other_browser.get(f"/holdings/{world.phone}/correction")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_a_request_without_the_csrf_token_is_refused(world, db):
    response = world.maria.post(
        f"/holdings/{world.phone}/correction", data={"requested_value": "x", "reason": "y"}
    )
    assert response.status_code == 403
    assert corrections(db) == []


def test_overdue_corrections_are_flagged_to_the_participant_and_the_api(world, db):
    request_correction(world.maria, world.phone)
    (correction,) = corrections(db)
    correction.due_by = datetime.now(UTC) - timedelta(days=1)
    db.add(correction)
    db.commit()

    home = world.maria.get("/").text
    assert "Overdue:" in home
    assert "Northside Food Shelf should have answered by" in home
    listed = world.holder.get("/api/v1/corrections?status=requested").json()["corrections"]
    assert [c["id"] for c in listed] == [correction.id] and listed[0]["overdue"] is True


def test_sensitive_values_stay_folded_on_the_form(world, db):
    hold(world.holder, "N-1", "diagnosis", label="Diagnosis", category="health", value="Asthma")
    diagnosis = holding_id(db, "northside", "N-1", "diagnosis")
    page = world.maria.get(f"/holdings/{diagnosis}/correction").text
    assert "<details>" in page and "Show what it says now" in page


def test_no_statement_while_the_correction_waits_for_an_answer(world, db):
    # The statement page is only there for a denied correction: a requested one is 404.
    request_correction(world.maria, world.phone)
    (correction,) = corrections(db)
    assert world.maria.get(f"/corrections/{correction.id}/statement").status_code == 404
    response = send_form(
        world.maria,
        f"/corrections/{correction.id}/statement",
        {"statement": "too early"},
        page="/",
    )
    assert response.status_code == 404


def test_the_same_form_sent_at_the_same_moment_makes_one_correction(world, db, app):
    """Two sends racing each other (a double tap on a slow connection): the database's unique
    open key lets one through; the other answers with the one that was made."""
    page = world.maria.get(f"/holdings/{world.phone}/correction").text
    form = {
        "csrf_token": CSRF_FIELD.search(page).group(1),
        "requested_value": "612-555-0199",
        "reason": "New number.",
    }
    barrier = threading.Barrier(4)
    answers: list[int] = []

    def send() -> None:
        with TestClient(app, base_url="http://testserver", follow_redirects=False) as browser:
            browser.cookies.update(world.maria.cookies)
            barrier.wait()
            answers.append(
                browser.post(f"/holdings/{world.phone}/correction", data=form).status_code
            )

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert answers == [303] * 4
    assert len(corrections(db)) == 1
    assert len(events(db, type="correction.requested")) == 1
