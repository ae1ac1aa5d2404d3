"""Organizations, API keys, staff, network admins and the data collection plan."""

from __future__ import annotations

from sqlmodel import Session, select

from app.db import utcnow
from app.organizations.models import STAFF_ROLES, ApiKey, NetworkAdmin, Organization, Purpose, Staff
from app.organizations.schemas import (
    OrganizationProfileIn,
    OrganizationProfileOut,
    PurposeIn,
    PurposeOut,
)
from app.security.passwords import hash_secret
from app.security.tokens import digest, new_api_key


class DuplicateError(ValueError):
    """Something with that name already exists."""


class UnknownOrganization(ValueError):
    """A purpose names a recipient organization that is not in the network."""


def create_organization(session: Session, *, name: str, slug: str) -> tuple[Organization, str]:
    """Create an organization with its first API key; returns the key (shown only once)."""
    if session.exec(select(Organization).where(Organization.slug == slug)).first():
        raise DuplicateError(f"an organization with slug {slug!r} exists")
    organization = Organization(name=name, slug=slug)
    session.add(organization)
    session.flush()
    key = create_api_key(session, organization=organization, name="default")
    return organization, key


def create_api_key(session: Session, *, organization: Organization, name: str) -> str:
    key = new_api_key()
    assert organization.id is not None
    session.add(
        ApiKey(organization_id=organization.id, name=name, prefix=key[:8], key_hash=digest(key))
    )
    return key


def organization_for_api_key(session: Session, key: str) -> Organization | None:
    row = session.exec(
        select(Organization)
        .join(ApiKey, ApiKey.organization_id == Organization.id)  # type: ignore[arg-type]
        .where(ApiKey.key_hash == digest(key), ApiKey.revoked_at.is_(None))  # type: ignore[union-attr]
    ).first()
    return row


def get_organization(session: Session, slug: str) -> Organization | None:
    return session.exec(select(Organization).where(Organization.slug == slug)).first()


def set_profile(
    session: Session, *, organization: Organization, data: OrganizationProfileIn
) -> Organization:
    """Replace the organization's profile (how participants reach it), all of it. The API and
    the org admin's page both come here."""
    organization.name = data.name
    organization.phone = data.phone or None
    organization.address = data.address or None
    organization.opening_hours = data.opening_hours or None
    organization.languages = list(data.languages)
    organization.profile_updated_at = utcnow()
    session.add(organization)
    session.flush()
    return organization


def profile_out(organization: Organization) -> OrganizationProfileOut:
    updated = organization.profile_updated_at
    return OrganizationProfileOut(
        slug=organization.slug,
        name=organization.name,
        phone=organization.phone,
        address=organization.address,
        opening_hours=organization.opening_hours,
        languages=list(organization.languages or []),
        updated_at=updated.isoformat() if updated else None,
    )


def create_staff(
    session: Session,
    *,
    organization: Organization,
    email: str,
    role: str,
    password: str,
    name: str = "",
) -> Staff:
    if role not in STAFF_ROLES:
        raise ValueError(f"role must be one of {', '.join(STAFF_ROLES)}")
    email = email.strip().lower()
    if session.exec(select(Staff).where(Staff.email == email)).first():
        raise DuplicateError(f"a staff member with email {email!r} exists")
    assert organization.id is not None
    staff = Staff(
        organization_id=organization.id,
        email=email,
        role=role,
        name=name or email.split("@")[0].title(),
        password_hash=hash_secret(password),
    )
    session.add(staff)
    session.flush()
    return staff


def create_network_admin(session: Session, *, email: str, password: str) -> NetworkAdmin:
    email = email.strip().lower()
    if session.exec(select(NetworkAdmin).where(NetworkAdmin.email == email)).first():
        raise DuplicateError(f"a network admin with email {email!r} exists")
    admin = NetworkAdmin(email=email, password_hash=hash_secret(password))
    session.add(admin)
    session.flush()
    return admin


# --- the data collection plan -------------------------------------------------------------

_NOTICE_FIELDS = (
    "title",
    "description",
    "basis",
    "categories",
    "recipients",
    "retention_days",
    "refusal_consequence",
    "legal_recipients",
    "consent_valid_days",
)


def upsert_purpose(
    session: Session, *, organization: Organization, key: str, data: PurposeIn
) -> tuple[Purpose, bool]:
    """Create or replace one purpose. Returns (purpose, created). The version goes up only
    when something a participant reads in the notice changed."""
    assert organization.id is not None
    # A recipient named as a network organization must be one: withdrawals and corrections
    # are delivered to it, so a typo would silently tell nobody.
    outside = _outside_network(session, {r.organization for r in data.recipients if r.organization})
    if outside:
        raise UnknownOrganization(
            "recipients name organizations that are not in the network: " + ", ".join(outside)
        )
    purpose = find_purpose(session, organization_id=organization.id, key=key)
    values = data.model_dump(mode="json")
    values["recipients"] = [
        {k: v for k, v in r.items() if v is not None} for r in values["recipients"]
    ]
    created = purpose is None
    if purpose is None:
        purpose = Purpose(organization_id=organization.id, key=key, **values)
    else:
        changed = any(getattr(purpose, f) != values[f] for f in _NOTICE_FIELDS)
        for field, value in values.items():
            setattr(purpose, field, value)
        if changed:
            purpose.version += 1
        purpose.updated_at = utcnow()
    session.add(purpose)
    session.flush()
    return purpose, created


def _outside_network(session: Session, slugs: set[str]) -> list[str]:
    if not slugs:
        return []
    known = set(
        session.exec(select(Organization.slug).where(Organization.slug.in_(slugs)))  # type: ignore[attr-defined]
    )
    return sorted(slugs - known)


def find_purpose(session: Session, *, organization_id: int, key: str) -> Purpose | None:
    return session.exec(
        select(Purpose).where(Purpose.organization_id == organization_id, Purpose.key == key)
    ).first()


def list_purposes(session: Session, *, organization_id: int) -> list[Purpose]:
    return list(
        session.exec(
            select(Purpose).where(Purpose.organization_id == organization_id).order_by(Purpose.key)  # type: ignore[arg-type]
        )
    )


def purpose_out(purpose: Purpose) -> PurposeOut:
    return PurposeOut(
        key=purpose.key,
        version=purpose.version,
        updated_at=purpose.updated_at.isoformat(),
        title=purpose.title,
        description=purpose.description,
        basis=purpose.basis,  # type: ignore[arg-type]
        categories=purpose.categories,
        recipients=purpose.recipients,  # type: ignore[arg-type]
        retention_days=purpose.retention_days,
        refusal_consequence=purpose.refusal_consequence,
        legal_recipients=purpose.legal_recipients,
        sensitive=purpose.sensitive,
        consent_valid_days=purpose.consent_valid_days,
    )
