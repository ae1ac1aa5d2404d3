"""POST /participants/{external_ref}/consents (paper, verbal) and POST /consent-checks."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlmodel import select

from app.consent.models import Consent
from app.consent.notice import build_notice
from app.consent.service import decide
from app.corrections.record import own_correction, own_holding
from app.corrections.service import request_correction
from app.corrections.statements import add_statement
from app.db import utcnow
from app.events.service import verify_chain
from app.holdings.models import Holding
from app.organizations.models import Organization
from app.organizations.service import find_purpose
from app.participants.models import Enrollment
from tests.factories import (
    add_purpose,
    claim_account,
    consent,
    enroll,
    enrollment,
    events,
    hold,
    participant_with_holding,
)

URL = "/api/v1/participants/A-1/consents"
CHECK = "/api/v1/consent-checks"


def paper(state: str = "given", purpose: str = "housing", **extra):
    return {"purpose": purpose, "state": state, "method": "paper", **extra}


def test_a_paper_consent_is_recorded_and_shows_who_recorded_it(org):
    participant_with_holding(org)
    r = org.post(URL, paper(note="Signed form handed in at the front desk"))
    assert r.status_code == 201, r.text
    given = r.json()
    assert given["id"].startswith("cns_")
    assert given["purpose"] == "housing"
    assert given["state"] == "given"
    assert given["method"] == "paper"
    assert given["recorded_by"] == "Northside Food Shelf"
    assert given["notice_version"] == 1
    given_at = datetime.fromisoformat(given["given_at"])
    assert datetime.fromisoformat(given["expires_at"]) - given_at == timedelta(days=365)
    assert given["withdrawn_at"] is None


def test_a_verbal_consent_names_the_staff_member_who_took_it(org):
    participant_with_holding(org)
    r = org.post(URL, {**paper(), "method": "verbal", "recorded_by": "Dana at intake"})
    assert r.status_code == 201
    assert r.json()["method"] == "verbal"
    assert r.json()["recorded_by"] == "Dana at intake"


def test_the_notice_is_kept_in_the_participants_language(org, db):
    add_purpose(org)
    enrollment(org, preferred_language="es")
    consent(org)
    (row,) = db.exec(select(Consent)).all()
    assert row.notice_language == "es"
    assert "Compartir con el condado" in row.notice_text
    assert row.note is None


def test_giving_records_a_consent_given_event(org, db):
    participant_with_holding(org)
    given = consent(org)
    (event,) = events(db)
    assert event.type == "consent.given"
    assert event.role == "holder"
    assert event.ack_due_by is None  # nothing to act on
    assert event.data["organization"] == "northside"
    assert event.data["participant"] == {"external_ref": "A-1"}
    assert event.data["consent"]["id"] == given["id"]
    assert event.data["consent"]["state"] == "given"
    assert event.data["consent"]["purpose"] == "housing"
    assert event.data["recipients"][0]["name"] == "Hennepin County"
    assert event.data["event_id"] == event.id


def test_withdrawing_records_a_consent_withdrawn_event_to_acknowledge(org, db):
    participant_with_holding(org)
    consent(org)
    r = org.post(URL, paper("withdrawn"))
    assert r.status_code == 201, r.text
    withdrawn = r.json()
    assert withdrawn["state"] == "withdrawn"
    assert withdrawn["withdrawn_at"]
    first, second = events(db)
    assert (first.type, second.type) == ("consent.given", "consent.withdrawn")
    assert second.data["consent"]["id"] == withdrawn["id"]
    assert second.data["consent"]["withdrawn_at"] == withdrawn["withdrawn_at"]
    assert second.ack_due_by is not None
    assert second.data["ack_url"] == f"http://testserver/api/v1/events/{second.id}/ack"
    assert second.seq == first.seq + 1
    assert verify_chain(db, second.enrollment_id) is None


def test_a_refusal_is_recorded_without_an_event(org, db):
    participant_with_holding(org)
    r = org.post(URL, paper("refused"))
    assert r.status_code == 201
    assert r.json()["state"] == "refused"
    assert events(db) == []
    (shown,) = org.get("/api/v1/participants/A-1").json()["consents"]
    assert shown["state"] == "refused"


def test_withdrawing_what_was_never_given_is_a_409(org, db):
    participant_with_holding(org)
    r = org.post(URL, paper("withdrawn"))
    assert r.status_code == 409
    assert "withdraw" in r.json()["detail"]
    assert db.exec(select(Consent)).all() == []
    assert events(db) == []


def test_the_same_effects_and_events_as_the_participants_own(org, db):
    """A paper consent for one participant and a self-given one for another leave the same
    traces: a Consent row with a receipt's worth of notice, and the same events."""
    add_purpose(org)
    enroll(org, "A-1")
    enroll(org, "B-2")
    consent(org, "A-1")
    consent(org, "A-1", state="withdrawn")

    organization = db.exec(select(Organization)).one()
    purpose = find_purpose(db, organization_id=organization.id, key="housing")
    enrollment = db.exec(select(Enrollment).where(Enrollment.external_ref == "B-2")).one()
    for state in ("given", "withdrawn"):
        decide(
            db,
            enrollment=enrollment,
            organization=organization,
            purpose=purpose,
            state=state,
            method="self",
            notice=build_notice(purpose, organization, "en"),
            base_url="http://testserver",
        )
    db.commit()

    by_ref = {
        ref: [e for e in events(db) if e.data["participant"]["external_ref"] == ref]
        for ref in ("A-1", "B-2")
    }
    assert [e.type for e in by_ref["A-1"]] == [e.type for e in by_ref["B-2"]]
    for paper_event, self_event in zip(by_ref["A-1"], by_ref["B-2"], strict=True):
        assert set(paper_event.data) == set(self_event.data)
        assert set(paper_event.data["consent"]) == set(self_event.data["consent"])
        assert paper_event.data["consent"]["method"] == "paper"
        assert self_event.data["consent"]["method"] == "self"
    rows = db.exec(select(Consent)).all()
    assert {r.state for r in rows} == {"given", "withdrawn"}
    assert all(r.notice_text for r in rows)


