"""Staff for the staff tests: created with the real service, logged in through the real
/staff/login form."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.organizations.models import Staff
from app.organizations.service import create_staff, get_organization
from tests.consent.helpers import csrf_from

PASSWORD = "correct horse battery"


def make_staff(
    db: Session,
    org: Any,
    *,
    email: str = "maria@northside.example",
    name: str = "Maria",
    role: str = "case_manager",
) -> Staff:
    organization = get_organization(db, org.slug)
    assert organization is not None
    staff = create_staff(
        db, organization=organization, email=email, role=role, password=PASSWORD, name=name
    )
    db.commit()
    return staff


def staff_log_in(client: TestClient, email: str, password: str = PASSWORD) -> Any:
    page = client.get("/staff/login")
    return client.post(
        "/staff/login",
        data={"email": email, "password": password, "csrf_token": csrf_from(page.text)},
    )
