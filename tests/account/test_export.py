"""Download my data: every kind of record the portal holds about the participant, and nothing
about anyone else; as a JSON file and as a printable page in their language."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from app.participants.models import Enrollment
from tests.factories import (
    add_purpose,
    corrections,
    enroll,
    events,
    hold,
    holding_id,
    request_correction,
    resolve,
    send_form,
    sign_up,
)

# Values only the other participant's records contain: none may appear in Maria's download.
OMAR_SECRETS = ("651-555-0111", "omar", "N-2", "Omar's own words", "Omar disagrees")


@pytest.fixture
def full_record(world, db, other_browser):
    """Maria has one of every kind of record; Omar, at the same organizations, has his own."""
    holder = world.holder
    hold(holder, "N-1", "household", label="Household size", category="household", value="4")
    assert holder.delete("/api/v1/participants/N-1/holdings/household").status_code == 204
    consent = holder.post(
        "/api/v1/participants/N-1/consents",
        {"purpose": "housing", "state": "given", "method": "paper"},
    )
    assert consent.status_code == 201
    # A denied correction with a statement, then an accepted one.
    request_correction(world.maria, world.phone, "612-555-0199", "I changed my number.")
    resolve(holder, corrections(db)[0].id, "denied", reason="We called it.")
    send_form(
        world.maria,
        f"/corrections/{corrections(db)[0].id}/statement",
        {"statement": "Maria disagrees."},
    )
    request_correction(world.maria, world.phone, "612-555-0142", "Second try.")
    resolve(holder, corrections(db)[1].id, "accepted", reason="ok")
    send_form(world.maria, f"/holdings/{world.phone}/deletion", {})
    (deletion_event,) = events(db, type="deletion.requested")
    holder.post(f"/api/v1/events/{deletion_event.id}/ack", {"outcome": "declined", "note": "Audit"})
    send_form(
        world.maria,
        "/context/new",
        {"kind": "strength", "text": "I fix bikes.", "shared_with": [_enrollment(db, "N-1")]},
    )
    # A second organization, claimed by Maria too.
    recipient = world.recipient
    add_purpose(recipient, "shelter", basis="service", title={"en": "A bed tonight"})
    code = enroll(recipient, "E-5")
    hold(recipient, "E-5", "beds", purpose="shelter", label="Beds needed", value="2")
    sign_up(world.maria, code, "maria")

    # Omar: the same organizations, his own records.
    code = enroll(holder, "N-2")
    hold(holder, "N-2", "phone", value="651-555-0111")
    sign_up(other_browser, code, "omar")
    omar_phone = _holding(db, "N-2")
    request_correction(other_browser, omar_phone, "651-555-0000", "Omar disagrees")
    send_form(other_browser, "/context/new", {"kind": "goal", "text": "Omar's own words"})
    return world


def _enrollment(db, ref):
    db.expire_all()
    return db.exec(select(Enrollment.id).where(Enrollment.external_ref == ref)).one()


def _holding(db, ref):
    return holding_id(db, "northside", ref)


def test_the_download_is_a_json_attachment_with_every_kind_of_record(full_record):
    response = full_record.maria.get("/download")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["content-disposition"].startswith("attachment; filename=")
    assert response.headers["cache-control"] == "no-store"
    data = json.loads(response.text)

    assert data["account"]["username"] == "maria"
    assert data["sessions"] and data["sessions"][0]["started_at"]
    assert [n["text"] for n in data["own_context"]] == ["I fix bikes."]
    assert data["own_context"][0]["shared_with"] == ["northside"]
    orgs = {o["organization"]["slug"]: o for o in data["organizations"]}
    assert set(orgs) == {"northside", "eastside"}
    north = orgs["northside"]
    assert north["enrollment"]["external_ref"] == "N-1"
    holdings = {h["field_key"]: h for h in north["holdings"]}
    assert holdings["phone"]["value"] == "612-555-0142"
    assert holdings["household"]["deleted_at"] and holdings["household"]["value"] is None
    assert {d["recipient"]["name"] for d in north["disclosures"]} == {
        "Eastside Housing",
        "Hennepin County",
    }
    assert north["disclosures"][0]["labels"] == ["Phone number"]
    (consent,) = north["consents"]
    assert consent["state"] == "given" and consent["notice_text"] and consent["receipt"]
    assert [c["status"] for c in north["corrections"]] == ["denied", "accepted"]
    assert [s["text"] for s in north["statements"]] == ["Maria disagrees."]
    assert north["deletion_requests"][0]["field_key"] == "phone"
    types = [e["type"] for e in north["events"]]
    for expected in (
        "consent.given",
        "correction.requested",
        "statement.added",
        "data.corrected",
        "deletion.requested",
        "context.shared",
    ):
        assert expected in types
    acked = next(e for e in north["events"] if e["type"] == "deletion.requested")
    assert acked["acknowledgement"]["outcome"] == "declined"
    assert acked["acknowledgement"]["note"] == "Audit"
    # Recipient copies of Maria's events are hers too, and say who received them.
    assert {e["organization"] for e in north["events"]} == {"northside", "eastside"}
    assert orgs["eastside"]["holdings"][0]["value"] == "2"


def test_nothing_of_another_participant_is_in_it(full_record):
    text = full_record.maria.get("/download").text
    for secret in OMAR_SECRETS:
        assert secret not in text


def test_the_printable_page_shows_the_same_content_in_the_participants_language(full_record):
    page = full_record.maria.get("/download/print")
    assert page.status_code == 200
    text = page.text
    for expected in (
        "612-555-0142",
        "Maria disagrees.",
        "I fix bikes.",
        "Hennepin County",
        "Beds needed",
    ):
        assert expected in text
    for secret in OMAR_SECRETS:
        assert secret not in text
    spanish = full_record.maria.get("/download/print?lang=es").text
    assert '<html lang="es">' in spanish and "612-555-0142" in spanish


def test_signed_out_visitors_get_no_download(world, other_browser):
    response = other_browser.get("/download")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    assert other_browser.get("/download/print").status_code == 303


def test_the_account_page_links_to_everything(world):
    page = world.maria.get("/account").text
    for href in ("/download", "/download/print", "/context", "/account/close"):
        assert f'href="{href}"' in page
