"""Who reaches the org admin pages: signed out → the staff login; a case manager → 404 (the
pages do not exist for them, so they can't edit the plan); an org admin → only their own
organization's purposes, keys and endpoints (another's are 404, never shown or changed)."""

from __future__ import annotations

import pytest
from sqlmodel import select

from app.organizations.models import ApiKey
from app.organizations.service import get_organization
from app.webhooks.models import WebhookEndpoint
from app.webhooks.service import create_endpoint
from tests.factories import csrf_from, purpose_body, send_form, sign_in_staff

PAGES = [
    "/staff/org",
    "/staff/org/profile",
    "/staff/org/plan",
    "/staff/org/plan/housing",
    "/staff/org/new-purpose",
    "/staff/org/review",
    "/staff/org/keys",
    "/staff/org/endpoints",
    "/staff/org/reports",
    "/staff/org/reports/new",
    "/staff/org/story-words",
]


def _cedar_with_things(db, make_org):
    """Another organization with a purpose, a key and an endpoint of its own."""
    cedar = make_org("cedar", "Cedar Housing")
    assert cedar.put("/api/v1/purposes/shelter", purpose_body()).status_code == 201
    organization = get_organization(db, "cedar")
    endpoint = create_endpoint(
        db,
        organization_id=organization.id,
        url="http://127.0.0.1:9/cedar",
        event_types=None,
        production=False,
    )
    db.commit()
    key = db.exec(select(ApiKey).where(ApiKey.organization_id == organization.id)).one()
    return cedar, key, endpoint


@pytest.mark.parametrize("path", PAGES)
def test_signed_out_goes_to_the_staff_login(org, client, path):
    assert org.put("/api/v1/purposes/housing", purpose_body()).status_code == 201
    r = client.get(path)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/staff/login?next=")


def test_a_case_manager_gets_404_and_cannot_change_the_plan(db, org, client):
    assert org.put("/api/v1/purposes/housing", purpose_body()).status_code == 201
    sign_in_staff(db, client, org, role="case_manager")
    for path in PAGES:
        assert client.get(path).status_code == 404, path
    token = csrf_from(client.get("/staff").text)
    changed = {"csrf_token": token, "title-en": "Changed by a case manager", "basis": "service"}
    assert client.post("/staff/org/plan/housing", data=changed).status_code == 404
    assert client.post("/staff/org/new-purpose", data={**changed, "key": "x"}).status_code == 404
    assert (
        client.post("/staff/org/keys", data={"csrf_token": token, "name": "x"}).status_code == 404
    )
    data = {"csrf_token": token, "url": "http://127.0.0.1:9/x"}
    assert client.post("/staff/org/endpoints", data=data).status_code == 404
    purposes = org.get("/api/v1/purposes").json()["purposes"]
    assert purposes[0]["title"]["en"] == purpose_body()["title"]["en"]
    assert len(org.get("/api/v1/webhook-endpoints").json()["endpoints"]) == 0


def _org_admin_routes(app):
    """Every /staff/org page and form, read from the app's own routes (not a hand-kept
    list), with its path filled in. (Pages are left out of /openapi.json, and FastAPI keeps
    an included router's routes behind it: each gives its routes' effective paths.)"""
    filled = {"{purpose_key}": "housing", "{key_id}": "1", "{endpoint_id}": "x"}
    filled |= {"{report_key}": "county", "{run_id}": "run_x"}
    for top in app.router.routes:
        contexts = getattr(top, "effective_route_contexts", None)
        for route in contexts() if contexts else [top]:
            path = getattr(route, "path", "")
            if path == "/staff/org" or path.startswith("/staff/org/"):
                for placeholder, value in filled.items():
                    path = path.replace(placeholder, value)
                assert "{" not in path, path
                for method in sorted(set(route.methods) - {"HEAD"}):
                    yield method.lower(), path


def test_every_org_admin_route_is_404_to_a_case_manager(db, org, client, app):
    """Each page takes the admin desk dependency: one forgotten would show a case manager
    the page, or change the organization's data."""
    assert org.put("/api/v1/purposes/housing", purpose_body()).status_code == 201
    sign_in_staff(db, client, org, role="case_manager")
    token = csrf_from(client.get("/staff").text)
    routes = list(_org_admin_routes(app))
    assert len(routes) >= 20, routes
    for method, path in routes:
        if method == "get":
            r = client.get(path)
        else:
            r = client.request(method.upper(), path, data={"csrf_token": token})
        assert r.status_code == 404, (method, path, r.status_code)


def test_a_case_manager_of_another_organization_gets_404(db, org, make_org, client):
    cedar, key, endpoint = _cedar_with_things(db, make_org)
    sign_in_staff(db, client, org, role="case_manager")
    for path in (
        "/staff/org/plan/shelter",
        f"/staff/org/endpoints/{endpoint.id}",
    ):
        assert client.get(path).status_code == 404
    token = csrf_from(client.get("/staff").text)
    assert (
        client.post(f"/staff/org/keys/{key.id}/revoke", data={"csrf_token": token}).status_code
        == 404
    )


