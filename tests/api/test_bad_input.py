"""Bad input anywhere in the organization API is a 4xx JSON with a clear `detail`, never a 500.

The last test sends a table of nasty values into every field of every body and every path
parameter, with a client that turns a server error into a 500 response instead of raising, so
a 500 anywhere fails the test.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.factories import consent, holding_body, participant_with_holding, purpose_body

CAP = 1_048_576

# (method, path, a body that would be accepted) for every JSON body in this area.
BODIES: list[tuple[str, str, dict[str, Any]]] = [
    ("PUT", "/api/v1/purposes/housing", purpose_body()),
    (
        "PUT",
        "/api/v1/organization",
        {
            "name": "Northside",
            "phone": "+1 612 555 0100",
            "address": "1200 Lake St",
            "opening_hours": "Mon-Fri 9-5",
            "languages": ["es", "so"],
        },
    ),
    ("POST", "/api/v1/participants", {"external_ref": "B-2", "preferred_language": "es"}),
    ("PUT", "/api/v1/participants/A-1/holdings/phone", holding_body()),
    (
        "PUT",
        "/api/v1/participants/A-1/holdings",
        {"holdings": [{"field_key": "phone", **holding_body()}]},
    ),
    (
        "POST",
        "/api/v1/participants/A-1/disclosures",
        {
            "recipient": {"name": "Hennepin County", "organization": "northside"},
            "purpose": "housing",
            "field_keys": ["phone"],
            "disclosed_at": "2026-10-02T09:30:00Z",
        },
    ),
    (
        "POST",
        "/api/v1/participants/A-1/consents",
        {"purpose": "housing", "state": "given", "method": "paper", "note": "signed form"},
    ),
    (
        "PUT",
        "/api/v1/reports/housing",
        {
            "title": {"en": "Housing for the county"},
            "recipient": {"name": "Hennepin County"},
            "purpose": "housing",
            "count_by": ["phone"],
            "period": {"from": "2026-01-01", "to": "2026-12-31"},
        },
    ),
    (
        "POST",
        "/api/v1/consent-checks",
        {"external_ref": "A-1", "purpose": "housing", "recipient": "Hennepin County"},
    ),
]
IDS = [f"{m} {p}" for m, p, _ in BODIES]


@pytest.fixture
def ready(org):
    participant_with_holding(org)
    consent(org)
    return org


def send_raw(client: TestClient, org, method: str, path: str, content: bytes, **headers: str):
    return client.request(
        method,
        path,
        content=content,
        headers={**org.headers, "Content-Type": "application/json", **headers},
    )


def assert_clear_4xx(r, *, allowed: tuple[int, ...] = (400, 404, 405, 409, 413, 422)) -> None:
    assert r.status_code in allowed, (r.status_code, r.text[:500])
    assert r.headers["content-type"].startswith("application/json"), r.headers
    detail = r.json()["detail"]
    assert detail, r.text
    if isinstance(detail, list):
        assert all(e["msg"] and "loc" in e for e in detail), detail


# --- malformed JSON -------------------------------------------------------------------------

MALFORMED = {
    "truncated": b'{"external_ref": ',
    "not json": b"external_ref=A-1",
    "single quotes": b"{'external_ref': 'A-1'}",
    "trailing comma": b'{"external_ref": "A-1",}',
    "empty": b"",
    "null": b"null",
    "a list": b"[]",
    "a string": b'"A-1"',
    "a number": b"42",
    "NaN": b'{"external_ref": NaN}',
    "not utf-8": b'{"external_ref": "\xff\xfe"}',
    "deep nesting": b"[" * 100_000,
    "huge number": b'{"retention_days": ' + b"9" * 5000 + b"}",
    "two objects": b'{"a": 1}{"b": 2}',
}


@pytest.mark.parametrize(("method", "path", "_body"), BODIES, ids=IDS)
def test_malformed_json_is_a_clear_4xx(ready, method, path, _body):
    for name, content in MALFORMED.items():
        r = send_raw(ready.client, ready, method, path, content)
        assert r.status_code in (400, 422), (name, r.status_code, r.text)
        assert r.json()["detail"], name


def test_a_json_syntax_error_says_where(ready):
    r = send_raw(ready.client, ready, "POST", "/api/v1/participants", b'{"external_ref": }')
    assert r.status_code == 422
    (error,) = r.json()["detail"]
    assert error["type"] == "json_invalid"
    assert error["loc"][0] == "body"


def test_a_body_that_is_not_json_at_all_is_refused(ready):
    r = ready.client.post(
        "/api/v1/participants",
        content=b"external_ref=A-9",
        headers={**ready.headers, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_clear_4xx(r, allowed=(422,))
    assert ready.get("/api/v1/participants/A-9").status_code == 404


# --- the 1 MB cap ---------------------------------------------------------------------------


def test_a_body_over_the_cap_is_413_before_anything_is_read(ready):
    body = json.dumps({"external_ref": "B-2", "pad": "x" * CAP}).encode()
    r = send_raw(ready.client, ready, "POST", "/api/v1/participants", body)
    assert r.status_code == 413
    assert r.json() == {"detail": "request body too large"}
    assert r.headers["x-content-type-options"] == "nosniff"
    assert ready.get("/api/v1/participants/B-2").status_code == 404


def test_a_chunked_body_over_the_cap_is_413_too(ready):
    """No Content-Length: the body is counted as it arrives."""

    def chunks() -> Iterator[bytes]:
        yield b'{"external_ref": "B-2", "pad": "'
        for _ in range(11):
            yield b"x" * 100_000
        yield b'"}'

    r = ready.client.post(
        "/api/v1/participants",
        content=chunks(),
        headers={**ready.headers, "Content-Type": "application/json"},
    )
    assert r.status_code == 413, r.text
    assert r.json() == {"detail": "request body too large"}
    assert ready.get("/api/v1/participants/B-2").status_code == 404


def test_a_chunked_body_under_the_cap_is_read(ready):
    def chunks() -> Iterator[bytes]:
        yield b'{"external_ref": '
        yield b'"B-2"}'

    r = ready.client.post(
        "/api/v1/participants",
        content=chunks(),
        headers={**ready.headers, "Content-Type": "application/json"},
    )
    assert r.status_code == 201, r.text


def test_a_body_just_under_the_cap_is_validated_not_refused(ready):
    pad = "x" * (CAP - 100)
    body = json.dumps({"external_ref": "B-2", "pad": pad}).encode()
    assert len(body) <= CAP
    r = send_raw(ready.client, ready, "POST", "/api/v1/participants", body)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "pad"]


@pytest.mark.parametrize(("method", "path", "_body"), BODIES, ids=IDS)
def test_every_route_has_the_cap(ready, method, path, _body):
    r = send_raw(ready.client, ready, method, path, b"[" + b" " * CAP + b"]")
    assert r.status_code == 413


def test_a_nonsense_content_length_is_400(ready):
    r = send_raw(
        ready.client, ready, "POST", "/api/v1/participants", b"{}", **{"Content-Length": "lots"}
    )
    assert r.status_code == 400
    assert "Content-Length" in r.json()["detail"]


# --- routes and methods that do not exist -------------------------------------------------


def test_an_unknown_api_route_is_a_json_404(ready):
    r = ready.get("/api/v1/nothing-here")
    assert r.status_code == 404
    assert r.json() == {"detail": "Not Found"}


def test_a_wrong_method_is_a_json_405(ready):
    r = ready.client.patch("/api/v1/purposes", headers=ready.headers)
    assert r.status_code == 405
    assert r.json()["detail"]


# --- no 500, whatever comes in ---------------------------------------------------------------

NASTY: list[Any] = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\x01\x02\x1b[2J\x7f",
    "\ud800",  # a lone surrogate: valid JSON escape, not encodable UTF-8
    "\ufeff\u202e\u200b",
    "x" * 100_000,
    "n" * 2_001,  # over a short column, under a long one: schema and column must agree
    "n" * 10_001,
    "🏠" * 300,
    "'; DROP TABLE holding; --",
    "../../etc/passwd",
    "%00",
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00+14:00",
    -1,
    0,
    10**40,
    1e308,
    True,
    None,
    [],
    [None, "\x00"],
    {},
    {"\x00": "\x00"},
    {"en": "\x00"},
]


def paths_in(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place in a JSON body where a value sits (objects and lists included)."""
    if prefix:
        yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from paths_in(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from paths_in(v, (*prefix, i))


def replaced(body: Any, path: tuple[Any, ...], value: Any) -> Any:
    body = copy.deepcopy(body)
    target = body
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return body


def with_key(body: dict, path: tuple[Any, ...], key: str) -> Any:
    """A nasty dict key where the body has a dict (title's locales, for one)."""
    body = copy.deepcopy(body)
    target = body
    for step in path:
        target = target[step]
    if isinstance(target, dict):
        target[key] = "value"
    return body


PATH_NASTY = ["%00", "%01", "%FF", "%ED%A0%80", "x" * 2000, "..", "%2E%2E", "A%0A1", "%F0%9F%8F%A0"]


@pytest.mark.parametrize(("method", "path", "body"), BODIES, ids=IDS)
def test_no_500_for_any_nasty_value_in_any_field(app, ready, method, path, body):
    client = TestClient(app, raise_server_exceptions=False)
    sent = 0
    variants: list[Any] = list(NASTY)  # the whole body replaced
    for where in paths_in(body):
        variants += [replaced(body, where, value) for value in NASTY]
        variants += [with_key(body, where, key) for key in ("\x00", "\ud800", "EN", "x" * 1000)]
    for variant in variants:
        content = json.dumps(variant).encode()  # ASCII escapes keep lone surrogates sendable
        r = send_raw(client, ready, method, path, content)
        assert r.status_code < 500, (variant if len(content) < 2000 else content[:300], r.text)
        # A variant may be harmless (e.g. an empty note): then it simply succeeds.
        if r.status_code >= 400:
            assert_clear_4xx(r)
        sent += 1
    assert sent > len(NASTY)


@pytest.mark.parametrize(("method", "path", "body"), BODIES, ids=IDS)
def test_no_500_for_any_nasty_path_parameter(app, ready, method, path, body):
    client = TestClient(app, raise_server_exceptions=False)
    segments = path.split("/")
    # /api/v1/... : the parameters are the segments after a collection name.
    params = [i for i, s in enumerate(segments) if s in ("A-1", "housing", "phone")]
    for index in params:
        for nasty in PATH_NASTY:
            bad = "/".join(nasty if i == index else s for i, s in enumerate(segments))
            r = send_raw(client, ready, method, bad, json.dumps(body).encode())
            assert r.status_code < 500, (bad[:200], r.text)
            if r.status_code >= 400:
                assert_clear_4xx(r)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/participants/{ref}",
        "/api/v1/participants/{ref}/holdings",
        "/api/v1/participants/{ref}/holdings?include_deleted=maybe",
    ],
)
def test_no_500_on_reads_with_nasty_refs(app, ready, path):
    client = TestClient(app, raise_server_exceptions=False)
    for nasty in [*PATH_NASTY, quote("\x00", safe=""), quote("名前", safe="")]:
        r = client.get(path.format(ref=nasty), headers=ready.headers)
        assert_clear_4xx(r)
    r = client.delete("/api/v1/participants/A-1/holdings/%00", headers=ready.headers)
    assert_clear_4xx(r)


