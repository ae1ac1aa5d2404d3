"""Staff find a participant in one search box: by reference, or by the label of a holding."""

from __future__ import annotations

import re

from tests.factories import holding_body, make_staff, purpose_body, staff_log_in


def _refs(html: str) -> set[str]:
    return set(re.findall(r'href="/staff/participants/([^"]+)"', html))


def test_search_finds_by_reference_or_holding_label_and_only_in_own_organization(
    db, org, make_org, client
):
    assert org.put("/api/v1/purposes/housing", purpose_body()).status_code == 201
    for ref in ("A-100", "A-200", "B-300"):
        assert org.post("/api/v1/participants", {"external_ref": ref}).status_code == 201
    body = holding_body(label="Housing situation", value="Renting")
    assert org.put("/api/v1/participants/B-300/holdings/housing", body).status_code == 201
    other = make_org("cedar", "Cedar Housing")
    assert other.put("/api/v1/purposes/housing", purpose_body()).status_code == 201
    assert other.post("/api/v1/participants", {"external_ref": "A-999"}).status_code == 201

    staff_log_in(client, make_staff(db, org).email)
    home = client.get("/staff")
    assert 'type="search"' in home.text
    assert _refs(home.text) == {"A-100", "A-200", "B-300"}
    assert _refs(client.get("/staff", params={"q": "a-1"}).text) == {"A-100"}
    assert _refs(client.get("/staff", params={"q": " housing "}).text) == {"B-300"}
    assert _refs(client.get("/staff", params={"q": "A-999"}).text) == set()
    nothing = client.get("/staff", params={"q": "x" * 5000})
    assert nothing.status_code == 200 and _refs(nothing.text) == set()
