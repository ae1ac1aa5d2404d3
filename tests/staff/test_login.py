"""Staff log in with email and password (argon2, lockout like participants); only a staff
session reaches staff pages, and org-admin pages are only for org admins."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from sqlmodel import select

from app.security.models import LoginThrottle, WebSession
from app.staff.deps import CurrentStaff, OrgAdmin
from app.web.deps import web_context
from tests.factories import PASSWORD, csrf_from, enroll_and_claim, log_in, make_staff, staff_log_in


def test_login_home_and_logout(db, org, client):
    staff = make_staff(db, org)
    assert client.get("/staff").headers["location"] == "/staff/login?next=/staff"

    r = staff_log_in(client, staff.email, password="wrong password!")
    assert r.status_code == 400
    assert "The email or password is not right." in r.text

    r = staff_log_in(client, "MARIA@northside.example ")
    assert r.status_code == 303 and r.headers["location"] == "/staff"
    db.expire_all()
    row = db.exec(select(WebSession).where(WebSession.kind == "staff")).one()
    assert row.staff_id == staff.id

    page = client.get("/staff")
    assert page.status_code == 200
    assert "Participants of Northside Food Shelf" in page.text

    r = client.post("/staff/logout", data={"csrf_token": csrf_from(page.text)})
    assert r.headers["location"] == "/staff/login?logged_out=1"
    assert client.get("/staff").status_code == 303


def test_login_locks_after_five_wrong_passwords_even_for_the_right_one(db, org, client):
    staff = make_staff(db, org)
    for _ in range(5):
        assert staff_log_in(client, staff.email, password="nope nope").status_code in (400, 429)
    r = staff_log_in(client, staff.email)
    assert r.status_code == 429
    assert "paused until" in r.text
    assert client.get("/staff").status_code == 303
    db.expire_all()
    row = db.get(LoginThrottle, ("staff.login", staff.email))
    assert row is not None and row.locked_until is not None


def test_unknown_email_and_disabled_staff_are_refused_alike(db, org, client):
    from app.db import utcnow

    staff = make_staff(db, org)
    assert staff_log_in(client, "nobody@northside.example").status_code == 400
    staff.disabled_at = utcnow()
    db.add(staff)
    db.commit()
    r = staff_log_in(client, staff.email)
    assert r.status_code == 400 and "not right" in r.text


def test_participant_and_admin_sessions_never_count_as_staff(db, org, client):
    from app.organizations.service import create_network_admin

    make_staff(db, org)
    maria = enroll_and_claim(db, org, external_ref="A-1", username="maria")
    log_in(client, maria)
    r = client.get("/staff")
    assert r.status_code == 303 and r.headers["location"].startswith("/staff/login")

    create_network_admin(db, email="admin@network.example", password=PASSWORD)
    db.commit()
    page = client.get("/admin/login")
    client.post(
        "/admin/login",
        data={
            "email": "admin@network.example",
            "password": PASSWORD,
            "csrf_token": csrf_from(page.text),
        },
    )
    assert client.get("/admin").status_code == 200
    assert client.get("/staff").headers["location"].startswith("/staff/login")


def test_org_admin_dependency_is_404_for_a_case_manager(db, org, app, client):
    # A throwaway route with the real dependencies: the org-admin pages belong to another
    # part of the app, but the gate they rely on is this one.
    router = APIRouter(dependencies=[Depends(web_context)])

    @router.get("/staff/_probe/admin")
    async def admin_only(staff: OrgAdmin) -> dict[str, str]:
        return {"role": staff.role}

    @router.get("/staff/_probe/any")
    async def any_staff(staff: CurrentStaff) -> dict[str, str]:
        return {"role": staff.role}

    app.include_router(router)
    make_staff(db, org, email="cm@northside.example", role="case_manager")
    make_staff(db, org, email="boss@northside.example", role="org_admin")

    assert client.get("/staff/_probe/admin").status_code == 303  # signed out: log in first
    staff_log_in(client, "cm@northside.example")
    assert client.get("/staff/_probe/any").json() == {"role": "case_manager"}
    assert client.get("/staff/_probe/admin").status_code == 404

    client.cookies.clear()
    staff_log_in(client, "boss@northside.example")
    assert client.get("/staff/_probe/admin").json() == {"role": "org_admin"}
