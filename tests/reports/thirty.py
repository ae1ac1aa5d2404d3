"""Thirty participants of Northside made through the API: twenty gave consent to the
"housing" purpose (on paper, recorded by the organization's system), ten did not. Each has a
housing situation and an age band; the ten who did not consent all live in a car, so a
report that leaked them would show a value no counted person has."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from tests.factories import Org, add_purpose, enrollment

HOUSING = ["Housed"] * 12 + ["Shelter"] * 5 + ["Unsheltered"] * 3
AGES = ["18-24", "25-64"] * 10
NOT_CONSENTING_HOUSING = "Lives in a car"


@dataclass
class Thirty:
    org: Org
    refs: list[str]
    consenting: list[str]
    claim_codes: dict[str, str] = field(default_factory=dict)


def report_body(**overrides) -> dict:
    body = {
        "title": {"en": "Housing for the county", "es": "Vivienda para el condado"},
        "recipient": {"name": "Hennepin County"},
        "purpose": "housing",
        "count_by": ["housing_situation"],
    }
    body.update(overrides)
    return body


def _hold(org: Org, ref: str, key: str, label: str, category: str, value: str) -> None:
    body = {"label": label, "category": category, "value": value, "purpose": "housing"}
    r = org.put(f"/api/v1/participants/{ref}/holdings/{key}", body)
    assert r.status_code in (200, 201), r.text


@pytest.fixture
def thirty(housing_org: Org) -> Thirty:
    refs = [f"P-{n:02d}" for n in range(1, 31)]
    world = Thirty(org=housing_org, refs=refs, consenting=refs[:20])
    for n, ref in enumerate(refs):
        world.claim_codes[ref] = enrollment(housing_org, ref)["claim_code"]
        consenting = n < 20
        housing = HOUSING[n] if consenting else NOT_CONSENTING_HOUSING
        age = AGES[n] if consenting else "65+"
        _hold(housing_org, ref, "housing_situation", "Housing situation", "housing", housing)
        _hold(housing_org, ref, "age_band", "Age band", "household", age)
        if consenting:
            r = housing_org.post(
                f"/api/v1/participants/{ref}/consents",
                {"purpose": "housing", "state": "given", "method": "paper"},
            )
            assert r.status_code == 201, r.text
    return world


@pytest.fixture
def consent_purpose_too(housing_org: Org) -> None:
    add_purpose(housing_org, "funder", title={"en": "Counts for our funder"})
