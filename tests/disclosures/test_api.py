"""POST /participants/{external_ref}/disclosures: always recorded, flagged when not covered."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from app.disclosures.models import Disclosure
from tests.factories import add_purpose, consent, enroll, hold, participant_with_holding

URL = "/api/v1/participants/A-1/disclosures"
COUNTY = {"name": "Hennepin County"}


def disclose(org, recipient=None, purpose="housing", field_keys=("phone",), **extra):
    body = {"recipient": recipient or COUNTY, "purpose": purpose, "field_keys": list(field_keys)}
    return org.post(URL, {**body, **extra})


def stored(db) -> list[Disclosure]:
    db.expire_all()
    return list(db.exec(select(Disclosure).order_by(Disclosure.created_at)))  # type: ignore[arg-type]


def test_without_consent_it_is_recorded_and_flagged(org, db):
    participant_with_holding(org)
    r = disclose(org)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["disclosure_id"].startswith("dsc_")
    assert body["consent_state"] == "requested"
    assert body["flagged"] is True
    assert body["flag_reasons"] == ["consent_not_given"]
    (row,) = stored(db)
    assert row.id == body["disclosure_id"]
    assert row.flagged is True
    assert row.field_keys == ["phone"]
    assert row.recipient_name == "Hennepin County"


def test_with_consent_given_to_a_listed_recipient_it_is_not_flagged(org, db):
    participant_with_holding(org)
    given = consent(org)
    body = disclose(org).json()
    assert body["consent_state"] == "given"
    assert body["flagged"] is False
    assert body["flag_reasons"] == []
    assert stored(db)[0].consent_id == given["id"]


def test_after_a_withdrawal_it_is_flagged_again(org):
    participant_with_holding(org)
    consent(org)
    consent(org, state="withdrawn")
    body = disclose(org).json()
    assert body["consent_state"] == "withdrawn"
    assert body["flagged"] is True


def test_a_refusal_flags_it(org):
    participant_with_holding(org)
    consent(org, state="refused")
    body = disclose(org).json()
    assert body["consent_state"] == "refused"
    assert body["flagged"] is True


def test_a_recipient_not_among_the_purposes_recipients_is_flagged(org):
    participant_with_holding(org)
    consent(org)
    body = disclose(org, {"name": "Acme Data Brokers"}).json()
    assert body["consent_state"] == "given"
    assert body["flagged"] is True
    assert body["flag_reasons"] == ["recipient_not_in_plan"]


def test_both_reasons_are_given_when_both_apply(org):
    participant_with_holding(org)
    body = disclose(org, {"name": "Acme Data Brokers"}).json()
    assert body["flag_reasons"] == ["consent_not_given", "recipient_not_in_plan"]


def test_the_recipient_name_is_matched_regardless_of_case_and_spaces(org):
    participant_with_holding(org)
    consent(org)
    assert disclose(org, {"name": "  hennepin COUNTY "}).json()["flagged"] is False


def test_a_network_recipient_is_matched_by_its_organization(org, make_org):
    make_org("cedar-housing", "Cedar Housing Partners")
    add_purpose(
        org, recipients=[{"name": "Cedar Housing Partners", "organization": "cedar-housing"}]
    )
    enroll(org)
    hold(org)
    consent(org)
    body = disclose(org, {"name": "Cedar (housing team)", "organization": "cedar-housing"}).json()
    assert body["flagged"] is False


def test_a_purpose_that_does_not_rest_on_consent_is_not_flagged_for_consent(org):
    participant_with_holding(org, basis="funder_contract")
    body = disclose(org).json()
    assert body["consent_state"] == "funder_contract"
    assert body["flagged"] is False
    unlisted = disclose(org, {"name": "Somebody Else"}).json()
    assert unlisted["flag_reasons"] == ["recipient_not_in_plan"]


def test_disclosed_at_is_kept_and_read_as_utc_without_a_time_zone(org, db):
    participant_with_holding(org)
    disclose(org, disclosed_at="2026-10-02T09:30:00")
    disclose(org, disclosed_at="2026-10-02T09:30:00-05:00")
    first, second = stored(db)
    assert first.disclosed_at == datetime(2026, 10, 2, 9, 30, tzinfo=UTC)
    assert second.disclosed_at == datetime(2026, 10, 2, 14, 30, tzinfo=UTC)


def test_a_deleted_holding_can_still_be_reported_as_disclosed(org):
    # It may have been shared before it was deleted: the truth is kept.
    participant_with_holding(org)
    org.delete("/api/v1/participants/A-1/holdings/phone")
    assert disclose(org).status_code == 201


def test_repeated_field_keys_are_recorded_once(org, db):
    participant_with_holding(org)
    disclose(org, field_keys=["phone", "phone"])
    assert stored(db)[0].field_keys == ["phone"]


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"purpose": "marketing"}, "marketing"),
        ({"field_keys": ["phone", "ssn"]}, "ssn"),
        ({"recipient": {"name": "X", "organization": "no-such-org"}}, "no-such-org"),
    ],
)
def test_unknown_purposes_field_keys_and_recipient_organizations_are_422(org, db, body, says):
    participant_with_holding(org)
    r = org.post(URL, {"recipient": COUNTY, "purpose": "housing", "field_keys": ["phone"], **body})
    assert r.status_code == 422, r.text
    assert says in r.json()["detail"]
    assert stored(db) == []


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"recipient": None}, "recipient"),
        ({"recipient": "Hennepin County"}, "recipient"),
        ({"recipient": {}}, "name"),
        ({"recipient": {"name": ""}}, "name"),
        ({"recipient": {"name": "x" * 100_000}}, "name"),
        ({"recipient": {"name": "Cty\x00"}}, "name"),
        ({"recipient": {"name": "County", "organization": "Not A Slug"}}, "organization"),
        ({"recipient": {"name": "County", "email": "x@example.org"}}, "email"),
        ({"purpose": None}, "purpose"),
        ({"purpose": "hous\x00ing"}, "purpose"),
        ({"field_keys": []}, "field_keys"),
        ({"field_keys": "phone"}, "field_keys"),
        ({"field_keys": ["phone\x00"]}, "field_keys"),
        ({"field_keys": ["k"] * 501}, "field_keys"),
        ({"disclosed_at": "last week"}, "disclosed_at"),
        ({"disclosed_at": "9999-12-31T23:59:59-05:00"}, "disclosed_at"),
        ({"disclosed_at": "0001-01-01T00:00:00+05:00"}, "disclosed_at"),
        ({"disclosed_at": 1e30}, "disclosed_at"),
        ({"why": "because"}, "why"),
    ],
)
def test_bad_disclosures_are_refused(org, db, change, where):
    participant_with_holding(org)
    body = {"recipient": COUNTY, "purpose": "housing", "field_keys": ["phone"], **change}
    r = org.post(URL, body)
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert any(where in e["loc"] for e in detail), detail
    assert stored(db) == []


def test_a_disclosure_for_an_unknown_participant_is_404(org, db):
    participant_with_holding(org)
    r = org.post(
        "/api/v1/participants/nobody/disclosures",
        {"recipient": COUNTY, "purpose": "housing", "field_keys": ["phone"]},
    )
    assert r.status_code == 404
    assert stored(db) == []
