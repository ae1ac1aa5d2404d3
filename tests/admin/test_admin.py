"""Network admins: logging in (with lockout), who may see the admin pages, and the dashboard
that shows whether every event reached its organization and was acknowledged."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from app.db import utcnow
from app.events.models import Event
from app.organizations.service import create_network_admin, get_organization
from app.security.models import LoginThrottle, WebSession
from app.webhooks.models import WebhookAttempt, WebhookDelivery
from app.webhooks.service import create_endpoint
from tests.factories import csrf_from, enroll_and_claim, holding_body, log_in, purpose_body

EMAIL = "admin@network.example"
PASSWORD = "correct horse battery"


def _admin(db):
    admin = create_network_admin(db, email=EMAIL, password=PASSWORD)
    db.commit()
    return admin


def _log_in(client, password=PASSWORD, email=EMAIL):
    page = client.get("/admin/login")
    return client.post(
        "/admin/login",
        data={"email": email, "password": password, "csrf_token": csrf_from(page.text)},
    )


def test_login_dashboard_and_logout(db, client):
    _admin(db)
    assert client.get("/admin").headers["location"] == "/admin/login?next=/admin"

    r = _log_in(client, password="wrong password!")
    assert r.status_code == 400
    assert "The email or password is not right." in r.text

    r = _log_in(client)
    assert r.status_code == 303 and r.headers["location"] == "/admin"
    db.expire_all()
    assert db.exec(select(WebSession).where(WebSession.kind == "admin")).one().admin_id

    page = client.get("/admin")
    assert page.status_code == 200
    assert "Network administration" in page.text
    assert f"Signed in as {EMAIL}" in page.text

    r = client.post("/admin/logout", data={"csrf_token": csrf_from(page.text)})
    assert r.headers["location"] == "/admin/login?logged_out=1"
    assert client.get("/admin").status_code == 303


def test_login_locks_after_five_wrong_passwords_even_for_the_right_one(db, client):
    _admin(db)
    for _ in range(5):
        assert _log_in(client, password="not the password").status_code in (400, 429)
    r = _log_in(client)
    assert r.status_code == 429
    assert "paused until" in r.text
    assert client.get("/admin").status_code == 303
    db.expire_all()
    row = db.get(LoginThrottle, ("admin.login", EMAIL))
    assert row is not None and row.locked_until is not None


def test_a_participant_session_never_grants_admin(db, org, client):
    _admin(db)
    assert org.put("/api/v1/purposes/housing", purpose_body()).status_code == 201
    maria = enroll_and_claim(db, org, external_ref="A-1", username="maria")
    log_in(client, maria)
    assert client.get("/").status_code == 200  # signed in as a participant
    r = client.get("/admin")
    assert r.status_code == 303 and r.headers["location"].startswith("/admin/login")
    token = csrf_from(client.get("/").text)
    r = client.post("/admin/events/evt_x/redeliver", data={"csrf_token": token})
    assert r.status_code == 303 and r.headers["location"].startswith("/admin/login")


def test_admin_posts_need_the_csrf_token(db, client):
    _admin(db)
    client.get("/admin/login")
    r = client.post("/admin/login", data={"email": EMAIL, "password": PASSWORD})
    assert r.status_code == 403
    assert _log_in(client).status_code == 303
    r = client.post("/admin/events/evt_x/redeliver", data={})
    assert r.status_code == 403


def _troubled_network(db, org, make_org):
    """Northside has a failing endpoint with one dead letter, an overdue acknowledgement and a
    flagged disclosure; Cedar has a disabled endpoint and nothing else."""
    make_org("cedar", "Cedar Housing")
    northside = get_organization(db, "northside")
    cedar = get_organization(db, "cedar")
    endpoint = create_endpoint(
        db,
        organization_id=northside.id,
        url="http://127.0.0.1:9/hooks",
        event_types=None,
        production=False,
    )
    disabled = create_endpoint(
        db,
        organization_id=cedar.id,
        url="http://127.0.0.1:9/cedar",
        event_types=None,
        production=False,
    )
    disabled.disabled_at = utcnow()
    disabled.disabled_reason = "410 Gone"
    db.add(disabled)
    db.commit()

    assert org.put("/api/v1/purposes/housing", purpose_body()).status_code == 201
    assert org.post("/api/v1/participants", {"external_ref": "A-1"}).status_code == 201
    assert org.put("/api/v1/participants/A-1/holdings/phone", holding_body()).status_code == 201
    # Shared without consent: recorded, and flagged.
    r = org.post(
        "/api/v1/participants/A-1/disclosures",
        {"recipient": {"name": "Hennepin County"}, "purpose": "housing", "field_keys": ["phone"]},
    )
    assert r.json()["flagged"] is True
    for state in ("given", "withdrawn"):
        r = org.post(
            "/api/v1/participants/A-1/consents",
            {"purpose": "housing", "state": state, "method": "paper"},
        )
        assert r.status_code == 201, r.text

    db.expire_all()
    given, withdrawn = db.exec(
        select(Event).where(Event.organization_id == northside.id).order_by(Event.seq)
    ).all()
    # The worker gave up on the first event after its last retry...
    delivery = db.exec(select(WebhookDelivery).where(WebhookDelivery.event_id == given.id)).one()
    delivery.status = "dead"
    delivery.attempts = 10
    delivery.dead_at = utcnow()
    delivery.last_status_code = 500
    db.add(delivery)
    db.add(
        WebhookAttempt(
            delivery_id=delivery.id,
            endpoint_id=endpoint.id,
            event_id=given.id,
            status_code=500,
            duration_ms=12,
        )
    )
    # ...and the withdrawal's acknowledgement is past due.
    withdrawn.ack_due_by = utcnow() - timedelta(days=2)
    db.add(withdrawn)
    db.commit()
    return given, withdrawn, delivery


def test_dashboard_shows_health_dead_letters_overdue_acks_and_flags(db, org, make_org, client):
    given, withdrawn, _delivery = _troubled_network(db, org, make_org)
    _admin(db)
    _log_in(client)
    html = client.get("/admin").text

    assert "1 dead letter" in html
    assert "1 overdue acknowledgement" in html
    assert "1 flagged disclosure" in html
    # Endpoint health per organization.
    assert "1 live, 0 disabled" in html  # Northside
    assert "0 live, 1 disabled" in html  # Cedar
    assert "410 Gone" in html
    assert "failed</strong> (500)" in html
    # The dead letter, with its Redeliver button.
    assert f'action="/admin/events/{given.id}/redeliver"' in html
    assert "consent.given" in html
    # The overdue acknowledgement.
    assert withdrawn.id in html
    assert html.count('class="overdue-ack"') == 1


def test_redeliver_puts_a_dead_letter_back_in_the_queue(db, org, make_org, client):
    given, _withdrawn, delivery = _troubled_network(db, org, make_org)
    _admin(db)
    _log_in(client)
    page = client.get("/admin")
    r = client.post(
        f"/admin/events/{given.id}/redeliver", data={"csrf_token": csrf_from(page.text)}
    )
    assert r.status_code == 303
    assert r.headers["location"] == "/admin?redelivered=1#dead-letters"
    db.expire_all()
    again = db.get(WebhookDelivery, delivery.id)
    assert again.status == "pending" and again.dead_at is None
    page = client.get(r.headers["location"]).text
    assert "1 delivery was put back in the queue." in page
    assert "0 dead letters" in page
    assert f'action="/admin/events/{given.id}/redeliver"' not in page


def test_dashboard_lists_overdue_corrections_without_their_values(db, make_org, client):
    from tests.factories import corrections, make_world, request_correction

    world = make_world(make_org, client, db)
    assert request_correction(world.maria, world.phone, value="612-555-0199").status_code == 303
    client.cookies.clear()
    _admin(db)
    _log_in(client)
    assert 'class="overdue-correction"' not in client.get("/admin").text  # not due yet

    (correction,) = corrections(db)
    correction.due_by = utcnow() - timedelta(days=1)
    db.add(correction)
    db.commit()
    html = client.get("/admin").text
    assert html.count('class="overdue-correction"') == 1
    assert correction.id in html and "Northside Food Shelf" in html
    assert "612-555-0199" not in html  # the requested value is the participant's business
