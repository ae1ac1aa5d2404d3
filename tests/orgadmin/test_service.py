"""The org admin services over a real database: API keys, the facts the review reads, and the
dashboard's counts. The organization's side is set up through the real API."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from app.corrections.record import own_holding
from app.corrections.service import request_correction
from app.db import utcnow
from app.holdings.models import Holding
from app.orgadmin import service
from app.organizations.service import create_api_key, get_organization
from app.participants.models import Enrollment
from tests.factories import enroll_and_claim, holding_body, purpose_body


def test_api_keys_listed_and_revoked_only_by_their_organization(db, org, make_org):
    make_org("cedar", "Cedar Housing")
    northside, cedar = get_organization(db, "northside"), get_organization(db, "cedar")
    reporting_key = create_api_key(db, organization=northside, name="reporting")
    db.commit()

    keys = service.list_api_keys(db, organization=northside)
    assert sorted(k.name for k in keys) == ["default", "reporting"]
    reporting = next(k for k in keys if k.name == "reporting")

    # Cedar cannot revoke Northside's key: it is simply not found.
    assert service.revoke_api_key(db, organization=cedar, key_id=reporting.id) is None
    assert service.revoke_api_key(db, organization=northside, key_id=reporting.id) is reporting
    db.commit()
    assert reporting.revoked_at is not None
    # Live keys first.
    assert [k.name for k in service.list_api_keys(db, organization=northside)] == [
        "default",
        "reporting",
    ]
    # The revoked key no longer opens the API; the default one still does.
    revoked = {"Authorization": f"Bearer {reporting_key}"}
    assert org.client.get("/api/v1/purposes", headers=revoked).status_code == 401
    assert org.get("/api/v1/purposes").status_code == 200


def test_review_facts_come_from_the_organizations_own_holdings_and_enrollments(db, org, make_org):
    cedar = make_org("cedar", "Cedar Housing")
    assert org.put("/api/v1/purposes/housing", purpose_body()).status_code == 201
    assert cedar.put("/api/v1/purposes/housing", purpose_body()).status_code == 201
    r = org.post("/api/v1/participants", {"external_ref": "A-1", "preferred_language": "es"})
    assert r.status_code == 201, r.text
    r = cedar.post("/api/v1/participants", {"external_ref": "C-1", "preferred_language": "so"})
    assert r.status_code == 201
    body = holding_body(category="income", label="Income", value="1200")
    assert org.put("/api/v1/participants/A-1/holdings/income", body).status_code == 201

    northside = get_organization(db, "northside")
    assert service.held_categories(db, organization=northside) == {"income": {"housing"}}
    assert service.participant_languages(db, organization=northside) == {"es"}

    review = service.review_organization_plan(db, organization=northside)
    assert "uncovered_category" in review.kinds()


def test_dashboard_counts(db, org, make_org):
    cedar = make_org("cedar", "Cedar Housing")
    assert org.put("/api/v1/purposes/housing", purpose_body()).status_code == 201
    assert org.put("/api/v1/purposes/food", purpose_body("service")).status_code == 201
    assert cedar.put("/api/v1/purposes/housing", purpose_body()).status_code == 201
    people = [
        enroll_and_claim(db, org, external_ref=f"A-{i}", username=f"person{i}") for i in range(3)
    ]
    for person, states in zip(
        people, (["given"], ["given", "withdrawn"], ["refused"]), strict=True
    ):
        for state in states:
            r = org.post(
                f"/api/v1/participants/{person.external_ref}/consents",
                {"purpose": "housing", "state": state, "method": "paper"},
            )
            assert r.status_code == 201, r.text
    # Another organization's consents never count here.
    enroll_and_claim(db, cedar, external_ref="C-1", username="cedar1")
    r = cedar.post(
        "/api/v1/participants/C-1/consents",
        {"purpose": "housing", "state": "given", "method": "paper"},
    )
    assert r.status_code == 201
    # One correction requested.
    assert org.put("/api/v1/participants/A-0/holdings/phone", holding_body()).status_code == 201
    holding = db.exec(select(Holding).where(Holding.field_key == "phone")).one()
    participant_id = db.get(Enrollment, people[0].enrollment_id).participant_id
    own = own_holding(db, participant_id=participant_id, holding_id=holding.id)
    request_correction(db, own=own, requested_value="612-555-0199", reason="New number")
    db.commit()

    northside = get_organization(db, "northside")
    today = service.build_dashboard(db, organization=northside)
    assert [(c.purpose.key, c.counts) for c in today.consents] == [
        ("housing", {"given": 1, "withdrawn": 1, "expired": 0})
    ]
    assert (today.corrections_open, today.corrections_overdue) == (1, 0)
    assert today.acks_overdue == 0

    # Two years on: the given consent has expired, the correction and the acknowledgements
    # the organization was asked for (withdrawal, correction request) are overdue.
    later = service.build_dashboard(db, organization=northside, now=utcnow() + timedelta(days=730))
    assert later.consents[0].counts == {"given": 0, "withdrawn": 1, "expired": 1}
    assert (later.corrections_open, later.corrections_overdue) == (1, 1)
    assert later.acks_overdue >= 2
