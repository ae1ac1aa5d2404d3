"""Ask to delete: offered for holdings that rest on consent; holdings kept by law say why."""

from __future__ import annotations

import re

from sqlmodel import select

from app.corrections.models import DeletionRequest
from tests.factories import (
    CSRF_FIELD,
    add_purpose,
    enroll,
    events,
    hold,
    holding_id,
    send_form,
    sign_up,
)


def deletion_requests(db):
    db.expire_all()
    return list(db.exec(select(DeletionRequest)))


def test_a_consent_based_holding_can_be_asked_to_be_deleted(world, db):
    home = world.maria.get("/").text
    assert f'href="/holdings/{world.phone}/deletion"' in home and "Ask to delete" in home
    page = world.maria.get(f"/holdings/{world.phone}/deletion").text
    assert re.search(r'<button type="submit"[^>]*>Ask to delete</button>', page)

    response = send_form(world.maria, f"/holdings/{world.phone}/deletion", {})
    assert response.status_code == 303
    (request,) = deletion_requests(db)
    (event,) = events(db, type="deletion.requested")
    assert event.role == "holder" and event.data["organization"] == "northside"
    assert event.data["holding"]["field_key"] == "phone"
    assert event.data["deletion_request"]["id"] == request.id
    assert event.data["ack_url"]

    home = world.maria.get("/").text
    assert "You asked for this to be deleted on" in home
    assert "Northside Food Shelf must answer by" in home
    assert f'href="/holdings/{world.phone}/deletion"' not in home


def test_asking_twice_makes_one_request(world, db):
    token = CSRF_FIELD.search(world.maria.get(f"/holdings/{world.phone}/deletion").text).group(1)
    for _ in range(2):
        response = world.maria.post(f"/holdings/{world.phone}/deletion", data={"csrf_token": token})
        assert response.status_code == 303
    assert len(deletion_requests(db)) == 1
    assert len(events(db, type="deletion.requested")) == 1


def test_the_organizations_answer_is_shown_and_a_new_request_is_possible(world, db):
    send_form(world.maria, f"/holdings/{world.phone}/deletion", {})
    (event,) = events(db, type="deletion.requested")
    ack = world.holder.post(
        f"/api/v1/events/{event.id}/ack", {"outcome": "declined", "note": "A grant audit needs it."}
    )
    assert ack.status_code == 200, ack.text
    home = world.maria.get("/").text
    assert "Northside Food Shelf declined on" in home
    assert "A grant audit needs it." in home
    assert f'href="/holdings/{world.phone}/deletion"' in home

    send_form(world.maria, f"/holdings/{world.phone}/deletion", {})
    assert len(deletion_requests(db)) == 2


def test_a_holding_kept_by_law_says_why_and_can_not_be_asked(world, db):
    add_purpose(
        world.holder,
        "reporting",
        basis="legal_obligation",
        title={"en": "Reports the state requires"},
        legal_recipients={"en": "The state health department"},
    )
    hold(
        world.holder,
        "N-1",
        "income",
        purpose="reporting",
        label="Income",
        category="income",
        value="1200",
    )
    income = holding_id(db, "northside", "N-1", "income")

    home = world.maria.get("/").text
    assert f'href="/holdings/{income}/deletion" aria-describedby' not in home
    assert "so it can't simply be deleted" in home.replace("&#39;", "'")
    page = world.maria.get(f"/holdings/{income}/deletion").text.replace("&#39;", "'")
    assert "The law requires Northside Food Shelf to keep this" in page
    assert "The state health department" in page
    assert ">Ask to delete</button>" not in page

    response = send_form(world.maria, f"/holdings/{income}/deletion", {}, page="/")
    assert response.status_code == 303
    assert deletion_requests(db) == []
    assert events(db, type="deletion.requested") == []


def test_a_service_holding_is_not_offered_for_deletion(world, db):
    add_purpose(world.holder, "food", basis="service", title={"en": "Food each week"})
    hold(world.holder, "N-1", "household", purpose="food", label="Household size", value="4")
    household = holding_id(db, "northside", "N-1", "household")
    home = world.maria.get("/").text
    assert f'href="/holdings/{household}/deletion"' not in home
    page = world.maria.get(f"/holdings/{household}/deletion").text
    assert "Needed to give you the service" in page


def test_another_participants_holding_is_not_found(world, other_browser, db):
    code = enroll(world.holder, "N-2")
    sign_up(other_browser, code, "omar")
    assert other_browser.get(f"/holdings/{world.phone}/deletion").status_code == 404
    token = CSRF_FIELD.search(other_browser.get("/").text).group(1)
    response = other_browser.post(f"/holdings/{world.phone}/deletion", data={"csrf_token": token})
    assert response.status_code == 404
    assert deletion_requests(db) == []
