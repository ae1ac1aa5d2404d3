"""A number in a URL path that no row can have (past PostgreSQL's INTEGER or even BIGINT, or
negative) is a plain "Page not found", never a 500 from the database refusing to compare it.

The routes are found by walking the real app, so a route added later with an `int` path
parameter is walked too.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlmodel import select

from app.participants.models import Enrollment
from tests.factories import csrf_from, purpose_body, sign_in_staff

HUGE = [2**31, 2**63 - 1, 2**63, 10**30, -(2**63) - 1, 0]


def _routes(routes: list[Any]) -> list[APIRoute]:
    found: list[APIRoute] = []
    for route in routes:
        if hasattr(route, "original_router"):  # an included router
            found += _routes(route.original_router.routes)
        elif isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "routes"):
            found += _routes(route.routes)
    return found


def int_path_routes(app: Any) -> list[tuple[str, str, list[str]]]:
    """(method, path, its int parameters) for every route with an int path parameter."""
    found = []
    for route in _routes(app.routes):
        ints = [p.name for p in route.dependant.path_params if p.field_info.annotation is int]
        if ints:
            found += [(method, route.path, ints) for method in sorted(route.methods)]
    return found


@pytest.fixture
def signed_in(app, db, org):
    """An org admin (who may also run an intake) signed in, with one intake under way."""
    client = TestClient(app, raise_server_exceptions=False, follow_redirects=False)
    assert org.put("/api/v1/purposes/housing", purpose_body()).status_code == 201
    sign_in_staff(db, client, org)
    page = client.get("/staff/intake/language?ref=C-1")
    r = client.post(
        "/staff/intake/language",
        data={"external_ref": "C-1", "language": "none", "csrf_token": csrf_from(page.text)},
    )
    assert r.status_code == 303, r.text
    enrollment = db.exec(select(Enrollment).where(Enrollment.external_ref == "C-1")).one()
    return client, enrollment.id


def test_every_int_path_parameter_out_of_range_is_a_404_page(app, signed_in):
    client, enrollment_id = signed_in
    routes = int_path_routes(app)
    walked = {path for _, path, _ in routes}
    assert "/staff/org/keys/{key_id}/revoke" in walked
    assert "/staff/intake/{enrollment_id}/consent/{number}" in walked
    token = csrf_from(client.get("/staff/org/keys").text)
    for method, path, ints in routes:
        for number in HUGE:
            url = path.replace("{enrollment_id}", enrollment_id)
            for name in ints:
                url = url.replace(f"{{{name}}}", str(number))
            assert "{" not in url, f"no value for a parameter of {path}"
            if method == "GET":
                r = client.get(url)
            else:
                r = client.request(method, url, data={"csrf_token": token, "decision": "given"})
            assert r.status_code == 404, (method, url, r.status_code, r.text[:300])
            assert "Page not found" in r.text, (method, url)
    # The routes still work with a number that exists: the first consent question.
    assert client.get(f"/staff/intake/{enrollment_id}/consent/1").status_code == 200


def test_revoking_a_key_by_a_huge_number_revokes_nothing(app, signed_in, org):
    client, _ = signed_in
    token = csrf_from(client.get("/staff/org/keys").text)
    for number in (2**31, 2**63, 10**30):
        r = client.post(f"/staff/org/keys/{number}/revoke", data={"csrf_token": token})
        assert r.status_code == 404 and "Page not found" in r.text
    assert org.get("/api/v1/purposes").status_code == 200  # the organization's key still works
