"""CSRF: every state-changing browser request needs the token (form field or, for HTMX, the
X-CSRF-Token header); without it or with a wrong one the answer is 403 and nothing changes."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlmodel import select

from app.participants.models import Enrollment, Participant
from app.security.models import WebSession
from tests.factories import PIN, claim, csrf_from, enroll, page_csrf

WRONG_TOKEN = "0" * 64


def _open_sessions(db) -> list[WebSession]:
    db.expire_all()
    return list(db.exec(select(WebSession).where(WebSession.revoked_at.is_(None))))  # type: ignore[union-attr]


@pytest.mark.parametrize("token", [None, "", WRONG_TOKEN])
def test_claim_without_a_valid_token_creates_nothing(client, housing_org, db, token):
    code = enroll(housing_org)
    client.get(f"/claim/{code}")
    data = {"username": "maria", "pin": PIN, "confirm_pin": PIN}
    if token is not None:
        data["csrf_token"] = token
    response = client.post(f"/claim/{code}", data=data)
    assert response.status_code == 403
    assert "Nothing was changed" in response.text
    assert db.exec(select(Participant)).first() is None
    assert db.exec(select(Enrollment)).one().participant_id is None
    assert client.get(f"/claim/{code}").status_code == 200  # the code still works


@pytest.mark.parametrize("token", [None, WRONG_TOKEN])
def test_login_without_a_valid_token_starts_no_session(client, person, db, token):
    client.cookies.clear()
    client.get("/login")
    data = {"username": person.username, "pin": person.pin}
    if token is not None:
        data["csrf_token"] = token
    assert client.post("/login", data=data).status_code == 403
    assert len(_open_sessions(db)) == 1  # only the one from claiming, on the old cookie


@pytest.mark.parametrize("token", [None, WRONG_TOKEN])
def test_logout_without_a_valid_token_keeps_the_session(client, person, db, token):
    data = {} if token is None else {"csrf_token": token}
    assert client.post("/logout", data=data).status_code == 403
    assert client.get("/").status_code == 200
    assert len(_open_sessions(db)) == 1


def test_a_token_from_another_browser_is_refused(client, person, app):
    with TestClient(app, follow_redirects=False) as attacker:
        their_token = page_csrf(attacker, "/login")
    assert client.post("/logout", data={"csrf_token": their_token}).status_code == 403
    assert client.get("/").status_code == 200


def test_the_token_changes_at_login(client, housing_org):
    before = page_csrf(client, "/login")
    assert claim(client, enroll(housing_org)).status_code == 200
    after = page_csrf(client, "/")
    assert before != after
    # The signed-out token no longer works for the signed-in browser.
    assert client.post("/logout", data={"csrf_token": before}).status_code == 403


def test_htmx_requests_send_the_token_in_a_header(client, person, db):
    html = client.get("/").text
    token = csrf_from(html)
    assert f'data-hx-headers=\'{{"X-CSRF-Token": "{token}"}}\'' in html
    refused = client.post("/logout", headers={"HX-Request": "true"})
    assert refused.status_code == 403
    accepted = client.post("/logout", headers={"HX-Request": "true", "X-CSRF-Token": token})
    assert accepted.status_code == 204
    assert accepted.headers["HX-Redirect"] == "/login?logged_out=1"
    assert _open_sessions(db) == []


def _routes(routes, prefix: str = ""):
    """Every APIRoute with its full path, also inside included routers (FastAPI keeps those
    as wrappers around the original router)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _routes(included.routes, prefix + route.include_context.prefix)
        elif isinstance(route, APIRoute):
            yield prefix + route.path, route.methods


def _web_posts(app) -> list[str]:
    """Every state-changing route outside the organization API (which uses bearer keys)."""
    paths = set()
    for path, methods in _routes(app.routes):
        if not path.startswith("/api/") and methods & {"POST", "PUT", "PATCH", "DELETE"}:
            paths.add(re.sub(r"\{[^}]+\}", "x", path))
    return sorted(paths)


def test_every_state_changing_web_route_refuses_a_missing_token(client, person, app):
    paths = _web_posts(app)
    assert "/logout" in paths and "/claim/x" in paths
    for path in paths:
        response = client.post(path, data={"anything": "1"})
        assert response.status_code == 403, (
            f"{path} answered {response.status_code} without a CSRF token"
        )
    assert client.get("/").status_code == 200  # and nothing logged the participant out
