"""After logging in, the participant goes back where they were, but never to another site."""

from __future__ import annotations

import pytest

from app.web.forms import safe_next
from tests.factories import logout, page_csrf


@pytest.mark.parametrize("path", ["/", "/claim/ABCD-EFGH-JKMN", "/consents/ptp_1/housing?x=1"])
def test_local_paths_are_kept(path):
    assert safe_next(path) == path


@pytest.mark.parametrize(
    "path",
    [
        None,
        "",
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "/\t/evil.example/",
        "/\n/evil.example/",
        " //evil.example/",
        "javascript:alert(1)",
    ],
)
def test_anything_else_goes_home(path):
    assert safe_next(path) == "/"


def test_login_never_sends_the_participant_to_another_site(client, person):
    logout(client)
    token = page_csrf(client, "/login")
    response = client.post(
        "/login",
        data={
            "csrf_token": token,
            "username": person.username,
            "pin": person.pin,
            "next": "/\t/evil.example/",
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/"
