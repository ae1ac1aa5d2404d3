"""The organization's webhook endpoints (/staff/org/endpoints): the list, adding one (its
signing secret shown once), an endpoint's detail with its delivery attempts, rotating the
secret, removing an endpoint, and enabling again one that answered 410 Gone.

The address rules and the delivery state are the webhook service's (app/webhooks/service.py),
the same the API applies. Endpoints are looked up by the admin's organization, so another
organization's are simply not found.
"""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from app.db import SessionDep
from app.events.catalogue import EVENT_TYPES
from app.i18n import gettext as _
from app.orgadmin.deps import AdminDesk, AdminDeskDep
from app.orgadmin.pages import confirm_page, org_admin_router, page
from app.web.deps import not_found
from app.web.forms import FormErrors
from app.webhooks import service as webhooks
from app.webhooks.models import WebhookEndpoint
from app.webhooks.ssrf import MAX_URL_LENGTH, UnsafeWebhookUrl

router = org_admin_router()


def _own_endpoint(db: Session, desk: AdminDesk, endpoint_id: str) -> WebhookEndpoint:
    endpoint = webhooks.get_endpoint(
        db, organization_id=desk.organization.id or 0, endpoint_id=endpoint_id[:40]
    )
    if endpoint is None:
        raise not_found()
    return endpoint


def _endpoints_page(request: Request, db: Session, desk: AdminDesk, **context: Any) -> HTMLResponse:
    errors = context.get("errors") or FormErrors()
    return page(
        request,
        "orgadmin/endpoints.html",
        desk,
        {
            "endpoints": webhooks.list_endpoints(db, organization_id=desk.organization.id or 0),
            "event_types": EVENT_TYPES,
            "errors": errors,
            "url": "",
            "chosen_types": [],
            **context,
        },
        status_code=400 if errors else 200,
    )


def _endpoint_page(
    request: Request,
    db: Session,
    desk: AdminDesk,
    endpoint: WebhookEndpoint,
    **context: Any,
) -> HTMLResponse:
    return page(
        request,
        "orgadmin/endpoint.html",
        desk,
        {
            "endpoint": endpoint,
            "attempts": webhooks.list_attempts(db, endpoint=endpoint),
            **context,
        },
    )


def _fingerprint(secret: str) -> str:
    """Which secret a rotation form was for, without putting the secret in the page."""
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


@router.get("/endpoints", response_class=HTMLResponse)
async def endpoints(request: Request, desk: AdminDeskDep, db: SessionDep) -> Response:
    return _endpoints_page(request, db, desk, deleted=request.query_params.get("deleted"))


@router.post("/endpoints", response_class=HTMLResponse)
async def add_endpoint(request: Request, desk: AdminDeskDep, db: SessionDep) -> Response:
    form = await request.form()
    raw = form.get("url")
    url = raw.strip() if isinstance(raw, str) else ""
    chosen = [t for t in form.getlist("event_types") if t in EVENT_TYPES]
    errors = FormErrors()
    if not url:
        errors.add("url", _("Enter the address that should receive the webhooks."))
    elif len(url) > MAX_URL_LENGTH:
        errors.add("url", _("The address is too long."))
    else:
        try:
            # The webhook service applies the same address rules as the API (no private
            # addresses in production, https only there).
            endpoint = webhooks.create_endpoint(
                db,
                organization_id=desk.organization.id or 0,
                url=url,
                event_types=chosen or None,
                production=request.app.state.settings.production,
            )
        except (UnsafeWebhookUrl, ValueError) as exc:
            db.rollback()
            errors.add("url", _("This address can't be used: %(reason)s", reason=str(exc)))
        else:
            db.commit()
            return _endpoint_page(request, db, desk, endpoint, secret=endpoint.secret)
    return _endpoints_page(
        request, db, desk, errors=errors, url=url[:MAX_URL_LENGTH], chosen_types=chosen
    )


