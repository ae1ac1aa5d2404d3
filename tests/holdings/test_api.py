"""Holdings: PUT one, PUT the whole set, DELETE one, GET the list."""

from __future__ import annotations

import pytest
from sqlmodel import select

from app.holdings.models import Holding
from app.home.read_model import build_home
from tests.factories import add_purpose, claim_account, enrollment, hold, holding_body

PHONE = "/api/v1/participants/A-1/holdings/phone"
ALL = "/api/v1/participants/A-1/holdings"


@pytest.fixture
def ready(org):
    """A plan with `housing` (consent) and `food` (service, sensitive) and participant A-1."""
    add_purpose(org, "housing")
    add_purpose(org, "food", basis="service", sensitive=True)
    return enrollment(org)


def item(field_key: str, **overrides):
    return {"field_key": field_key, **holding_body(**overrides)}


def test_put_creates_then_updates(org, ready):
    r = org.put(PHONE, holding_body())
    assert r.status_code == 201, r.text
    held = r.json()
    assert held["field_key"] == "phone"
    assert held["value"] == "612-555-0100"
    assert held["purpose"] == "housing"
    assert held["collected_at"] == "2026-10-01"
    assert held["deleted_at"] is None

    r = org.put(PHONE, holding_body(value="612-555-0199"))
    assert r.status_code == 200
    assert r.json()["value"] == "612-555-0199"


def test_get_lists_the_holdings_wrapped_and_keyed(org, ready):
    hold(org, field_key="phone")
    hold(org, field_key="household_size", label="Household size", category="household", value="4")
    r = org.get(ALL)
    assert r.status_code == 200
    body = r.json()
    assert list(body) == ["holdings"]
    assert {h["field_key"]: h["value"] for h in body["holdings"]} == {
        "phone": "612-555-0100",
        "household_size": "4",
    }
    assert all(h["purpose"] == "housing" for h in body["holdings"])


def test_no_holdings_is_an_empty_list(org, ready):
    assert org.get(ALL).json() == {"holdings": []}


def test_sensitive_defaults_to_the_purposes_flag(org, ready):
    assert hold(org, field_key="a", purpose="food")["sensitive"] is True
    assert hold(org, field_key="b", purpose="food", sensitive=False)["sensitive"] is False
    assert hold(org, field_key="c", purpose="housing")["sensitive"] is False
    assert hold(org, field_key="d", purpose="housing", sensitive=True)["sensitive"] is True


def test_a_holding_without_a_purpose_is_refused(org, ready):
    body = holding_body()
    del body["purpose"]
    r = org.put(PHONE, body)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "purpose"]
    assert org.get(ALL).json() == {"holdings": []}


def test_a_holding_for_a_purpose_not_in_the_plan_is_refused(org, ready):
    r = org.put(PHONE, holding_body(purpose="marketing"))
    assert r.status_code == 422
    assert "marketing" in r.json()["detail"]
    assert "plan" in r.json()["detail"]
    assert org.get(ALL).json() == {"holdings": []}


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"purpose": None}, "purpose"),
        ({"purpose": "Housing!"}, "purpose"),
        ({"label": ""}, "label"),
        ({"label": "x" * 100_000}, "label"),
        ({"label": "Pho\x00ne"}, "label"),
        ({"label": ["Phone"]}, "label"),
        ({"category": "Contact Info"}, "category"),
        ({"value": "x" * 10_001}, "value"),
        ({"value": "612\x00555"}, "value"),
        ({"value": "\x08"}, "value"),
        ({"value": 6125550100}, "value"),
        ({"value": {"nested": "object"}}, "value"),
        ({"source": "Intake\x0bform"}, "source"),
        ({"collected_at": "yesterday"}, "collected_at"),
        ({"collected_at": "2026-02-30"}, "collected_at"),
        ({"collected_at": "10000-01-01"}, "collected_at"),
        ({"retain_until": 20261001}, "retain_until"),
        ({"sensitive": "maybe"}, "sensitive"),
        ({"owner": "someone"}, "owner"),
    ],
)
def test_bad_holdings_are_refused(org, ready, change, where):
    r = org.put(PHONE, holding_body(**change))
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert any(where in e["loc"] for e in detail), detail
    assert org.get(ALL).json() == {"holdings": []}


def test_line_breaks_and_any_language_are_fine(org, ready):
    value = "Calle 5 #12\nApt 3\tأ\u200f 日本 🏠"
    assert hold(org, value=value)["value"] == value
    assert org.get(ALL).json()["holdings"][0]["value"] == value


def test_a_1_mb_value_is_over_the_body_cap(org, ready):
    r = org.put(PHONE, holding_body(value="x" * 1_048_576))
    assert r.status_code == 413
    assert r.json()["detail"] == "request body too large"


@pytest.mark.parametrize("field_key", ["Phone", "pho ne", "x" * 65, "%00", "ph%0Aone"])
def test_bad_field_keys_in_the_path_are_refused(org, ready, field_key):
    r = org.put(f"/api/v1/participants/A-1/holdings/{field_key}", holding_body())
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"][:2] == ["path", "field_key"]


def test_holdings_of_an_unknown_participant_are_404(org, ready):
    for r in (
        org.put("/api/v1/participants/B-2/holdings/phone", holding_body()),
        org.put("/api/v1/participants/B-2/holdings", {"holdings": []}),
        org.delete("/api/v1/participants/B-2/holdings/phone"),
        org.get("/api/v1/participants/B-2/holdings"),
    ):
        assert r.status_code == 404, r.text
        assert "B-2" in r.json()["detail"]


