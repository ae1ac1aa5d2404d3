"""Which URLs the portal delivers to: development allows loopback http; production only
https to public addresses, checked when registering and again at every delivery."""

from __future__ import annotations

import asyncio

import pytest
from fastapi.testclient import TestClient

from app.events.service import record_event
from app.main import create_app
from app.organizations.service import create_organization
from app.participants.service import enroll
from app.webhooks.models import WebhookEndpoint
from app.webhooks.signing import new_secret
from app.webhooks.ssrf import (
    Destination,
    UnsafeWebhookUrl,
    check_webhook_url,
    checked_destination,
)
from tests.factories import attempts, only_delivery, send_form, sign_in_staff


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8080/hook", "http://localhost/hook", "https://[::1]/x", "http://10.0.0.2/"],
)
def test_development_allows_http_and_loopback(url):
    check_webhook_url(url, production=False)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://127.0.0.1/hook", "http:// or https://"),
        ("127.0.0.1/hook", "http:// or https://"),
        ("http:///hook", "no host"),
        ("http://127.0.0.1:99999/", "not a valid URL"),
        ("http://127.0.0.1/ hook", "spaces"),
    ],
)
def test_development_still_refuses_what_is_not_a_web_url(url, reason):
    with pytest.raises(UnsafeWebhookUrl, match=reason):
        check_webhook_url(url, production=False)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://93.184.215.14/hook", "https://"),
        ("https://127.0.0.1/hook", "loopback"),
        ("https://localhost/hook", "loopback"),
        ("https://[::1]/hook", "loopback"),
        ("https://[::ffff:127.0.0.1]/hook", "loopback"),
        ("https://10.1.2.3/hook", "private"),
        ("https://192.168.0.10/hook", "private"),
        ("https://172.16.5.4/hook", "private"),
        ("https://169.254.169.254/latest/meta-data", "link-local"),
        ("https://[fe80::1]/hook", "link-local"),
        ("https://224.0.0.1/hook", "multicast"),
        ("https://240.0.0.1/hook", "reserved"),
        ("https://0.0.0.0/hook", "unspecified"),
        ("https://100.64.0.1/hook", "non-public"),
        ("https://no-such-host.invalid/hook", "does not resolve"),
    ],
)
def test_production_refuses_everything_but_https_to_public_addresses(url, reason):
    with pytest.raises(UnsafeWebhookUrl, match=reason):
        check_webhook_url(url, production=True)


@pytest.mark.parametrize("url", ["https://93.184.215.14/hook", "https://[2606:4700::1111]/h"])
def test_production_allows_https_to_a_public_address(url):
    check_webhook_url(url, production=True)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        # 6to4: 2002:AABB:CCDD:: is relayed to the IPv4 address AA.BB.CC.DD.
        ("https://[2002:7f00:1::]/hook", "6to4 address for 127.0.0.1, which is a loopback"),
        ("https://[2002:a00:1::1]/hook", "6to4 address for 10.0.0.1, which is a private"),
        ("https://[2002:a9fe:a9fe::]/x", "6to4 address for 169.254.169.254, which is a link"),
        ("https://[2002:6440:1::]/hook", "6to4 address for 100.64.0.1, which is a non-public"),
        # NAT64: the last 32 bits are the IPv4 address behind the translator.
        ("https://[64:ff9b::7f00:1]/hook", "NAT64 address for 127.0.0.1, which is a loopback"),
        ("https://[64:ff9b::a9fe:a9fe]/x", "NAT64 address for 169.254.169.254, which is a link"),
        ("https://[64:ff9b::c0a8:1]/hook", "NAT64 address for 192.168.0.1, which is a private"),
        # IPv4-mapped, written in hex.
        ("https://[::ffff:a9fe:a9fe]/x", "169.254.169.254"),
        # Teredo: the client's IPv4 address is stored inverted in the last 32 bits.
        (
            "https://[2001:0:4136:e378:8000:63bf:80ff:fffe]/hook",
            "Teredo address for 127.0.0.1, which is a loopback",
        ),
        (
            "https://[2001:0:4136:e378:8000:63bf:f5ff:fffe]/hook",
            "Teredo address for 10.0.0.1, which is a private",
        ),
    ],
)
def test_production_judges_an_ipv6_address_by_the_ipv4_address_it_carries(url, reason):
    with pytest.raises(UnsafeWebhookUrl, match=reason):
        check_webhook_url(url, production=True)
    with pytest.raises(UnsafeWebhookUrl, match=reason):
        asyncio.run(checked_destination(url, production=True))