def test_nul_and_control_characters_are_named_in_the_detail(ready):
    r = ready.post("/api/v1/participants", {"external_ref": "A\x00B"})
    assert r.status_code == 422
    assert "control characters" in r.json()["detail"][0]["msg"]
    r = ready.get("/api/v1/participants/A%00B")
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["path", "external_ref"]


def test_a_real_server_answers_413_to_an_endless_chunked_body(live_server, org):
    """Under uvicorn, as in production: the 413 comes back while the client is still sending."""

    def endless() -> Iterator[bytes]:
        yield b'{"external_ref": "B-2", "pad": "'
        for _ in range(40):  # 4 MB, far past the cap
            yield b"x" * 100_000

    with httpx.Client(base_url=live_server.url, timeout=10) as http:
        r = http.post(
            "/api/v1/participants",
            content=endless(),
            headers={**org.headers, "Content-Type": "application/json"},
        )
        assert r.status_code == 413
        assert r.json() == {"detail": "request body too large"}
        assert http.get("/api/v1/participants/B-2", headers=org.headers).status_code == 404


def _cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "after",
    [
        "99999999999999999999999",
        _cursor("p:99999999999999999999999"),
        _cursor(f"p:{2**63}"),
        _cursor("p:" + "9" * 140),
    ],
)
def test_a_feed_cursor_past_any_position_is_a_422_not_a_500(app, ready, after):
    client = TestClient(app, raise_server_exceptions=False)
    r = client.get("/api/v1/events", params={"after": after}, headers=ready.headers)
    assert_clear_4xx(r, allowed=(422,))
    assert r.json() == {"detail": "not a cursor from this feed"}


def test_the_largest_feed_position_is_still_a_cursor(app, ready):
    after = _cursor(f"p:{2**63 - 1}")
    r = ready.get("/api/v1/events", params={"after": after})
    assert r.status_code == 200, r.text
    assert r.json() == {"events": [], "next": after}
