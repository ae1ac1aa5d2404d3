"""Statements of disagreement: added after a denial, shown as text, sent to the holder and the
recipients, and carried by every later consent check and event about the holding."""

from __future__ import annotations

import html
import re

import pytest
from markupsafe import escape

from tests.factories import (
    CSRF_FIELD,
    corrections,
    enroll,
    events,
    hold,
    request_correction,
    resolve,
    send_form,
    sign_up,
)

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)> I never lived there & said so.'


@pytest.fixture
def denied(world, db):
    request_correction(world.maria, world.phone, "612-555-0199", "I changed my number.")
    (correction,) = corrections(db)
    assert resolve(world.holder, correction.id, "denied", reason="We called it.").status_code == 200
    return correction


def add_statement(world, correction_id, text):
    return send_form(world.maria, f"/corrections/{correction_id}/statement", {"statement": text})


def test_the_statement_form_has_the_contract_label_and_button(world, denied):
    page = world.maria.get(f"/corrections/{denied.id}/statement").text
    # One question: the label is the page's heading.
    assert re.search(r'<h1><label for="statement">Your statement</label></h1>', page)
    assert re.search(r'<button type="submit"[^>]*>Add statement</button>', page)
    assert "We called it." in page


def test_html_and_script_in_a_statement_are_shown_as_text(world, db, denied):
    response = add_statement(world, denied.id, HOSTILE)
    assert response.status_code == 303
    home = world.maria.get("/").text
    assert "<script>alert" not in home and "<img src=x" not in home
    assert str(escape(HOSTILE)) in home
    assert "Your statement of disagreement" in home
    assert f'href="/corrections/{denied.id}/statement"' not in home  # added once


def test_statement_added_goes_to_the_holder_and_each_network_recipient(world, db, denied):
    add_statement(world, denied.id, "The number is wrong.")
    sent = events(db, type="statement.added")
    assert [(e.role, e.data["organization"]) for e in sent] == [
        ("holder", "northside"),
        ("recipient", "eastside"),
    ]
    for event in sent:
        assert event.data["statement"]["text"] == "The number is wrong."
        assert event.data["holding"]["field_key"] == "phone"
        assert event.data["statement"]["correction_id"] == denied.id
    assert sent[1].data["source"] == {"organization": "northside", "external_ref": "N-1"}


def test_the_same_statement_sent_twice_is_added_once(world, db, denied):
    token = CSRF_FIELD.search(world.maria.get(f"/corrections/{denied.id}/statement").text).group(1)
    form = {"csrf_token": token, "statement": "Wrong number."}
    first = world.maria.post(f"/corrections/{denied.id}/statement", data=form)
    second = world.maria.post(f"/corrections/{denied.id}/statement", data=form)
    assert first.status_code == 303 and second.status_code == 303
    assert len(events(db, type="statement.added", role="holder")) == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "Write your statement"), ("x" * 100_000, "This is too long.")],
)
def test_an_empty_or_huge_statement_is_a_form_error(world, db, denied, text, message):
    response = add_statement(world, denied.id, text)
    assert response.status_code == 400
    assert "<title>Error:" in response.text and 'href="#statement"' in response.text
    assert message in html.unescape(response.text)
    assert events(db, type="statement.added") == []


def test_consent_checks_return_the_statements(world, denied):
    add_statement(world, denied.id, "The number is wrong.")
    check = world.holder.post(
        "/api/v1/consent-checks", {"external_ref": "N-1", "purpose": "housing"}
    )
    assert check.status_code == 200
    (statement,) = check.json()["statements"]
    assert statement["text"] == "The number is wrong."
    assert statement["field_key"] == "phone" and statement["correction_id"] == denied.id


def test_later_consent_and_data_events_carry_the_statement(world, db, denied):
    add_statement(world, denied.id, "The number is wrong.")
    for state in ("given", "withdrawn"):
        response = world.holder.post(
            "/api/v1/participants/N-1/consents",
            {"purpose": "housing", "state": state, "method": "paper"},
        )
        assert response.status_code == 201, response.text
    for event in events(db, type="consent.withdrawn") + events(db, type="consent.given"):
        assert [s["text"] for s in event.data["statements"]] == ["The number is wrong."]

    # A later correction of the same holding, accepted: data.corrected carries it too.
    request_correction(world.maria, world.phone, "612-555-0142", "Another try.")
    later = next(c for c in corrections(db) if c.status == "requested")
    resolve(world.holder, later.id, "accepted", reason="ok")
    for event in events(db, type="data.corrected"):
        assert [s["text"] for s in event.data["statements"]] == ["The number is wrong."]


def test_statements_stay_with_their_holding(world, db, denied):
    """A statement on the phone number is not carried by events about other purposes."""
    world.holder.put(
        "/api/v1/purposes/food",
        {
            "title": {"en": "Food"},
            "basis": "consent",
            "categories": ["household"],
            "recipients": [],
            "retention_days": 30,
            "refusal_consequence": {"en": "None"},
        },
    )
    hold(world.holder, "N-1", "household", purpose="food", label="Household", value="3")
    add_statement(world, denied.id, "The number is wrong.")
    world.holder.post(
        "/api/v1/participants/N-1/consents",
        {"purpose": "food", "state": "given", "method": "paper"},
    )
    (food_event,) = events(db, type="consent.given")
    assert food_event.data["statements"] == []


def test_another_participant_can_not_add_a_statement(world, db, denied, other_browser):
    code = enroll(world.holder, "N-2")
    sign_up(other_browser, code, "omar")
    assert other_browser.get(f"/corrections/{denied.id}/statement").status_code == 404
    token = CSRF_FIELD.search(other_browser.get("/").text).group(1)
    response = other_browser.post(
        f"/corrections/{denied.id}/statement", data={"csrf_token": token, "statement": "mine"}
    )
    assert response.status_code == 404
    assert events(db, type="statement.added") == []
    assert "We called it." not in other_browser.get("/").text
