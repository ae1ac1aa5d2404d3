"""Every org admin page, in one router that app/main.py includes.

Each feature has its own module and router (dashboard, plan, API keys, webhook endpoints,
import); here they are put under /staff/org and given the web context (language, session,
CSRF) that every page reads. The order is the order the pages are listed in /openapi.json.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from app.orgadmin import (
    api_key_views,
    dashboard_views,
    import_views,
    plan_views,
    webhook_endpoint_views,
)
from app.web.deps import web_context

PREFIX = "/staff/org"

router = APIRouter()
for feature in (dashboard_views, plan_views, api_key_views, webhook_endpoint_views, import_views):
    router.include_router(feature.router, prefix=PREFIX, dependencies=[Depends(web_context)])