def test_an_org_admin_never_reaches_another_organizations_plan_keys_or_endpoints(
    db, org, make_org, client
):
    cedar, key, endpoint = _cedar_with_things(db, make_org)
    sign_in_staff(db, client, org)
    assert client.get("/staff/org/plan/shelter").status_code == 404
    r = send_form(
        client,
        "/staff/org/plan/shelter",
        {"title-en": "Taken over", "basis": "service"},
        page="/staff/org/plan",
    )
    assert r.status_code == 404
    assert "Cedar" not in client.get("/staff/org/plan").text

    token = csrf_from(client.get("/staff/org/keys").text)
    assert key.prefix not in client.get("/staff/org/keys").text
    assert (
        client.post(f"/staff/org/keys/{key.id}/revoke", data={"csrf_token": token}).status_code
        == 404
    )
    assert client.get(f"/staff/org/keys/{key.id}/revoke").status_code == 404  # nor asked about
    assert cedar.get("/api/v1/purposes").status_code == 200  # Cedar's key still works

    assert client.get(f"/staff/org/endpoints/{endpoint.id}").status_code == 404
    for action in ("rotate-secret", "delete", "enable"):
        r = client.post(f"/staff/org/endpoints/{endpoint.id}/{action}", data={"csrf_token": token})
        assert r.status_code == 404
        if action != "enable":
            assert client.get(f"/staff/org/endpoints/{endpoint.id}/{action}").status_code == 404
    assert endpoint.url not in client.get("/staff/org/endpoints").text
    db.expire_all()
    stored = db.get(WebhookEndpoint, endpoint.id)
    assert stored.deleted_at is None and stored.previous_secret is None
    assert cedar.get("/api/v1/purposes").json()["purposes"][0]["title"]["en"] != "Taken over"


def test_org_admin_forms_need_the_csrf_token(db, org, client):
    sign_in_staff(db, client, org)
    assert client.post("/staff/org/keys", data={"name": "no token"}).status_code == 403
    assert "no token" not in client.get("/staff/org/keys").text


@pytest.mark.parametrize("locale", ["en", "es"])
def test_every_page_renders_in_every_language(db, org, client, locale):
    weak = purpose_body(retention_days=None, categories=["health", "income"], description={})
    assert org.put("/api/v1/purposes/housing", weak).status_code == 201
    sign_in_staff(db, client, org)
    for path in PAGES:
        r = client.get(f"{path}?lang={locale}")
        assert r.status_code == 200, path
        assert f'<html lang="{locale}">' in r.text
        assert "style=" not in r.text  # the CSP forbids inline style


# --- stories: every staff route is its own organization's --------------------------------


def _story_routes(app, external_ref, story_id):
    """Every /staff/participants/{ref}/stories page and form, read from the app's routes."""
    filled = {"{external_ref}": external_ref, "{story_id}": story_id}
    for top in app.router.routes:
        contexts = getattr(top, "effective_route_contexts", None)
        for route in contexts() if contexts else [top]:
            path = getattr(route, "path", "")
            if path.startswith("/staff/participants/{external_ref}/stories"):
                for placeholder, value in filled.items():
                    path = path.replace(placeholder, value)
                for method in sorted(set(route.methods) - {"HEAD"}):
                    yield method.lower(), path


def test_every_story_route_is_404_to_another_organizations_staff(db, org, make_org, client, app):
    enrollment = org.post("/api/v1/participants", {"external_ref": "A-1"}).json()
    assert enrollment["external_ref"] == "A-1"
    story = org.post(
        "/api/v1/participants/A-1/stories",
        {"title": "T", "text": "Words", "use": {"en": "A report"}},
    ).json()
    routes = list(_story_routes(app, "A-1", story["story_id"]))
    assert len(routes) >= 5, routes
    for method, path in routes:  # signed out: the staff login
        r = client.request(method.upper(), path)
        assert r.status_code in (303, 403), (method, path, r.status_code)
    cedar = make_org("cedar", "Cedar Housing")
    cedar.post("/api/v1/participants", {"external_ref": "A-1"})  # the same reference there
    sign_in_staff(db, client, cedar, role="case_manager")
    token = csrf_from(client.get("/staff").text)
    for method, path in routes:
        if path.endswith("/stories"):
            continue  # Cedar's own A-1 has a (empty) list of its own
        if method == "get":
            r = client.get(path)
        else:
            r = client.request(method.upper(), path, data={"csrf_token": token, "text": "x"})
        assert r.status_code == 404, (method, path, r.status_code)
    assert "Words" not in client.get("/staff/participants/A-1/stories").text