# --- replacing the whole set --------------------------------------------------------------


def test_bulk_replace_counts_created_updated_deleted(org, ready):
    r = org.put(ALL, {"holdings": [item("phone"), item("email", value="a@example.org")]})
    assert r.status_code == 200, r.text
    assert r.json() == {"created": 2, "updated": 0, "deleted": 0}

    # The same set again changes nothing.
    r = org.put(ALL, {"holdings": [item("phone"), item("email", value="a@example.org")]})
    assert r.json() == {"created": 0, "updated": 0, "deleted": 0}

    # One changed, one gone, one new.
    r = org.put(ALL, {"holdings": [item("phone", value="612-555-0199"), item("size", value="4")]})
    assert r.json() == {"created": 1, "updated": 1, "deleted": 1}
    held = {h["field_key"]: h["value"] for h in org.get(ALL).json()["holdings"]}
    assert held == {"phone": "612-555-0199", "size": "4"}


def test_bulk_replace_brings_a_deleted_holding_back_as_created(org, ready):
    org.put(ALL, {"holdings": [item("phone"), item("email")]})
    org.put(ALL, {"holdings": [item("phone")]})
    r = org.put(ALL, {"holdings": [item("phone"), item("email", value="new@example.org")]})
    assert r.json() == {"created": 1, "updated": 0, "deleted": 0}
    held = {h["field_key"]: h for h in org.get(ALL).json()["holdings"]}
    assert held["email"]["value"] == "new@example.org"
    assert held["email"]["deleted_at"] is None


def test_bulk_replace_with_nothing_deletes_everything(org, ready):
    org.put(ALL, {"holdings": [item("phone"), item("email")]})
    assert org.put(ALL, {"holdings": []}).json() == {"created": 0, "updated": 0, "deleted": 2}
    assert org.get(ALL).json() == {"holdings": []}


@pytest.mark.parametrize(
    "body",
    [
        {"holdings": [item("phone"), item("email", purpose="marketing")]},
        {"holdings": [item("phone"), item("phone", value="other")]},
        {"holdings": [item("phone"), {k: v for k, v in item("email").items() if k != "purpose"}]},
        {"holdings": [item("phone"), item("Bad Key")]},
        {"holdings": [item("phone"), item("email", value="a\x00b")]},
        {"holdings": item("phone")},
        {"holdings": None},
        {},
        [item("phone")],
    ],
)
def test_a_bad_bulk_replace_changes_nothing(org, ready, body):
    org.put(ALL, {"holdings": [item("phone", value="kept"), item("email", value="kept too")]})
    r = org.put(ALL, body)
    assert r.status_code == 422, r.text
    assert r.json()["detail"]
    held = {h["field_key"]: h["value"] for h in org.get(ALL).json()["holdings"]}
    assert held == {"phone": "kept", "email": "kept too"}


def test_a_bulk_replace_of_more_than_2000_holdings_is_refused(org, ready):
    many = [
        {"field_key": f"k{i}", "label": "L", "category": "c", "value": "", "purpose": "food"}
        for i in range(2001)
    ]
    r = org.put(ALL, {"holdings": many})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "holdings"]


def test_a_bulk_replace_names_the_unknown_purposes(org, ready):
    r = org.put(ALL, {"holdings": [item("a", purpose="zeta"), item("b", purpose="alpha")]})
    assert r.status_code == 422
    assert "alpha, zeta" in r.json()["detail"]


# --- deleting -------------------------------------------------------------------------------


def test_delete_is_204_and_the_holding_leaves_the_list(org, ready):
    hold(org)
    r = org.delete(PHONE)
    assert r.status_code == 204
    assert r.content == b""
    assert org.get(ALL).json() == {"holdings": []}


def test_a_deleted_holding_keeps_when_but_not_its_value(org, ready, db):
    hold(org)
    org.delete(PHONE)
    (row,) = db.exec(select(Holding)).all()
    assert row.value is None
    assert row.deleted_at is not None

    (shown,) = org.get(ALL, params={"include_deleted": "true"}).json()["holdings"]
    assert shown["field_key"] == "phone"
    assert shown["value"] is None
    assert shown["deleted_at"] == row.deleted_at.isoformat()


def test_the_participant_sees_that_it_was_deleted_and_when(org, ready, db):
    code = ready["claim_code"]
    hold(org)
    hold(org, field_key="size", label="Household size", category="household", value="4")
    participant = claim_account(db, code)
    org.delete(PHONE)

    db.expire_all()
    (view,) = build_home(db, participant.id).organizations
    shown = {hv.holding.field_key: hv.holding for hvs in view.categories.values() for hv in hvs}
    assert shown["phone"].deleted_at is not None
    assert shown["phone"].value is None
    assert shown["size"].deleted_at is None
    assert view.holding_count == 1


def test_deleting_twice_or_an_unknown_holding_is_404(org, ready):
    hold(org)
    assert org.delete(PHONE).status_code == 204
    again = org.delete(PHONE)
    assert again.status_code == 404
    assert "phone" in again.json()["detail"]
    assert org.delete("/api/v1/participants/A-1/holdings/never").status_code == 404


def test_a_deleted_holding_can_be_put_back(org, ready):
    hold(org)
    org.delete(PHONE)
    r = org.put(PHONE, holding_body(value="612-555-0123"))
    assert r.status_code == 201
    assert r.json()["deleted_at"] is None
    assert org.get(ALL).json()["holdings"][0]["value"] == "612-555-0123"