@router.get("/endpoints/{endpoint_id}", response_class=HTMLResponse)
async def endpoint_detail(
    endpoint_id: str, request: Request, desk: AdminDeskDep, db: SessionDep
) -> Response:
    endpoint = _own_endpoint(db, desk, endpoint_id)
    return _endpoint_page(request, db, desk, endpoint)


@router.get("/endpoints/{endpoint_id}/rotate-secret", response_class=HTMLResponse)
async def rotate_secret_confirm(
    endpoint_id: str, request: Request, desk: AdminDeskDep, db: SessionDep
) -> Response:
    endpoint = _own_endpoint(db, desk, endpoint_id)
    return confirm_page(
        request,
        desk,
        question=_("Rotate the signing secret?"),
        subject=endpoint.url,
        explanation=[
            _(
                "For 24 hours deliveries carry signatures with both the old and the new secret, "
                "so your receiver keeps working while you switch."
            ),
            _("The new secret is shown once, on the next page: copy it then."),
        ],
        action=f"/staff/org/endpoints/{endpoint.id}/rotate-secret",
        hidden={"replacing": _fingerprint(endpoint.secret)},
        button=_("Rotate secret"),
        button_class="primary",
        cancel_url=f"/staff/org/endpoints/{endpoint.id}",
    )


@router.post("/endpoints/{endpoint_id}/rotate-secret", response_class=HTMLResponse)
async def rotate_secret(
    endpoint_id: str, request: Request, desk: AdminDeskDep, db: SessionDep
) -> Response:
    endpoint = _own_endpoint(db, desk, endpoint_id)
    # The confirmation names the secret it means to replace: sending the form again (a reload
    # of this page) must not replace the new secret, which was shown once, before it was used.
    seen = (await request.form()).get("replacing")
    if seen != _fingerprint(endpoint.secret):
        return _endpoint_page(request, db, desk, endpoint, already_rotated=True)
    secret = webhooks.rotate_secret(db, endpoint=endpoint)
    db.commit()
    # Shown on this response only, like the API's answer.
    return _endpoint_page(request, db, desk, endpoint, secret=secret, rotated=True)


@router.get("/endpoints/{endpoint_id}/delete", response_class=HTMLResponse)
async def delete_endpoint_confirm(
    endpoint_id: str, request: Request, desk: AdminDeskDep, db: SessionDep
) -> Response:
    endpoint = _own_endpoint(db, desk, endpoint_id)
    return confirm_page(
        request,
        desk,
        question=_("Remove this webhook endpoint?"),
        subject=endpoint.url,
        explanation=[
            _(
                "It receives nothing more, and deliveries still waiting for it are cancelled. "
                "Its delivery attempts stay on record."
            ),
        ],
        action=f"/staff/org/endpoints/{endpoint.id}/delete",
        button=_("Remove endpoint"),
        cancel_url=f"/staff/org/endpoints/{endpoint.id}",
    )


@router.post("/endpoints/{endpoint_id}/enable")
async def enable_endpoint(
    endpoint_id: str, request: Request, desk: AdminDeskDep, db: SessionDep
) -> Response:
    """A receiver that answered 410 Gone is back: deliver to it again, and with the box
    ticked send again what died while it was off."""
    endpoint = _own_endpoint(db, desk, endpoint_id)
    redeliver = (await request.form()).get("redeliver") == "yes"
    queued = webhooks.enable_endpoint(db, endpoint=endpoint, redeliver=redeliver)
    db.commit()
    return RedirectResponse(f"/staff/org/endpoints/{endpoint.id}?enabled={queued}", status_code=303)


@router.post("/endpoints/{endpoint_id}/delete")
async def delete_endpoint(endpoint_id: str, desk: AdminDeskDep, db: SessionDep) -> Response:
    endpoint = _own_endpoint(db, desk, endpoint_id)
    webhooks.delete_endpoint(db, endpoint=endpoint)
    db.commit()
    return RedirectResponse("/staff/org/endpoints?deleted=1", status_code=303)