def test_a_withdrawal_tells_the_network_organization_that_received_the_data(org, make_org, db):
    cedar = make_org("cedar-housing", "Cedar Housing Partners")
    add_purpose(
        org, recipients=[{"name": "Cedar Housing Partners", "organization": "cedar-housing"}]
    )
    enroll(org)
    hold(org)
    consent(org)
    r = org.post(
        "/api/v1/participants/A-1/disclosures",
        {
            "recipient": {"name": "Cedar Housing Partners", "organization": "cedar-housing"},
            "purpose": "housing",
            "field_keys": ["phone"],
        },
    )
    assert r.json()["flagged"] is False
    withdrawn = consent(org, state="withdrawn")

    cedar_id = db.exec(select(Organization.id).where(Organization.slug == cedar.slug)).one()
    northside_id = db.exec(select(Organization.id).where(Organization.slug == "northside")).one()
    (holder,) = events(db, type="consent.withdrawn", organization_id=northside_id)
    (recipient,) = events(db, type="consent.withdrawn", organization_id=cedar_id)
    assert holder.role == "holder"
    assert holder.data["role"] == "holder"
    assert recipient.role == "recipient"
    assert recipient.data["role"] == "recipient"
    assert recipient.id != holder.id
    assert recipient.data["event_id"] == recipient.id
    assert recipient.data["organization"] == "cedar-housing"
    assert recipient.data["source"] == {"organization": "northside", "external_ref": "A-1"}
    # Not enrolled at Cedar: the portal does not link people behind their back.
    assert recipient.data["participant"] == {"external_ref": None}
    assert recipient.data["consent"]["id"] == withdrawn["id"]
    assert recipient.ack_due_by is not None
    assert verify_chain(db, holder.enrollment_id) is None


def test_the_recipients_copy_names_its_own_reference_when_the_participant_linked_it(
    org, make_org, db
):
    cedar = make_org("cedar-housing", "Cedar Housing Partners")
    add_purpose(org)
    claim_account(db, enroll(org, "A-1"), username="river")
    claim_account(db, enroll(cedar, "C-77"), username="river")
    hold(org)
    consent(org)
    org.post(
        "/api/v1/participants/A-1/disclosures",
        {
            "recipient": {"name": "Cedar Housing Partners", "organization": "cedar-housing"},
            "purpose": "housing",
            "field_keys": ["phone"],
        },
    )
    consent(org, state="withdrawn")
    (recipient,) = events(db, type="consent.withdrawn", role="recipient")
    assert recipient.data["participant"] == {"external_ref": "C-77"}
    assert recipient.data["source"] == {"organization": "northside", "external_ref": "A-1"}


