"""What every page has: Quick exit (a plain link to /exit, so it works without JavaScript),
Log out and Your account when signed in, a skip link, a main landmark, and forms that work without scripts."""

from __future__ import annotations

import re

import pytest

from tests.factories import enroll

QUICK_EXIT = re.compile(
    r'<a class="quick-exit button" id="quick-exit" href="/exit"[^>]*>Quick exit</a>'
)
LOG_OUT = re.compile(
    r'<form method="post" action="/logout" class="logout">\s*<input type="hidden" name="csrf_token" value="[0-9a-f]+">\s*<button type="submit" class="link-button">Log out</button>'
)


@pytest.mark.parametrize("path", ["/login", "/claim", "/claim/NOPE-NOPE-NOPE", "/no-such-page"])
def test_signed_out_pages_have_quick_exit_but_no_log_out(client, path):
    html = client.get(path).text
    assert QUICK_EXIT.search(html)
    assert not LOG_OUT.search(html)
    assert '<a class="skip-link" href="#main">' in html and '<main id="main"' in html


def test_signed_in_pages_have_quick_exit_and_log_out(client, person):
    pages = [
        client.get("/"),
        client.get(f"/claim/{enroll(person.org, 'A-2')}"),
        client.get("/nowhere"),
        client.get("/activity"),
        client.get("/access"),
        client.get("/context"),
    ]
    for response in pages:
        assert QUICK_EXIT.search(response.text), response.url
        assert LOG_OUT.search(response.text), response.url
        # Your account is one tap away from every signed-in page, in the bar and the footer.
        tools = response.text.split('<div class="account-tools">', 1)[1].split("</div>", 1)[0]
        assert '<a href="/account">Your account</a>' in tools, response.url
        footer = response.text.split('<footer class="site-footer">', 1)[1]
        assert '<a href="/account">Your account</a>' in footer, response.url


def test_signed_out_pages_offer_no_account_link(client):
    assert 'href="/account"' not in client.get("/login").text


def test_every_form_posts_or_gets_somewhere_without_javascript(client, person):
    from tests.factories import hold

    hold(
        person.org,
        person.external_ref,
        "hiv",
        label="HIV status",
        value="Positive",
        purpose="food",
        sensitive=True,
    )
    html = client.get("/").text
    forms = re.findall(r"<form[^>]*>", html)
    assert len(forms) >= 3  # log out, Show, Give consent
    for form in forms:
        assert re.search(r'method="(get|post)"', form) and re.search(r'action="/[^"]*"', form), form
    for post in (f for f in forms if 'method="post"' in f):
        after = html[html.index(post) :]
        assert 'name="csrf_token"' in after[: after.index("</form>")], post
