"""The OpenAPI document at /openapi.json and the readable docs at /docs."""

from __future__ import annotations

from fastapi.routing import APIRoute


def _routes(routes, prefix: str = ""):
    """Every APIRoute with its full path, also inside included routers (FastAPI keeps those
    as wrappers around the original router)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _routes(included.routes, prefix + route.include_context.prefix)
        elif isinstance(route, APIRoute):
            yield prefix + route.path, route


def _api_routes(app) -> set[tuple[str, str]]:
    """Every (method, path) the app itself serves under /api/, read from its routes (one left
    out of the schema with include_in_schema=False counts too: it would be undocumented)."""
    return {
        (method.lower(), path)
        for path, route in _routes(app.routes)
        if path.startswith("/api/")
        for method in route.methods - {"HEAD", "OPTIONS"}
    }


def undocumented(app, doc: dict) -> list[str]:
    """The API routes missing from the OpenAPI document, or there without a summary or
    description, or without responses."""
    missing = []
    for method, path in sorted(_api_routes(app)):
        operation = doc["paths"].get(path, {}).get(method)
        if operation is None:
            missing.append(f"{method.upper()} {path}: not in the document")
        elif not (operation.get("summary") or operation.get("description")):
            missing.append(f"{method.upper()} {path}: no summary or description")
        elif not operation.get("responses"):
            missing.append(f"{method.upper()} {path}: no responses")
    return missing


def test_the_openapi_document_lists_every_route(app, client):
    r = client.get("/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["info"]["title"] == "Consent Portal"
    routes = _api_routes(app)
    assert ("post", "/api/v1/consent-checks") in routes  # the walk found the API at all
    assert undocumented(app, doc) == []


def test_an_undocumented_route_is_caught(app, client):
    """The check above can fail: a route that the document leaves out is named."""
    doc = client.get("/openapi.json").json()
    del doc["paths"]["/api/v1/consent-checks"]["post"]
    assert undocumented(app, doc) == ["POST /api/v1/consent-checks: not in the document"]
    doc = client.get("/openapi.json").json()
    operation = doc["paths"]["/api/v1/purposes"]["get"]
    operation.pop("summary", None)
    operation.pop("description", None)
    assert undocumented(app, doc) == ["GET /api/v1/purposes: no summary or description"]


def test_the_openapi_document_describes_the_bodies(client):
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert {"title", "basis"} <= set(schemas["PurposeIn"]["required"])
    assert "purpose" in schemas["HoldingIn"]["required"]
    assert set(schemas["ConsentIn"]["properties"]["method"]["enum"]) == {"paper", "verbal"}


def test_the_docs_page_answers(client):
    r = client.get("/docs")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert "/openapi.json" in r.text
    assert "swagger" in r.text.lower()
