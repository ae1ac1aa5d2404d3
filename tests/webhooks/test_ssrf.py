"""Which URLs the portal delivers to: development allows loopback http; production only
https to public addresses, checked when registering and again at every delivery."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.events.service import record_event
from app.main import create_app
from app.organizations.service import create_organization
from app.participants.service import enroll
from app.webhooks.models import WebhookEndpoint
from app.webhooks.signing import new_secret
from app.webhooks.ssrf import UnsafeWebhookUrl, check_webhook_url
from tests.webhooks.conftest import attempts, only_delivery


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
    engine, db, receiver, make_worker, production_settings
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
            url=f"https://127.0.0.1:{receiver.port}/hook",
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

    assert receiver.received == []
    (attempt,) = attempts(engine)
    assert attempt.status_code is None
    assert attempt.error == (
        "refused: webhooks are only sent to public addresses: 127.0.0.1 is a loopback address"
    )
    delivery = only_delivery(engine)
    assert delivery.status == "pending" and delivery.attempts == 1
