"""The history of a consent, each organization's acknowledgement of each change (the holder's
and every recipient's copy), and the receipts (printable and JSON)."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from app.consent.models import Consent
from app.db import utcnow
from app.events.models import Event
from app.events.service import acknowledge_event
from tests.factories import (
    consent_url,
    decide,
    enroll_and_claim,
    holding_body,
    log_in,
    purpose_body,
)


def _shared_with_cedar(db, org, make_org, client):
    """Northside shares Maria's phone number with Cedar, a network organization, under her
    consent; then she withdraws it, so both are asked to act."""
    cedar = make_org("cedar", "Cedar Housing Partners")
    body = purpose_body(recipients=[{"name": "Cedar Housing Partners", "organization": "cedar"}])
    assert org.put("/api/v1/purposes/housing", body).status_code == 201
    maria = enroll_and_claim(db, org, external_ref="A-1", username="maria")
    log_in(client, maria)
    assert org.put("/api/v1/participants/A-1/holdings/phone", holding_body()).status_code == 201
    decide(client, maria, "give")
    r = org.post(
        "/api/v1/participants/A-1/disclosures",
        {
            "recipient": {"name": "Cedar Housing Partners", "organization": "cedar"},
            "purpose": "housing",
            "field_keys": ["phone"],
        },
    )
    assert r.status_code == 201, r.text
    decide(client, maria, "withdraw")
    return maria, cedar


def _withdrawal_events(db, maria):
    db.expire_all()
    return {
        e.role: e
        for e in db.exec(
            select(Event).where(
                Event.enrollment_id == maria.enrollment_id, Event.type == "consent.withdrawn"
            )
        )
    }


def _consent(db, maria, state):
    db.expire_all()
    return db.exec(
        select(Consent).where(Consent.enrollment_id == maria.enrollment_id, Consent.state == state)
    ).one()


def test_history_shows_each_change_with_each_organizations_answer(db, org, make_org, client):
    maria, _cedar = _shared_with_cedar(db, org, make_org, client)
    events = _withdrawal_events(db, maria)
    assert set(events) == {"holder", "recipient"}

    page = client.get(consent_url(maria)).text
    assert "You gave consent" in page and "You withdrew consent" in page
    # Both organizations were asked to act, and neither has answered yet.
    assert page.count("Waiting, due by") == 2
    assert "received your data from Northside Food Shelf" in page
    assert "No reply needed" in page  # giving consent asks nothing of them

    # Northside confirms; Cedar lets the date pass.
    acknowledge_event(db, event=events["holder"], outcome="done", note="Removed from our list")
    events["recipient"].ack_due_by = utcnow() - timedelta(days=1)
    db.add(events["recipient"])
    db.commit()
    page = client.get(consent_url(maria)).text
    assert "Confirmed (done) on" in page
    assert "Their note: Removed from our list" in page
    assert "Overdue since" in page
    assert "Waiting, due by" not in page

    activity = client.get("/activity").text
    assert "Northside Food Shelf: Share with the county for housing help" in activity
    assert "Overdue since" in activity and "Confirmed (done) on" in activity


def test_a_declined_acknowledgement_is_shown_as_such(db, org, make_org, client):
    maria, _cedar = _shared_with_cedar(db, org, make_org, client)
    events = _withdrawal_events(db, maria)
    acknowledge_event(db, event=events["recipient"], outcome="declined", note="Required by law")
    db.commit()
    page = client.get(consent_url(maria)).text
    assert "Confirmed (declined) on" in page
    assert "Their note: Required by law" in page


def test_every_history_entry_links_to_its_receipt(db, org, make_org, client):
    maria, _cedar = _shared_with_cedar(db, org, make_org, client)
    page = client.get(consent_url(maria)).text
    for state in ("given", "withdrawn"):
        assert f'href="/consents/receipts/{_consent(db, maria, state).id}"' in page


def test_receipt_page_is_printable_and_complete(db, org, make_org, client):
    maria, _cedar = _shared_with_cedar(db, org, make_org, client)
    withdrawn = _consent(db, maria, "withdrawn")
    r = client.get(f"/consents/receipts/{withdrawn.id}")
    assert r.status_code == 200
    html = r.text
    assert "Consent receipt" in html
    assert withdrawn.id in html
    assert "You withdrew consent" in html
    assert "Northside Food Shelf" in html
    assert "Cedar Housing Partners" in html  # who receives it
    assert "What data: How to reach you, Household" in html  # the stored notice, verbatim
    assert f"http://testserver/consents/{maria.enrollment_id}/housing" in html  # how to withdraw
    assert f'href="/consents/receipts/{withdrawn.id}.json"' in html
    assert "Waiting, due by" in html


def test_receipt_json_follows_the_consent_record_standards(db, org, make_org, client):
    maria, _cedar = _shared_with_cedar(db, org, make_org, client)
    given = _consent(db, maria, "given")
    withdrawn = _consent(db, maria, "withdrawn")

    r = client.get(f"/consents/receipts/{withdrawn.id}.json")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    receipt = r.json()
    assert receipt["record_id"] == receipt["consentReceiptID"] == withdrawn.id
    assert receipt["state"] == "withdrawn"
    assert receipt["timestamps"]["given_at"] == given.given_at.isoformat()
    assert receipt["timestamps"]["withdrawn_at"] == withdrawn.withdrawn_at.isoformat()
    assert receipt["timestamps"]["expires_at"] == given.expires_at.isoformat()
    assert receipt["controller"] == {
        "name": "Northside Food Shelf",
        "slug": "northside",
        "portal_url": "http://testserver",
    }
    [purpose] = receipt["purposes"]
    assert purpose["key"] == "housing"
    assert purpose["title"] == "Share with the county for housing help"
    assert purpose["basis"] == "consent"
    assert receipt["data_categories"] == ["contact", "household"]
    assert receipt["recipients"] == [{"name": "Cedar Housing Partners", "organization": "cedar"}]
    assert receipt["method"] == "self"
    assert receipt["recorded_by"] is None and receipt["assisted_by"] is None
    assert receipt["notice"]["version"] == 1
    assert receipt["notice"]["language"] == "en"
    assert receipt["notice"]["text"] == withdrawn.notice_text
    assert (
        receipt["withdrawal"]["url"] == f"http://testserver/consents/{maria.enrollment_id}/housing"
    )
    assert receipt["jurisdiction"] is None  # jurisdiction-neutral: no law assumed


def test_receipt_json_names_who_recorded_a_paper_consent(db, org, client):
    assert org.put("/api/v1/purposes/housing", purpose_body()).status_code == 201
    maria = enroll_and_claim(db, org, external_ref="A-1", username="maria")
    log_in(client, maria)
    r = org.post(
        "/api/v1/participants/A-1/consents",
        {"purpose": "housing", "state": "given", "method": "paper", "note": "Signed at intake"},
    )
    consent_id = r.json()["id"]
    receipt = client.get(f"/consents/receipts/{consent_id}.json").json()
    assert receipt["method"] == receipt["collectionMethod"] == "paper"
    assert receipt["recorded_by"] == "Northside Food Shelf"
    assert receipt["note"] == "Signed at intake"