@pytest.mark.parametrize(
    "url", ["https://[2002:808:808::1]/hook", "https://[64:ff9b::808:808]/hook"]
)
def test_production_allows_6to4_and_nat64_addresses_of_a_public_ipv4_address(url):
    check_webhook_url(url, production=True)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://user:pw@93.184.215.14/hook", "must not contain a user name or password"),
        ("https://token@93.184.215.14/hook", "must not contain a user name or password"),
        ("https://:@93.184.215.14/hook", "must not contain a user name or password"),
        ("https://93.184.215.14:8443/hook", "only sent to port 443, not 8443"),
        ("https://93.184.215.14:80/hook", "only sent to port 443, not 80"),
        ("https://93.184.215.14:0/hook", "only sent to port 443, not 0"),
        ("https://hooks.example.org:22/hook", "only sent to port 443, not 22"),
    ],
)
def test_production_refuses_credentials_and_ports_other_than_443(url, reason):
    with pytest.raises(UnsafeWebhookUrl, match=reason):
        check_webhook_url(url, production=True)
    with pytest.raises(UnsafeWebhookUrl, match=reason):
        asyncio.run(checked_destination(url, production=True))


def test_production_allows_port_443_written_out():
    check_webhook_url("https://93.184.215.14:443/hook", production=True)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8080/hook", "http://localhost:9/x", "http://[::1]:65535/h"]
)
def test_development_keeps_loopback_http_on_any_port(url):
    check_webhook_url(url, production=False)
    assert asyncio.run(checked_destination(url, production=False)) == Destination(url)


@pytest.mark.parametrize(
    ("url", "detail"),
    [
        (
            "https://[2002:7f00:1::]/hook",
            "webhooks are only sent to public addresses: 2002:7f00:1:: is a 6to4 address for "
            "127.0.0.1, which is a loopback address",
        ),
        ("https://user:pw@93.184.215.14/hook", "the URL must not contain a user name or password"),
        ("https://93.184.215.14:8443/hook", "webhooks are only sent to port 443, not 8443"),
    ],
)
def test_the_api_explains_each_new_refusal_with_a_422(engine, production_settings, db, url, detail):
    _, key = create_organization(db, name="Northside", slug="northside")
    db.commit()
    with TestClient(create_app(production_settings), base_url="https://testserver") as client:
        headers = {"Authorization": f"Bearer {key}"}
        response = client.post("/api/v1/webhook-endpoints", json={"url": url}, headers=headers)
        assert response.status_code == 422, response.text
        assert response.json() == {"detail": detail}
        listed = client.get("/api/v1/webhook-endpoints", headers=headers)
        assert listed.json() == {"endpoints": []}


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://[64:ff9b::a9fe:a9fe]/latest", "NAT64 address for 169.254.169.254"),
        ("https://user:pw@93.184.215.14/hook", "must not contain a user name or password"),
        ("https://93.184.215.14:8443/hook", "only sent to port 443, not 8443"),
    ],
)
def test_the_org_admins_endpoint_page_shows_the_refusal_as_a_form_error(
    engine, production_settings, db, make_org, url, reason
):
    with TestClient(
        create_app(production_settings), base_url="https://testserver", follow_redirects=False
    ) as client:
        org = make_org()
        sign_in_staff(db, client, org)
        r = send_form(client, "/staff/org/endpoints", {"url": url})
        assert r.status_code == 400
        assert 'href="#url"' in r.text  # the error summary links to the field
        assert "This address can" in r.text and reason in r.text
        assert org.get("/api/v1/webhook-endpoints").json() == {"endpoints": []}


def test_the_api_answers_422_with_the_reason_in_production(engine, production_settings, db):
    _, key = create_organization(db, name="Northside", slug="northside")
    db.commit()
    with TestClient(create_app(production_settings), base_url="https://testserver") as client:
        response = client.post(
            "/api/v1/webhook-endpoints",
            json={"url": "https://169.254.169.254/latest/meta-data"},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert response.status_code == 422
        assert response.json()["detail"] == (
            "webhooks are only sent to public addresses: 169.254.169.254 is a link-local address"
        )

        response = client.post(
            "/api/v1/webhook-endpoints",
            json={"url": "http://93.184.215.14/hook"},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert response.status_code == 422
        assert response.json()["detail"] == "the URL must start with https://"


def test_the_worker_checks_the_address_again_at_delivery(
    engine, db, make_worker, production_settings
):
    """An endpoint whose host now resolves to loopback (DNS changed after registration) gets
    no request; the refusal is logged as a failed attempt and retried on schedule."""
    organization, _ = create_organization(db, name="Northside", slug="northside")
    enrollment, _ = enroll(
        db, organization=organization, external_ref="A-1", preferred_language=None
    )
    db.add(
        WebhookEndpoint(
            organization_id=organization.id,
            url="https://127.0.0.1/hook",
            secret=new_secret(),
        )
    )
    db.flush()
    record_event(
        db,
        enrollment_id=enrollment.id,
        organization_id=organization.id,
        type="consent.given",
        data={"organization": "northside", "participant": {"external_ref": "A-1"}},
    )
    db.commit()

    assert make_worker(settings=production_settings).run_once_sync() == 1

    (attempt,) = attempts(engine)
    assert attempt.status_code is None
    assert attempt.error == (
        "refused: webhooks are only sent to public addresses: 127.0.0.1 is a loopback address"
    )
    delivery = only_delivery(engine)
    assert delivery.status == "pending" and delivery.attempts == 1
