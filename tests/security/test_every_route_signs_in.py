"""Every route asks who is there, unless it is deliberately public.

The routes are found by walking the real app, so a route added later is walked too: asked by
a visitor with no session, no API key and no CSRF token, each must refuse (401 or 403), not
find (404, or 405/422 for a body it can't read) or send to a log-in page. Only the public
pages listed here may answer 200, and each is listed with the reason it is public.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from fastapi.testclient import TestClient

from tests.web.test_path_ids import _routes

# Deliberately public: reachable before anyone has an account or a session.
PUBLIC = {
    "/login": "the participant's log in",
    "/claim": "entering the code from the card an organization gave, before any account",
    "/account/closed": "says the account is closed, to someone who no longer has one",
    "/staff/login": "staff log in",
    "/admin/login": "the network administrators' log in",
    "/docs": "the organization API's documentation (the API itself needs a key)",
}

# Deliberately public, and answered with a redirect elsewhere.
LEAVES = {"/exit": "quick exit works for anyone, at once: it ends any session and leaves"}

# Where a refused visitor may be sent: a log-in page (with where they were going).
LOG_IN_PAGES = {"/login", "/staff/login", "/admin/login"}


def _fill(path: str) -> str:
    # Any value: a route that is not public refuses before it looks anything up.
    return re.sub(r"\{[^}]+\}", "1", path)


def test_no_route_answers_a_stranger_unless_it_is_public(app):
    stranger = TestClient(app, raise_server_exceptions=False, follow_redirects=False)
    answered = {}
    for route in _routes(app.routes):
        for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
            response = stranger.request(method, _fill(route.path))
            status = response.status_code
            if 300 <= status < 400:
                target = urlsplit(response.headers["location"]).path
                assert target in LOG_IN_PAGES or route.path in LEAVES, (method, route.path, target)
            elif status < 300:
                answered[(method, route.path)] = status
            else:
                assert status in (401, 403, 404, 405, 409, 422, 429), (method, route.path, status)
    unexpected = {key: status for key, status in answered.items() if key[1] not in PUBLIC}
    assert unexpected == {}, unexpected
    # Every page listed as public was reached and answered: the walk can tell them apart,
    # and the list says no more than is true.
    assert {path for _method, path in answered} == set(PUBLIC)
