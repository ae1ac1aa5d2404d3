"""A long list of an organization starts closed under a summary that says what is in it, and
opens in place without JavaScript; it starts open when something in it needs the participant,
and when the page announces something about one of its items."""

from __future__ import annotations

import re

from tests.factories import hold, holding_id, request_correction


def _holdings_list(html: str) -> str:
    """The opening tag of the details that holds the holdings, and its summary."""
    match = re.search(
        r"<details class=\"list\"[^>]*>\s*<summary>[^<]*things?, by kind: [^<]*</summary>", html
    )
    assert match, "no list of holdings on the page"
    return match.group(0)


def _hold_many(person, count: int) -> None:
    for n in range(count):
        hold(person.org, person.external_ref, f"item_{n}", label=f"Item {n}", purpose="food")


def test_a_short_list_is_open_and_a_long_one_is_closed_with_a_summary(client, person):
    _hold_many(person, 3)
    short = _holdings_list(client.get("/").text)
    assert " open" in short and "3 things, by kind: How to reach you" in short

    _hold_many(person, 12)
    page = client.get("/").text
    long = _holdings_list(page)
    assert " open" not in long
    assert "12 things, by kind:" in long
    # Closed is not missing: every holding is on the page, one request, no JavaScript needed.
    assert len(re.findall(r'<li class="holding[ "]', page)) == 12


def test_a_long_list_opens_for_a_correction_waiting_and_for_a_notice(client, person, db):
    _hold_many(person, 12)
    assert " open" not in _holdings_list(client.get("/").text)
    item = holding_id(db, person.org.slug, person.external_ref, "item_5")
    sent = request_correction(client, item)
    assert sent.status_code == 303 and "sent=" in sent.headers["location"]
    # The confirmation lands beside the item, so its list is open.
    assert " open" in _holdings_list(client.get(sent.headers["location"]).text)
    # And it stays open while the organization has not answered.
    assert " open" in _holdings_list(client.get("/").text)
