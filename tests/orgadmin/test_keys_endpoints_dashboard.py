"""API keys and webhook endpoints managed in the browser, and the organization dashboard."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from sqlmodel import select

from app.db import utcnow
from app.events.models import Event
from app.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from tests.factories import (
    csrf_from,
    enroll_and_claim,
    form_fields,
    purpose_body,
    send_form,
    sign_in_staff,
)

KEY_RE = re.compile(r"<code>([^<]{20,})</code>")


def test_create_a_key_shown_once_then_revoke_it(db, org, client):
    sign_in_staff(db, client, org)
    r = send_form(client, "/staff/org/keys", {"name": ""})
    assert r.status_code == 400 and 'href="#name"' in r.text

    r = send_form(client, "/staff/org/keys", {"name": "Reporting system"})
    assert r.status_code == 200
    key = KEY_RE.search(r.text).group(1)
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get("/api/v1/purposes", headers=headers).status_code == 200

    listing = client.get("/staff/org/keys").text
    assert "Reporting system" in listing and key[:8] in listing
    assert key not in listing  # shown once only

    key_id = re.search(r'id="key-(\d+)">\s*<p class="label">Reporting system', listing).group(1)
    # Revoke asks first, naming the key; going back changes nothing.
    confirm = client.get(f"/staff/org/keys/{key_id}/revoke")
    assert confirm.status_code == 200 and "Revoke this API key?" in confirm.text
    assert f"Reporting system ({key[:8]}" in confirm.text
    assert f'href="/staff/org/keys#key-{key_id}"' in confirm.text
    assert client.get("/api/v1/purposes", headers=headers).status_code == 200
    r = client.post(
        f"/staff/org/keys/{key_id}/revoke", data={"csrf_token": csrf_from(confirm.text)}
    )
    assert r.status_code == 303
    assert client.get("/api/v1/purposes", headers=headers).status_code == 401
    assert "Revoked" in client.get(r.headers["location"]).text
    assert org.get("/api/v1/purposes").status_code == 200  # the other key is untouched
    # A revoked key has nothing left to confirm.
    assert client.get(f"/staff/org/keys/{key_id}/revoke").status_code == 404


def test_a_reloaded_create_key_form_makes_no_second_key(db, org, client):
    sign_in_staff(db, client, org)
    page = client.get("/staff/org/keys").text
    sent = form_fields(page, "/staff/org/keys") | {"name": "Case system"}
    first = client.post("/staff/org/keys", data=sent)
    assert KEY_RE.search(first.text)
    again = client.post("/staff/org/keys", data=sent)  # the browser sends the same form again
    assert again.status_code == 200 and not KEY_RE.search(again.text)
    assert "A key named Case system was just created from this form" in again.text
    listing = client.get("/staff/org/keys").text
    assert listing.count('<p class="label">Case system</p>') == 1
    # A second key of the same name is still possible, from the page as it is now.
    sent = form_fields(listing, "/staff/org/keys") | {"name": "Case system"}
    assert KEY_RE.search(client.post("/staff/org/keys", data=sent).text)
    assert client.get("/staff/org/keys").text.count('<p class="label">Case system</p>') == 2


def test_add_an_endpoint_rotate_its_secret_and_see_attempts(db, org, client):
    sign_in_staff(db, client, org)
    # The webhook service's own rules apply (here: the scheme).
    r = send_form(client, "/staff/org/endpoints", {"url": "ftp://127.0.0.1/hooks"})
    assert r.status_code == 400 and 'href="#url"' in r.text
    assert 'value="ftp://127.0.0.1/hooks"' in r.text

    r = send_form(
        client,
        "/staff/org/endpoints",
        {"url": "http://127.0.0.1:9/hooks", "event_types": ["consent.withdrawn", "consent.given"]},
    )
    assert r.status_code == 200
    secret = KEY_RE.search(r.text).group(1)
    assert secret.startswith("whsec_")
    listed = org.get("/api/v1/webhook-endpoints").json()["endpoints"]
    assert [(e["url"], e["event_types"]) for e in listed] == [
        ("http://127.0.0.1:9/hooks", ["consent.given", "consent.withdrawn"])
    ]
    endpoint_id = listed[0]["id"]
    page = f"/staff/org/endpoints/{endpoint_id}"
    assert secret not in client.get(page).text

    confirm = client.get(f"{page}/rotate-secret")
    assert (
        "Rotate the signing secret?" in confirm.text and "http://127.0.0.1:9/hooks" in confirm.text
    )
    assert not KEY_RE.search(confirm.text)  # asking rotates nothing
    sent = form_fields(confirm.text, f"{page}/rotate-secret")  # what the browser sends
    assert set(sent) == {"csrf_token", "replacing"} and secret not in confirm.text
    r = client.post(f"{page}/rotate-secret", data=sent)
    new_secret = KEY_RE.search(r.text).group(1)
    assert new_secret.startswith("whsec_") and new_secret != secret
    # A reload sends the same form again: it must not replace the secret just shown.
    again = client.post(f"{page}/rotate-secret", data=sent)
    assert again.status_code == 200 and not KEY_RE.search(again.text)
    assert "This secret was already replaced" in again.text
    webhook_secret = db.get(WebhookEndpoint, endpoint_id)
    db.refresh(webhook_secret)
    assert webhook_secret.secret == new_secret and webhook_secret.previous_secret == secret
    assert org.get("/api/v1/webhook-endpoints").json()["endpoints"][0]["previous_secret_expires_at"]

    # A delivery attempt (as the worker records it) shows on the endpoint's page.
    assert org.put("/api/v1/purposes/housing", purpose_body()).status_code == 201
    enroll_and_claim(db, org, external_ref="A-1", username="maria")
    r = org.post(
        "/api/v1/participants/A-1/consents",
        {"purpose": "housing", "state": "given", "method": "paper"},
    )
    assert r.status_code == 201
    delivery = db.exec(select(WebhookDelivery)).one()
    db.add(
        WebhookAttempt(
            delivery_id=delivery.id,
            endpoint_id=endpoint_id,
            event_id=delivery.event_id,
            status_code=503,
            attempted_at=utcnow(),
        )
    )
    db.commit()
    text = client.get(page).text
    assert delivery.event_id in text and "Failed" in text and "503" in text

    confirm = client.get(f"{page}/delete")
    assert "Remove this webhook endpoint?" in confirm.text
    assert len(org.get("/api/v1/webhook-endpoints").json()["endpoints"]) == 1
    r = send_form(client, f"{page}/delete", {}, page=f"{page}/delete")
    assert r.status_code == 303
    assert org.get("/api/v1/webhook-endpoints").json()["endpoints"] == []


def test_an_endpoint_turned_off_by_410_is_turned_back_on(db, org, client):
    """The worker turns an endpoint off when it answers 410 Gone (tests/webhooks); here the
    org admin turns it back on and has what died sent again."""
    sign_in_staff(db, client, org)
    endpoint = org.post("/api/v1/webhook-endpoints", {"url": "http://127.0.0.1:9/hooks"}).json()
    assert org.put("/api/v1/purposes/housing", purpose_body()).status_code == 201
    enroll_and_claim(db, org, external_ref="A-1", username="maria")
    r = org.post(
        "/api/v1/participants/A-1/consents",
        {"purpose": "housing", "state": "given", "method": "paper"},
    )
    assert r.status_code == 201
    # What the worker leaves after a 410 Gone.
    delivery = db.exec(select(WebhookDelivery)).one()
    delivery.status, delivery.dead_at = "dead", utcnow()
    row = db.get(WebhookEndpoint, endpoint["id"])
    row.disabled_at, row.disabled_reason = utcnow(), "the endpoint answered 410 Gone"
    db.add_all([delivery, row])
    db.commit()

    page = f"/staff/org/endpoints/{endpoint['id']}"
    text = client.get(page).text
    assert "Disabled" in text and "Turn back on" in text
    r = send_form(client, f"{page}/enable", {"redeliver": "yes"}, page=page)
    assert r.status_code == 303
    text = client.get(r.headers["location"]).text
    assert "The endpoint is live again." in text and "1 delivery was queued again." in text
    assert "Turn back on" not in text
    db.expire_all()
    assert db.get(WebhookEndpoint, endpoint["id"]).disabled_at is None
    assert db.exec(select(WebhookDelivery)).one().status == "pending"


def test_dashboard_charts_and_tables(db, org, client):
    assert org.put("/api/v1/purposes/housing", purpose_body()).status_code == 201
    for ref, name, states in (("A-1", "maria", ["given"]), ("A-2", "jose", ["given", "withdrawn"])):
        enroll_and_claim(db, org, external_ref=ref, username=name)
        for state in states:
            r = org.post(
                f"/api/v1/participants/{ref}/consents",
                {"purpose": "housing", "state": state, "method": "paper"},
            )
            assert r.status_code == 201
    # The withdrawal asked Northside to act; make its acknowledgement overdue.
    event = db.exec(select(Event).where(Event.type == "consent.withdrawn")).one()
    event.ack_due_by = utcnow().replace(year=2020)
    db.add(event)
    db.commit()
    sign_in_staff(db, client, org)

    page = client.get("/staff/org")
    assert page.status_code == 200
    assert "style=" not in page.text
    svgs = re.findall(r"<svg .*?</svg>", page.text, re.S)
    assert len(svgs) == 2
    consents = ET.fromstring(svgs[0])
    assert consents.get("role") == "img"
    assert consents.find("{http://www.w3.org/2000/svg}desc").text == (
        "Given 1, withdrawn 1, expired 0."
    )
    # The same numbers in a table.
    assert re.search(r"<th scope=\"row\">Given</th><td>1</td>", page.text)
    assert re.search(r"<th scope=\"row\">Withdrawn</th><td>1</td>", page.text)
    acks = page.text.split('id="acks-overdue"')[1].split("</tr>")[0]
    assert "<td>1</td>" in acks
