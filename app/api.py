"""The organization API, /api/v1: every router in one place, each behind an API key."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from app.consent.api import router as consent_router
from app.context.api import router as context_router
from app.corrections.api import router as corrections_router
from app.disclosures.api import router as disclosures_router
from app.events.api import ledger_router
from app.events.api import router as events_router
from app.holdings.api import router as holdings_router
from app.organizations.api import profile_router
from app.organizations.api import router as plan_router
from app.organizations.deps import current_organization
from app.participants.api import router as participants_router
from app.reports.api import router as reports_router
from app.stories.api import router as stories_router
from app.webhooks.api import redelivery_router
from app.webhooks.api import router as webhooks_router

# Every route here needs a key: the dependency sits on the router, not on each route.
api_router = APIRouter(prefix="/api/v1", dependencies=[Depends(current_organization)])
for router in (
    plan_router,
    profile_router,
    participants_router,
    holdings_router,
    disclosures_router,
    consent_router,
    corrections_router,
    context_router,
    stories_router,
    webhooks_router,
    events_router,
    redelivery_router,
    ledger_router,
    reports_router,
):
    api_router.include_router(router)
