"""Who is at the org admin desk: the signed-in org admin and their organization, together.

Every /staff/org page works on the admin's own organization and on nothing else, so the
pages take `AdminDeskDep` instead of each fetching the organization: the one lookup lives
here, and a page can't reach another organization by asking for it. It is its own file so
every feature module (dashboard, plan, keys, endpoints, import) shares the same dependency.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from app.db import SessionDep
from app.organizations.models import Organization, Staff
from app.staff.deps import OrgAdmin, staff_organization


@dataclass(frozen=True)
class AdminDesk:
    """The org admin signed in, and the organization they administer."""

    staff: Staff
    organization: Organization


async def admin_desk(staff: OrgAdmin, db: SessionDep) -> AdminDesk:
    # OrgAdmin already sent everyone else away (login page, or 404 for a case manager).
    return AdminDesk(staff=staff, organization=staff_organization(staff, db))


AdminDeskDep = Annotated[AdminDesk, Depends(admin_desk)]
