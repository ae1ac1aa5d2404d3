"""Staff record what they hold in the browser: Add data, Edit, Delete and Record a
disclosure on a participant's record page, with the same effects as the API (one service
underneath), and only for their own organization's participants."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import select

from app.disclosures.models import Disclosure
from app.holdings.models import Holding
from app.participants.models import Enrollment
from app.staff.models import StaffAccess
from tests.factories import (
    claim,
    consent,
    csrf_from,
    enroll,
    hold,
    make_staff,
    purpose_body,
    staff_log_in,
)

RECORD = "/staff/participants/A-1"


def _plan(org: Any) -> None:
    assert org.put("/api/v1/purposes/housing", purpose_body()).status_code == 201
    food = purpose_body(basis="service", title={"en": "Giving you food each week"})
    assert org.put("/api/v1/purposes/food", food).status_code == 201


def _staff_client(app: Any, db: Any, org: Any, role: str = "case_manager", **kw: Any) -> TestClient:
    client = TestClient(app)
    staff = make_staff(db, org, role=role, **kw)
    assert staff_log_in(client, staff.email).status_code == 200
    return client


def _participant_client(app: Any, org: Any, ref: str, username: str) -> TestClient:
    client = TestClient(app)
    code = enroll(org, ref)
    assert claim(client, code, username=username).status_code == 200
    return client


def _post(client: TestClient, path: str, data: dict[str, Any]) -> Any:
    token = csrf_from(client.get(path).text)
    return client.post(path, data={"csrf_token": token, **data}, follow_redirects=False)


PHONE = {
    "label": "Phone number",
    "category": "contact",
    "value": "612-555-0100",
    "purpose": "housing",
    "source": "Intake form",
}


def _holding_li(html: str) -> str:
    match = re.search(r'<li class="holding[^"]*" id="holding-[^"]+">(.*?)</li>', html, re.S)
    assert match, html
    return re.sub(r"hld_[0-9a-f]+|holding-\d+|/holdings/\d+|\b\d{2,}\b", "N", match.group(1))


def test_added_data_is_seen_as_an_api_made_holding(app, db, org):
    _plan(org)
    participant = _participant_client(app, org, "A-1", "dana")
    other = _participant_client(app, org, "A-2", "river")
    staff = _staff_client(app, db, org)

    record = staff.get(RECORD)
    assert (
        'href="/staff/participants/A-1/holdings/new"' in record.text and "Add data" in record.text
    )
    response = _post(staff, RECORD + "/holdings/new", {**PHONE, "sensitive_shown": "1"})
    assert response.status_code == 303
    assert response.headers["location"] == RECORD + "?saved=added"
    assert "The participant can now see this data" in staff.get(response.headers["location"]).text

    listed = org.get("/api/v1/participants/A-1/holdings").json()["holdings"]
    assert [
        (h["field_key"], h["label"], h["value"], h["purpose"], h["source"]) for h in listed
    ] == [("phone-number", "Phone number", "612-555-0100", "housing", "Intake form")]
    assert listed[0]["sensitive"] is False
    # The same holding made through the API for another participant looks the same to them.
    body = {k: v for k, v in PHONE.items()}
    assert org.put("/api/v1/participants/A-2/holdings/phone-number", body).status_code == 201
    mine, theirs = participant.get("/"), other.get("/")
    assert "612-555-0100" in mine.text or "Phone number" in mine.text
    assert _holding_li(mine.text) == _holding_li(theirs.text)

    # The same label again gets a key of its own.
    assert _post(staff, RECORD + "/holdings/new", PHONE).status_code == 303
    keys = [h["field_key"] for h in org.get("/api/v1/participants/A-1/holdings").json()["holdings"]]
    assert sorted(keys) == ["phone-number", "phone-number-2"]


def test_sensitive_category_is_sensitive_and_the_box_decides_otherwise(app, db, org):
    _plan(org)
    enroll(org, "A-1")
    staff = _staff_client(app, db, org, role="org_admin")
    health = {**PHONE, "label": "Diagnosis", "category": "health", "sensitive_shown": "1"}
    assert _post(staff, RECORD + "/holdings/new", health).status_code == 303
    ticked = {**PHONE, "label": "Address", "sensitive": "1", "sensitive_shown": "1"}
    assert _post(staff, RECORD + "/holdings/new", ticked).status_code == 303
    by_key = {
        h["field_key"]: h for h in org.get("/api/v1/participants/A-1/holdings").json()["holdings"]
    }
    assert by_key["diagnosis"]["sensitive"] is True
    assert by_key["address"]["sensitive"] is True


def test_edit_changes_the_value_as_the_api_would(app, db, org):
    _plan(org)
    participant = _participant_client(app, org, "A-1", "dana")
    hold(org, "A-1", "phone")
    staff = _staff_client(app, db, org)
    record = staff.get(RECORD)
    assert 'href="/staff/participants/A-1/holdings/phone/edit"' in record.text
    form = staff.get(RECORD + "/holdings/phone/edit")
    assert 'value="612-555-0100"' not in form.text  # a textarea
    assert "612-555-0100</textarea>" in form.text and 'value="Phone number"' in form.text
    before = org.get("/api/v1/participants/A-1/holdings").json()["holdings"][0]

    response = _post(
        staff,
        RECORD + "/holdings/phone/edit",
        {**PHONE, "value": "651-555-0199", "sensitive_shown": "1"},
    )
    assert response.status_code == 303 and response.headers["location"] == RECORD + "?saved=updated"
    after = org.get("/api/v1/participants/A-1/holdings").json()["holdings"]
    assert [(h["field_key"], h["value"]) for h in after] == [("phone", "651-555-0199")]
    assert after[0]["updated_at"] >= before["updated_at"]
    home = participant.get("/").text
    assert "651-555-0199" in home or "phone" in home.lower()
    db.expire_all()
    assert db.exec(select(Holding)).one().value == "651-555-0199"


def test_delete_asks_first_and_the_participant_sees_it_deleted(app, db, org):
    _plan(org)
    participant = _participant_client(app, org, "A-1", "dana")
    hold(org, "A-1", "phone")
    staff = _staff_client(app, db, org)
    page = staff.get(RECORD + "/holdings/phone/delete")
    assert page.status_code == 200 and ">Delete</button>" in page.text
    db.expire_all()
    assert db.exec(select(Holding)).one().deleted_at is None  # asking deletes nothing

    response = _post(staff, RECORD + "/holdings/phone/delete", {})
    assert response.status_code == 303 and response.headers["location"] == RECORD + "?saved=deleted"
    assert org.get("/api/v1/participants/A-1/holdings").json()["holdings"] == []
    deleted = org.get("/api/v1/participants/A-1/holdings?include_deleted=true").json()["holdings"]
    assert deleted[0]["deleted_at"] is not None and deleted[0]["value"] is None
    assert "The organization no longer holds it" in participant.get("/").text
    # The participant sees who changed their data, as they see every look at their record.
    assert "added, changed or deleted data about you" in participant.get("/access").text
    # A second delete finds nothing: 404.
    assert staff.get(RECORD + "/holdings/phone/delete").status_code == 404


def _disclose(staff: TestClient, data: dict[str, Any]) -> Any:
    return _post(staff, RECORD + "/disclosures/new", data)


def test_disclosure_not_flagged_is_saved_at_once(app, db, org):
    _plan(org)
    enroll(org, "A-1")
    hold(org, "A-1", "phone")
    consent(org, "A-1", "housing", "given")
    staff = _staff_client(app, db, org)
    form = staff.get(RECORD + "/disclosures/new")
    assert ">Phone number</label>" in form.text
    response = _disclose(
        staff, {"recipient": "Hennepin County", "purpose": "housing", "field_keys": ["phone"]}
    )
    assert response.status_code == 303
    assert response.headers["location"] == RECORD + "?saved=disclosure"
    db.expire_all()
    disclosure = db.exec(select(Disclosure)).one()
    assert (disclosure.flagged, disclosure.field_keys, disclosure.consent_state) == (
        False,
        ["phone"],
        "given",
    )


def test_flagged_disclosure_warns_first_and_is_flagged_as_the_api_flags_it(app, db, org):
    _plan(org)
    enroll(org, "A-1")
    hold(org, "A-1", "phone")  # no consent given for housing
    staff = _staff_client(app, db, org)
    data = {"recipient": "Acme Landlords", "purpose": "housing", "field_keys": ["phone"]}
    warning = _disclose(staff, data)
    assert warning.status_code == 200
    assert "This disclosure will be flagged" in warning.text
    assert "has not given it" in warning.text and "not among this purpose" in warning.text
    assert 'name="confirm" value="1"' in warning.text
    db.expire_all()
    assert db.exec(select(Disclosure)).all() == []  # nothing saved before confirming

    confirmed = _disclose(staff, {**data, "confirm": "1"})
    assert confirmed.status_code == 303
    assert confirmed.headers["location"] == RECORD + "?saved=disclosure_flagged"
    # The API, given the same, flags it the same way.
    api = org.post(
        "/api/v1/participants/A-1/disclosures",
        {"recipient": {"name": "Acme Landlords"}, "purpose": "housing", "field_keys": ["phone"]},
    ).json()
    db.expire_all()
    mine, theirs = sorted(db.exec(select(Disclosure)), key=lambda d: d.id != api["disclosure_id"])[
        ::-1
    ]
    assert (mine.flagged, mine.flag_reasons, mine.consent_state) == (
        api["flagged"],
        api["flag_reasons"],
        api["consent_state"],
    )
    assert mine.flagged and mine.flag_reasons == ["consent_not_given", "recipient_not_in_plan"]
    enrollment = db.exec(select(Enrollment).where(Enrollment.external_ref == "A-1")).one()
    actions = db.exec(select(StaffAccess.action).where(StaffAccess.enrollment_id == enrollment.id))
    assert "recorded_disclosure" in list(actions)


def test_another_organizations_participant_is_not_found(app, db, org, make_org):
    _plan(org)
    enroll(org, "A-1")
    hold(org, "A-1", "phone")
    other = make_org("southside", "Southside Clinic")
    staff_b = _staff_client(app, db, other, email="sam@southside.example", role="org_admin")
    for path in (
        "/holdings/new",
        "/holdings/phone/edit",
        "/holdings/phone/delete",
        "/disclosures/new",
    ):
        assert staff_b.get(RECORD + path).status_code == 404
    token = csrf_from(staff_b.get("/staff").text)
    for path, data in (
        ("/holdings/new", PHONE),
        ("/holdings/phone/edit", {**PHONE, "value": "stolen"}),
        ("/holdings/phone/delete", {}),
        ("/disclosures/new", {"recipient": "X", "purpose": "housing", "field_keys": "phone"}),
    ):
        response = staff_b.post(RECORD + path, data={"csrf_token": token, **data})
        assert response.status_code == 404
    listed = org.get("/api/v1/participants/A-1/holdings").json()["holdings"]
    assert [(h["field_key"], h["value"]) for h in listed] == [("phone", "612-555-0100")]
    db.expire_all()
    assert db.exec(select(Disclosure)).all() == []


def test_without_the_csrf_token_nothing_is_saved(app, db, org):
    _plan(org)
    enroll(org, "A-1")
    hold(org, "A-1", "phone")
    staff = _staff_client(app, db, org)
    for path, data in (
        ("/holdings/new", PHONE),
        ("/holdings/phone/delete", {}),
        (
            "/disclosures/new",
            {
                "recipient": "Hennepin County",
                "purpose": "housing",
                "field_keys": "phone",
                "confirm": "1",
            },
        ),
    ):
        response = staff.post(RECORD + path, data=data, follow_redirects=False)
        assert response.status_code in (400, 403), (path, response.status_code)
    listed = org.get("/api/v1/participants/A-1/holdings").json()["holdings"]
    assert [h["field_key"] for h in listed] == ["phone"]
    db.expire_all()
    assert db.exec(select(Disclosure)).all() == []


def test_bad_input_shows_the_form_again_and_saves_nothing(app, db, org):
    _plan(org)
    enroll(org, "A-1")
    staff = _staff_client(app, db, org)
    cases = [
        ({**PHONE, "label": ""}, "Enter a label"),
        ({**PHONE, "value": " "}, "Enter the value you hold"),
        ({**PHONE, "purpose": ""}, "Choose the purpose this data serves"),
        ({**PHONE, "purpose": "marketing"}, "Choose a purpose from your data collection plan"),
        ({**PHONE, "category": "Not A Key!"}, "Check this field"),
        ({**PHONE, "label": "x" * 201}, "Check this field"),
        ({**PHONE, "value": "a\x00b"}, "Check this field"),
    ]
    for data, message in cases:
        response = _post(staff, RECORD + "/holdings/new", data)
        assert response.status_code == 422, (data, response.status_code)
        assert "Nothing was saved" in response.text and message in response.text, data
    assert org.get("/api/v1/participants/A-1/holdings").json()["holdings"] == []

    hold(org, "A-1", "phone")
    bad_disclosures = [
        ({"recipient": "Hennepin County", "purpose": "housing"}, "Choose at least one item"),
        (
            {"recipient": "Hennepin County", "purpose": "housing", "field_keys": "nope"},
            "Choose at least one item",
        ),
        ({"recipient": "", "purpose": "housing", "field_keys": "phone"}, "Enter who received"),
        (
            {"recipient": "Hennepin County", "purpose": "nope", "field_keys": "phone"},
            "from your data collection plan",
        ),
    ]
    for data, message in bad_disclosures:
        response = _disclose(staff, {**data, "confirm": "1"})
        assert response.status_code == 422 and message in response.text, data
    db.expire_all()
    assert db.exec(select(Disclosure)).all() == []
