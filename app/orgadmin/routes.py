"""Every org admin page, in one router that app/main.py includes.

Each feature has its own module and router under /staff/org (app/orgadmin/pages.py
`org_admin_router`): the dashboard, the profile, the plan, API keys, webhook endpoints and
the import.
The order is the order the pages are listed in /openapi.json.
"""

from __future__ import annotations

from fastapi import APIRouter

from app.orgadmin import (
    api_key_views,
    dashboard_views,
    import_views,
    plan_views,
    profile_views,
    webhook_endpoint_views,
)

router = APIRouter()
for feature in (
    dashboard_views,
    profile_views,
    plan_views,
    api_key_views,
    webhook_endpoint_views,
    import_views,
):
    router.include_router(feature.router)
