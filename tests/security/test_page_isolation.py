"""A participant sees only their own data: not another person's holdings, not through the
Show endpoint, not by guessing ids."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from app.holdings.models import Holding
from tests.factories import claim, enroll, hold


@pytest.fixture
def neighbour(app, housing_org, make_org):
    """Someone else, at another organization and at the same one, with sensitive data."""
    cedar = make_org("cedar", "Cedar Housing Partners")
    assert (
        cedar.put(
            "/api/v1/purposes/case",
            {
                "title": {"en": "Case work"},
                "basis": "service",
                "categories": ["health"],
                "recipients": [],
                "retention_days": 30,
                "refusal_consequence": {},
            },
        ).status_code
        == 201
    )
    with TestClient(app, follow_redirects=False) as their_phone:
        assert claim(their_phone, enroll(cedar, "C-1"), username="jordan").status_code == 200
        code = enroll(housing_org, "B-7")
        their_phone.post(f"/claim/{code}", data={"csrf_token": _token(their_phone, code)})
        hold(
            cedar,
            "C-1",
            "diagnosis",
            label="Diagnosis",
            category="health",
            value="Their secret",
            purpose="case",
            sensitive=True,
        )
        hold(housing_org, "B-7", "phone", value="612-555-0199", purpose="food")
        yield their_phone


def _token(client, code):
    from tests.factories import page_csrf

    return page_csrf(client, f"/claim/{code}")


def test_home_shows_only_my_own_data(client, person, neighbour):
    hold(person.org, person.external_ref, "phone", purpose="food")
    mine = client.get("/").text
    assert "612-555-0100" in mine
    assert "612-555-0199" not in mine and "Diagnosis" not in mine
    assert "Cedar Housing Partners" not in mine
    theirs = neighbour.get("/").text
    assert "612-555-0199" in theirs and "612-555-0100" not in theirs


def test_showing_someone_elses_value_is_not_found(client, person, neighbour, db):
    diagnosis = db.exec(select(Holding).where(Holding.field_key == "diagnosis")).one()
    for headers in ({}, {"HX-Request": "true"}):
        response = client.get(f"/holdings/{diagnosis.id}/value", headers=headers)
        assert response.status_code == 404
        assert "Their secret" not in response.text
    # The owner can.
    own = neighbour.get(f"/holdings/{diagnosis.id}/value", headers={"HX-Request": "true"})
    assert own.status_code == 200 and "Their secret" in own.text


def test_the_no_javascript_show_parameter_reveals_nothing_of_anyone_else(
    client, person, neighbour, db
):
    diagnosis = db.exec(select(Holding).where(Holding.field_key == "diagnosis")).one()
    assert "Their secret" not in client.get(f"/?show={diagnosis.id}").text


def test_a_deleted_value_cannot_be_shown(client, person, db):
    hold(
        person.org,
        person.external_ref,
        "hiv",
        label="HIV status",
        value="Positive",
        purpose="food",
        sensitive=True,
    )
    hiv = db.exec(select(Holding).where(Holding.field_key == "hiv")).one()
    assert (
        person.org.delete(f"/api/v1/participants/{person.external_ref}/holdings/hiv").status_code
        == 204
    )
    assert (
        client.get(f"/holdings/{hiv.id}/value", headers={"HX-Request": "true"}).status_code == 404
    )


def test_signed_out_nobody_sees_a_value(app, person, db):
    hold(
        person.org,
        person.external_ref,
        "hiv",
        label="HIV status",
        value="Positive",
        purpose="food",
        sensitive=True,
    )
    hiv = db.exec(select(Holding).where(Holding.field_key == "hiv")).one()
    with TestClient(app, follow_redirects=False) as stranger:
        response = stranger.get(f"/holdings/{hiv.id}/value")
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login")