def test_a_withdrawal_tells_nobody_else_when_nothing_went_to_the_network(org, make_org, db):
    make_org("cedar-housing", "Cedar Housing Partners")
    participant_with_holding(org)
    consent(org)
    org.post(
        "/api/v1/participants/A-1/disclosures",
        {"recipient": {"name": "Hennepin County"}, "purpose": "housing", "field_keys": ["phone"]},
    )
    consent(org, state="withdrawn")
    assert [e.role for e in events(db, type="consent.withdrawn")] == ["holder"]


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        (paper(purpose="marketing"), 422, "marketing"),
        (paper(state="requested"), 422, None),
        (paper(state="expired"), 422, None),
        ({**paper(), "method": "self"}, 422, None),
        ({**paper(), "method": "assisted"}, 422, None),
        (paper(note="n" * 2001), 422, None),
        (paper(note="a\x00b"), 422, None),
        (paper(recorded_by="x" * 201), 422, None),
        (paper(recorded_by="\x1b]0;hi\x07"), 422, None),
        ({"purpose": "housing", "state": "given"}, 422, None),
        ({"purpose": "housing", "method": "paper"}, 422, None),
        ({"state": "given", "method": "paper"}, 422, None),
        (paper(expires_at="2030-01-01"), 422, None),
    ],
)
def test_bad_consents_are_refused(org, db, body, status, says):
    participant_with_holding(org)
    r = org.post(URL, body)
    assert r.status_code == status, r.text
    assert r.json()["detail"]
    if says:
        assert says in r.json()["detail"]
    assert db.exec(select(Consent)).all() == []


def test_a_long_note_up_to_the_limit_is_kept(org, db):
    participant_with_holding(org)
    assert org.post(URL, paper(note="n" * 2000)).status_code == 201
    assert db.exec(select(Consent.note)).one() == "n" * 2000


def test_a_purpose_that_does_not_rest_on_consent_takes_no_consent(org, db):
    participant_with_holding(org, basis="legal_obligation")
    r = org.post(URL, paper())
    assert r.status_code == 422
    assert "consent" in r.json()["detail"]
    assert db.exec(select(Consent)).all() == []


def test_consents_for_an_unknown_participant_are_404(org):
    participant_with_holding(org)
    r = org.post("/api/v1/participants/nobody/consents", paper())
    assert r.status_code == 404


def test_a_consent_past_its_expiry_is_expired_everywhere(org, db):
    participant_with_holding(org)
    organization = db.exec(select(Organization)).one()
    enrollment = db.exec(select(Enrollment)).one()
    purpose = find_purpose(db, organization_id=organization.id, key="housing")
    decide(
        db,
        enrollment=enrollment,
        organization=organization,
        purpose=purpose,
        state="given",
        method="paper",
        notice=build_notice(purpose, organization, "en"),
        now=utcnow() - timedelta(days=366),
    )
    db.commit()
    (shown,) = org.get("/api/v1/participants/A-1").json()["consents"]
    assert shown["state"] == "expired"
    answer = org.post(CHECK, {"external_ref": "A-1", "purpose": "housing"}).json()
    assert (answer["allowed"], answer["state"], answer["expires_at"]) == (False, "expired", None)
    disclosed = org.post(
        "/api/v1/participants/A-1/disclosures",
        {"recipient": {"name": "Hennepin County"}, "purpose": "housing", "field_keys": ["phone"]},
    ).json()
    assert (disclosed["consent_state"], disclosed["flagged"]) == ("expired", True)
    # An expired consent cannot be withdrawn, but it can be given again.
    assert org.post(URL, paper("withdrawn")).status_code == 409
    assert consent(org)["state"] == "given"
    assert org.post(CHECK, {"external_ref": "A-1", "purpose": "housing"}).json()["allowed"]


# --- consent checks ---------------------------------------------------------------------


def check(org, **body):
    r = org.post(CHECK, {"external_ref": "A-1", "purpose": "housing", **body})
    assert r.status_code == 200, r.text
    return r.json()


def test_a_check_before_any_decision_is_not_allowed(org):
    participant_with_holding(org)
    answer = check(org)
    assert answer["allowed"] is False
    assert answer["state"] == "requested"
    assert answer["consent_id"] is None
    assert answer["expires_at"] is None
    assert answer["statements"] == []


