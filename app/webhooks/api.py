"""Webhook endpoints over the API: register, list, remove, rotate the secret, turn back on
after a 410 Gone, see attempts."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

import app.webhooks.outbox  # noqa: F401 - the web process queues deliveries too
from app.db import SessionDep
from app.events.catalogue import EVENT_TYPES
from app.events.service import organization_event
from app.organizations.deps import CurrentOrganization
from app.webhooks import service
from app.webhooks.models import WebhookEndpoint
from app.webhooks.ssrf import MAX_URL_LENGTH, UnsafeWebhookUrl

router = APIRouter(prefix="/webhook-endpoints", tags=["webhooks"])
# Under /events, beside the feed it answers to, but sending again is the webhooks' own.
redelivery_router = APIRouter(prefix="/events", tags=["events"])

EventTypeName = Literal[EVENT_TYPES]  # type: ignore[valid-type]


class EndpointIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: Annotated[str, Field(min_length=1, max_length=MAX_URL_LENGTH)]
    event_types: (
        Annotated[list[EventTypeName], Field(min_length=1, max_length=len(EVENT_TYPES))] | None
    ) = Field(default=None, description="the event types to receive; omit for all of them")


def _own_endpoint(
    db: SessionDep, organization: CurrentOrganization, endpoint_id: str
) -> WebhookEndpoint:
    endpoint = service.get_endpoint(
        db, organization_id=organization.id or 0, endpoint_id=endpoint_id
    )
    if endpoint is None:
        raise HTTPException(status_code=404, detail="no such webhook endpoint")
    return endpoint


@router.post("", status_code=201)
async def create_endpoint(
    body: EndpointIn, organization: CurrentOrganization, db: SessionDep, request: Request
) -> dict[str, Any]:
    """Deliveries are signed with the returned `secret` (Standard Webhooks); it is shown
    only here and when rotated, so store it now."""
    try:
        endpoint = service.create_endpoint(
            db,
            organization_id=organization.id or 0,
            url=body.url,
            event_types=body.event_types,
            production=request.app.state.settings.production,
        )
    except (UnsafeWebhookUrl, ValueError) as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    db.commit()
    return service.endpoint_out(endpoint, with_secret=True)


@router.get("")
async def list_endpoints(organization: CurrentOrganization, db: SessionDep) -> dict[str, Any]:
    """Your endpoints; secrets are never listed."""
    endpoints = service.list_endpoints(db, organization_id=organization.id or 0)
    return {"endpoints": [service.endpoint_out(e) for e in endpoints]}


@router.delete("/{endpoint_id}", status_code=204)
async def delete_endpoint(
    endpoint_id: str, organization: CurrentOrganization, db: SessionDep
) -> Response:
    endpoint = _own_endpoint(db, organization, endpoint_id)
    service.delete_endpoint(db, endpoint=endpoint)
    db.commit()
    return Response(status_code=204)


@router.post("/{endpoint_id}/rotate-secret")
async def rotate_secret(
    endpoint_id: str, organization: CurrentOrganization, db: SessionDep
) -> dict[str, Any]:
    """A new secret. For 24 hours deliveries carry two signatures, one per secret, so your
    receiver keeps verifying while you switch over."""
    endpoint = _own_endpoint(db, organization, endpoint_id)
    secret = service.rotate_secret(db, endpoint=endpoint)
    db.commit()
    return {
        "id": endpoint.id,
        "secret": secret,
        "previous_secret_expires_at": endpoint.previous_secret_expires_at.isoformat()
        if endpoint.previous_secret_expires_at
        else None,
    }


class EnableIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    redeliver: bool = Field(
        default=False, description="queue again the deliveries that died for this endpoint"
    )


@router.post("/{endpoint_id}/enable")
async def enable_endpoint(
    endpoint_id: str,
    organization: CurrentOrganization,
    db: SessionDep,
    body: EnableIn | None = None,
) -> dict[str, Any]:
    """Deliver to this endpoint again after it answered 410 Gone (which turns it off). With
    `{"redeliver": true}`, what died for it is sent again, each with its own webhook-id."""
    endpoint = _own_endpoint(db, organization, endpoint_id)
    queued = service.enable_endpoint(
        db, endpoint=endpoint, redeliver=body.redeliver if body else False
    )
    db.commit()
    return {**service.endpoint_out(endpoint), "redelivered": queued}


@router.get("/{endpoint_id}/attempts")
async def list_attempts(
    endpoint_id: str,
    organization: CurrentOrganization,
    db: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """Delivery attempts to this endpoint, newest first."""
    endpoint = _own_endpoint(db, organization, endpoint_id)
    attempts = service.list_attempts(db, endpoint=endpoint, limit=limit)
    return {"attempts": [service.attempt_out(a) for a in attempts]}


@redelivery_router.post("/{event_id}/redeliver", status_code=202)
async def redeliver(
    event_id: str, organization: CurrentOrganization, db: SessionDep
) -> dict[str, Any]:
    """Send the event to your endpoints again (same webhook-id, so you can deduplicate)."""
    event = organization_event(db, organization_id=organization.id or 0, event_id=event_id)
    if event is None:
        raise HTTPException(status_code=404, detail="no such event")
    queued = service.redeliver_event(db, event_id=event.id, organization_id=organization.id)
    db.commit()
    return {"event_id": event.id, "queued": queued}
