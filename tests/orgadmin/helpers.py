"""Staff for the org admin tests: created with the real service, logged in through the real
/staff/login form; forms sent with the CSRF token read from the page, as a browser would."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.organizations.models import Staff
from app.organizations.service import create_staff, get_organization
from tests.consent.helpers import csrf_from

PASSWORD = "correct horse battery"


def sign_in_staff(
    db: Session, client: TestClient, org: Any, *, role: str = "org_admin", email: str = ""
) -> Staff:
    organization = get_organization(db, org.slug)
    assert organization is not None
    staff = create_staff(
        db,
        organization=organization,
        email=email or f"{role}@{org.slug}.example",
        role=role,
        password=PASSWORD,
    )
    db.commit()
    page = client.get("/staff/login")
    r = client.post(
        "/staff/login",
        data={"email": staff.email, "password": PASSWORD, "csrf_token": csrf_from(page.text)},
    )
    assert r.status_code == 303, r.text
    return staff


def send_form(
    client: TestClient, path: str, data: dict[str, Any], *, page: str | None = None
) -> Any:
    """Send `data` (a list value for a repeated field) from the form on `page`."""
    token = csrf_from(client.get(page or path).text)
    return client.post(path, data={"csrf_token": token, **data})


class _FormReader(HTMLParser):
    """The fields a browser would send from the page's form that posts to `action`."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action = action
        self.inside = False
        self.fields: dict[str, Any] = {}
        self._textarea: str | None = None

    def _add(self, name: str, value: str) -> None:
        if name in self.fields:
            existing = self.fields[name]
            self.fields[name] = [*(existing if isinstance(existing, list) else [existing]), value]
        else:
            self.fields[name] = value

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("action") == self.action
        elif self.inside and tag == "input" and a.get("name"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self._add(a["name"], a.get("value", ""))
        elif self.inside and tag == "textarea":
            self._textarea = a.get("name")
            self.fields[self._textarea or ""] = ""

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.fields[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        elif tag == "form":
            self.inside = False


def form_fields(html: str, action: str) -> dict[str, Any]:
    reader = _FormReader(action)
    reader.feed(html)
    return reader.fields