def test_a_check_after_consent_is_allowed_and_says_until_when(org):
    participant_with_holding(org)
    given = consent(org)
    answer = check(org)
    assert answer["allowed"] is True
    assert answer["state"] == "given"
    assert answer["consent_id"] == given["id"]
    assert answer["expires_at"] == given["expires_at"]


def test_a_check_after_withdrawal_is_not_allowed(org):
    participant_with_holding(org)
    consent(org)
    withdrawn = consent(org, state="withdrawn")
    answer = check(org)
    assert answer["allowed"] is False
    assert answer["state"] == "withdrawn"
    assert answer["consent_id"] == withdrawn["id"]
    assert answer["expires_at"] is None


def test_a_check_names_the_recipient_as_a_name_a_slug_or_an_object(org, make_org):
    make_org("cedar-housing", "Cedar Housing Partners")
    add_purpose(
        org,
        recipients=[
            {"name": "Hennepin County"},
            {"name": "Cedar Housing Partners", "organization": "cedar-housing"},
        ],
    )
    enroll(org)
    consent(org)
    assert check(org, recipient="hennepin county")["allowed"] is True
    assert check(org, recipient="cedar-housing")["allowed"] is True
    assert check(org, recipient={"name": "Cedar", "organization": "cedar-housing"})["allowed"]
    assert check(org, recipient={"name": "Hennepin County"})["allowed"] is True
    unlisted = check(org, recipient="Acme Data Brokers")
    assert unlisted["allowed"] is False
    assert unlisted["state"] == "given"
    assert unlisted["recipient_listed"] is False


def test_a_check_for_a_purpose_that_needs_no_consent_is_allowed(org):
    participant_with_holding(org, basis="service")
    answer = check(org)
    assert answer["allowed"] is True
    assert answer["state"] == "service"
    assert answer["consent_id"] is None


def test_a_check_carries_the_participants_statements_of_disagreement(org, make_org, db):
    """Statements on any holding the organization holds about the participant, so they can
    be passed along with the data."""
    participant = claim_account(db, participant_with_holding(org)["claim_code"])
    add_purpose(org, "food", basis="service")
    hold(org, field_key="size", label="Household size", category="household", value="4")
    phone = db.exec(select(Holding).where(Holding.field_key == "phone")).one()
    correction = request_correction(
        db,
        own=own_holding(db, participant_id=participant.id, holding_id=phone.id),
        requested_value="612-555-0199",
        reason="That number is not mine.",
    )
    db.commit()
    r = org.post(
        f"/api/v1/corrections/{correction.id}/resolution",
        {"outcome": "denied", "reason": "Our intake form says otherwise."},
    )
    assert r.status_code == 200, r.text
    db.expire_all()
    add_statement(
        db,
        own=own_correction(db, participant_id=participant.id, correction_id=correction.id),
        text="I gave the right number; the form was copied wrong.",
    )
    db.commit()

    # Asked about a purpose the disputed holding does not serve: the statement still comes.
    answer = check(org, purpose="food")
    (statement,) = answer["statements"]
    assert statement["field_key"] == "phone"
    assert statement["text"] == "I gave the right number; the form was copied wrong."
    assert check(org)["statements"] == answer["statements"]

    # Another organization's check about its own participant carries none of them.
    cedar = make_org("cedar-housing", "Cedar Housing Partners")
    add_purpose(cedar)
    enroll(cedar, "A-1")
    assert check(cedar)["statements"] == []


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"external_ref": "nobody", "purpose": "housing"}, 404),
        ({"external_ref": "A-1", "purpose": "marketing"}, 422),
        ({"external_ref": "A-1"}, 422),
        ({"purpose": "housing"}, 422),
        ({"external_ref": "A\x00", "purpose": "housing"}, 422),
        ({"external_ref": "A-1", "purpose": "housing", "recipient": "x" * 100_000}, 422),
        ({"external_ref": "A-1", "purpose": "housing", "recipient": "County\x00"}, 422),
        ({"external_ref": "A-1", "purpose": "housing", "recipient": 7}, 422),
        ({"external_ref": "A-1", "purpose": "housing", "recipient": {"x": 1}}, 422),
        ({"external_ref": ["A-1"], "purpose": "housing"}, 422),
        ({"external_ref": "A-1", "purpose": "housing", "extra": True}, 422),
    ],
)
def test_bad_checks_are_refused(org, body, status):
    participant_with_holding(org)
    r = org.post(CHECK, body)
    assert r.status_code == status, r.text
    assert r.json()["detail"]
