"""Staff give a holding's label and source in the portal's other languages too, as the plan
editor takes a purpose's title per language; the API then returns them per language."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.factories import csrf_from, enroll, hold, make_staff, purpose_body, staff_log_in

RECORD = "/staff/participants/A-1"
PHONE = {
    "label": "Phone number",
    "category": "contact",
    "value": "612-555-0100",
    "purpose": "housing",
    "source": "Intake form",
    "sensitive_shown": "1",
}


def _desk(app: Any, db: Any, org: Any) -> TestClient:
    assert org.put("/api/v1/purposes/housing", purpose_body()).status_code == 201
    enroll(org, "A-1")
    client = TestClient(app)
    staff = make_staff(db, org, role="case_manager")
    assert staff_log_in(client, staff.email).status_code == 200
    return client


def _post(client: TestClient, path: str, data: dict[str, Any]) -> Any:
    token = csrf_from(client.get(path).text)
    return client.post(path, data={"csrf_token": token, **data}, follow_redirects=False)


def _held(org: Any) -> dict[str, Any]:
    (held,) = org.get("/api/v1/participants/A-1/holdings").json()["holdings"]
    return held


def test_the_form_asks_for_the_label_in_each_other_language(app, db, org):
    form = _desk(app, db, org).get(RECORD + "/holdings/new").text
    for code in ("es", "hmn", "so"):
        assert f'name="label-{code}" type="text" maxlength="200" lang="{code}"' in form
        assert f'name="source-{code}"' in form
    assert 'name="label-en"' not in form  # the plain field is the English one


def test_labels_given_per_language_are_saved_per_language(app, db, org):
    desk = _desk(app, db, org)
    data = {**PHONE, "label-es": "Número de teléfono", "source-so": "Foomka"}
    assert _post(desk, RECORD + "/holdings/new", data).status_code == 303
    held = _held(org)
    assert held["label"] == {"en": "Phone number", "es": "Número de teléfono"}
    assert held["source"] == {"en": "Intake form", "so": "Foomka"}


def test_without_other_languages_the_label_stays_a_plain_string(app, db, org):
    desk = _desk(app, db, org)
    assert _post(desk, RECORD + "/holdings/new", PHONE).status_code == 303
    assert _held(org)["label"] == "Phone number"


def test_editing_shows_and_keeps_the_texts_per_language(app, db, org):
    desk = _desk(app, db, org)
    hold(org, label={"en": "Phone number", "hmn": "Xov tooj"})
    path = RECORD + "/holdings/phone/edit"
    form = desk.get(path).text
    assert 'value="Xov tooj"' in form and 'id="label" name="label"' in form
    data = {**PHONE, "label-hmn": "Xov tooj", "label-es": "Teléfono"}
    assert _post(desk, path, data).status_code == 303
    assert _held(org)["label"] == {"en": "Phone number", "hmn": "Xov tooj", "es": "Teléfono"}


def test_a_too_long_label_in_one_language_is_shown_on_its_field(app, db, org):
    desk = _desk(app, db, org)
    response = _post(desk, RECORD + "/holdings/new", {**PHONE, "label-so": "x" * 201})
    assert response.status_code == 422
    assert 'id="label-so-error"' in response.text
    assert org.get("/api/v1/participants/A-1/holdings").json() == {"holdings": []}
