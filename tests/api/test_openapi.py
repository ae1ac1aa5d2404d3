"""The OpenAPI document at /openapi.json and the readable docs at /docs."""

from __future__ import annotations

ROUTES = {
    ("put", "/api/v1/purposes/{purpose_key}"),
    ("get", "/api/v1/purposes"),
    ("post", "/api/v1/participants"),
    ("post", "/api/v1/participants/{external_ref}/claim-codes"),
    ("get", "/api/v1/participants/{external_ref}"),
    ("put", "/api/v1/participants/{external_ref}/holdings/{field_key}"),
    ("put", "/api/v1/participants/{external_ref}/holdings"),
    ("delete", "/api/v1/participants/{external_ref}/holdings/{field_key}"),
    ("get", "/api/v1/participants/{external_ref}/holdings"),
    ("post", "/api/v1/participants/{external_ref}/disclosures"),
    ("post", "/api/v1/participants/{external_ref}/consents"),
    ("post", "/api/v1/consent-checks"),
}


def test_the_openapi_document_lists_every_route(client):
    r = client.get("/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["info"]["title"] == "Consent Portal"
    listed = {(m, p) for p, ops in doc["paths"].items() for m in ops}
    assert ROUTES <= listed, ROUTES - listed


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
