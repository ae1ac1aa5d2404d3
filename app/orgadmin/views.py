"""The org admins' pages: the data collection plan (editor and data-justice review), API keys,
webhook endpoints and the organization dashboard.

Every route needs `OrgAdmin`: signed out goes to /staff/login, a case manager gets 404 (the
pages do not exist for them), and every lookup is by the admin's own organization, so another
organization's purposes, keys and endpoints are simply not found. Saving a purpose goes
through the API's own `PurposeIn` and `upsert_purpose`, so the browser and the API can't
disagree.
"""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from app.db import SessionDep
from app.events.catalogue import EVENT_TYPES
from app.i18n import gettext as _
from app.orgadmin import service
from app.orgadmin.charts import Bar, bar_chart
from app.orgadmin.forms import KNOWN_CATEGORIES, PurposeForm, editor_languages
from app.orgadmin.review import PlanReview
from app.organizations.models import Organization, Staff
from app.organizations.service import (
    UnknownOrganization,
    create_api_key,
    find_purpose,
    get_organization,
    list_purposes,
    upsert_purpose,
)
from app.staff.deps import OrgAdmin, staff_organization
from app.web.deps import not_found, web_context
from app.web.forms import FormErrors
from app.web.templating import render
from app.webhooks import service as webhooks
from app.webhooks.models import WebhookEndpoint
from app.webhooks.ssrf import MAX_URL_LENGTH, UnsafeWebhookUrl

router = APIRouter(prefix="/staff/org", dependencies=[Depends(web_context)])

MAX_KEY_NAME = 100
# Chart colours; each bar also carries its label and number, so colour is never the only cue.
GIVEN_FILL = "#00703c"
WITHDRAWN_FILL = "#b10e1e"
EXPIRED_FILL = "#505a5f"
OPEN_FILL = "#1d4f91"


def _page(
    request: Request,
    template: str,
    staff: Staff,
    organization: Organization,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    """Every org admin page shows who is signed in and where they are."""
    base = {"staff": staff, "organization": organization, "section": template.split("/")[-1]}
    return render(request, template, {**base, **(context or {})}, status_code=status_code)


# --- the organization dashboard ---------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
async def dashboard(request: Request, staff: OrgAdmin, db: SessionDep) -> Response:
    organization = staff_organization(staff, db)
    board = service.build_dashboard(db, organization=organization)
    consent_charts = []
    for row in board.consents:
        counts = row.counts
        consent_charts.append(
            bar_chart(
                f"chart-consents-{row.purpose.key}",
                title=_("Consents for %(purpose)s", purpose=row.purpose.key),
                description=_(
                    "Given %(given)d, withdrawn %(withdrawn)d, expired %(expired)d.",
                    **counts,
                ),
                bars=[
                    Bar(_("Given"), counts["given"], GIVEN_FILL),
                    Bar(_("Withdrawn"), counts["withdrawn"], WITHDRAWN_FILL),
                    Bar(_("Expired"), counts["expired"], EXPIRED_FILL),
                ],
            )
        )
    follow_up_chart = bar_chart(
        "chart-follow-up",
        title=_("Corrections and acknowledgements"),
        description=_(
            "Corrections open %(open)d, of which overdue %(overdue)d; acknowledgements "
            "overdue %(acks)d.",
            open=board.corrections_open,
            overdue=board.corrections_overdue,
            acks=board.acks_overdue,
        ),
        bars=[
            Bar(_("Corrections open"), board.corrections_open, OPEN_FILL),
            Bar(_("Corrections overdue"), board.corrections_overdue, WITHDRAWN_FILL),
            Bar(_("Acks overdue"), board.acks_overdue, WITHDRAWN_FILL),
        ],
    )
    return _page(
        request,
        "orgadmin/dashboard.html",
        staff,
        organization,
        {
            "board": board,
            "consent_charts": list(zip(board.consents, consent_charts, strict=True)),
            "follow_up_chart": follow_up_chart,
        },
    )


# --- the data collection plan -----------------------------------------------------------------


@router.get("/plan", response_class=HTMLResponse)
async def plan(request: Request, staff: OrgAdmin, db: SessionDep) -> Response:
    organization = staff_organization(staff, db)
    assert organization.id is not None
    review = service.review_organization_plan(db, organization=organization)
    return _page(
        request,
        "orgadmin/plan.html",
        staff,
        organization,
        {
            "purposes": list_purposes(db, organization_id=organization.id),
            "flag_counts": {p.key: len(p.flags) for p in review.purposes},
            "saved": request.query_params.get("saved", "")[:64],
        },
    )


@router.get("/review", response_class=HTMLResponse)
async def review(request: Request, staff: OrgAdmin, db: SessionDep) -> Response:
    organization = staff_organization(staff, db)
    return _page(
        request,
        "orgadmin/review.html",
        staff,
        organization,
        {"review": service.review_organization_plan(db, organization=organization)},
    )


def _editor(
    request: Request,
    staff: Staff,
    organization: Organization,
    form: PurposeForm,
    *,
    new: bool,
    review: PlanReview | None = None,
    errors: FormErrors | None = None,
) -> HTMLResponse:
    flags = []
    if review is not None:
        flags = next((p.flags for p in review.purposes if p.key == form.key), [])
    return _page(
        request,
        "orgadmin/purpose.html",
        staff,
        organization,
        {
            "form": form,
            "new": new,
            "flags": flags,
            "errors": errors or FormErrors(),
            "known_categories": KNOWN_CATEGORIES,
        },
        status_code=400 if errors else 200,
    )


@router.get("/new-purpose", response_class=HTMLResponse)
async def new_purpose(request: Request, staff: OrgAdmin, db: SessionDep) -> Response:
    organization = staff_organization(staff, db)
    languages = editor_languages(None, service.participant_languages(db, organization=organization))
    return _editor(request, staff, organization, PurposeForm(languages=languages), new=True)


@router.post("/new-purpose", response_class=HTMLResponse)
async def create_purpose(request: Request, staff: OrgAdmin, db: SessionDep) -> Response:
    organization = staff_organization(staff, db)
    languages = editor_languages(None, service.participant_languages(db, organization=organization))
    form = PurposeForm.from_form(await request.form(), languages)
    return _save(request, db, staff, organization, form, new=True)


@router.get("/plan/{purpose_key}", response_class=HTMLResponse)
async def edit_purpose(
    purpose_key: str, request: Request, staff: OrgAdmin, db: SessionDep
) -> Response:
    organization = staff_organization(staff, db)
    purpose = find_purpose(db, organization_id=organization.id or 0, key=purpose_key[:64])
    if purpose is None:
        raise not_found()
    languages = editor_languages(
        purpose, service.participant_languages(db, organization=organization)
    )
    return _editor(
        request,
        staff,
        organization,
        PurposeForm.from_purpose(purpose, languages),
        new=False,
        review=service.review_organization_plan(db, organization=organization),
    )


@router.post("/plan/{purpose_key}", response_class=HTMLResponse)
async def save_purpose(
    purpose_key: str, request: Request, staff: OrgAdmin, db: SessionDep
) -> Response:
    organization = staff_organization(staff, db)
    purpose = find_purpose(db, organization_id=organization.id or 0, key=purpose_key[:64])
    if purpose is None:
        raise not_found()
    languages = editor_languages(
        purpose, service.participant_languages(db, organization=organization)
    )
    form = PurposeForm.from_form(await request.form(), languages, key=purpose.key)
    return _save(request, db, staff, organization, form, new=False)


def _save(
    request: Request,
    db: Session,
    staff: Staff,
    organization: Organization,
    form: PurposeForm,
    *,
    new: bool,
) -> Response:
    data, errors = form.validate(new=new)
    if new and not errors and find_purpose(db, organization_id=organization.id or 0, key=form.key):
        errors.add("key", _("A purpose with this key exists already; choose another key."))
    if data is not None and not errors:
        try:
            upsert_purpose(db, organization=organization, key=form.key, data=data)
        except UnknownOrganization:
            db.rollback()
            for index, row in enumerate(form.recipients):
                if row["organization"] and get_organization(db, row["organization"]) is None:
                    errors.add(
                        f"recipient-{index}-organization",
                        _("There is no network organization with this slug."),
                    )
        else:
            db.commit()
            return RedirectResponse(f"/staff/org/plan?saved={form.key}", status_code=303)
    return _editor(request, staff, organization, form, new=new, errors=errors)


# --- API keys ----------------------------------------------------------------------------------


def _keys_page(
    request: Request,
    db: Session,
    staff: Staff,
    organization: Organization,
    **context: Any,
) -> HTMLResponse:
    errors = context.get("errors") or FormErrors()
    return _page(
        request,
        "orgadmin/keys.html",
        staff,
        organization,
        {
            "keys": service.list_api_keys(db, organization=organization),
            "errors": errors,
            "name": "",
            **context,
        },
        status_code=400 if errors else 200,
    )


@router.get("/keys", response_class=HTMLResponse)
async def keys(request: Request, staff: OrgAdmin, db: SessionDep) -> Response:
    organization = staff_organization(staff, db)
    return _keys_page(request, db, staff, organization, revoked=request.query_params.get("revoked"))


@router.post("/keys", response_class=HTMLResponse)
async def create_key(request: Request, staff: OrgAdmin, db: SessionDep) -> Response:
    organization = staff_organization(staff, db)
    form = await request.form()
    raw = form.get("name")
    name = raw.strip() if isinstance(raw, str) else ""
    errors = FormErrors()
    if not name:
        errors.add("name", _("Enter a name for the key, such as the system that will use it."))
    elif len(name) > MAX_KEY_NAME or any(ord(ch) < 32 for ch in name):
        errors.add("name", _("The name must be 100 characters or fewer, on one line."))
    if errors:
        return _keys_page(request, db, staff, organization, errors=errors, name=name[:200])
    newest = form.get("newest")
    if isinstance(newest, str) and newest.isdigit():
        known = int(newest)
        if any(
            k.id is not None and k.id > known and k.name == name
            for k in service.list_api_keys(db, organization=organization)
        ):
            # The same form again (a reload): the key it made was shown once; make no second.
            return _keys_page(request, db, staff, organization, already_created=name)
    key = create_api_key(db, organization=organization, name=name)
    db.commit()
    # Shown on this response only: the portal keeps a hash, never the key.
    return _keys_page(request, db, staff, organization, new_key=key, new_key_name=name)


def _confirm_page(
    request: Request,
    staff: Staff,
    organization: Organization,
    *,
    question: str,
    subject: str,
    explanation: list[str],
    action: str,
    button: str,
    cancel_url: str,
    button_class: str = "warning",
    hidden: dict[str, str] | None = None,
) -> HTMLResponse:
    return _page(
        request,
        "orgadmin/confirm.html",
        staff,
        organization,
        {
            "question": question,
            "subject": subject,
            "explanation": explanation,
            "action": action,
            "button": button,
            "button_class": button_class,
            "cancel_url": cancel_url,
            "hidden": hidden or {},
        },
    )


@router.get("/keys/{key_id}/revoke", response_class=HTMLResponse)
async def revoke_key_confirm(
    key_id: int, request: Request, staff: OrgAdmin, db: SessionDep
) -> Response:
    organization = staff_organization(staff, db)
    key = service.own_api_key(db, organization=organization, key_id=key_id)
    if key is None or key.revoked_at is not None:
        raise not_found()
    return _confirm_page(
        request,
        staff,
        organization,
        question=_("Revoke this API key?"),
        subject=f"{key.name} ({key.prefix}…)",
        explanation=[
            _("Systems using it can no longer reach the API, at once. This can't be undone."),
            _("Give those systems a new key first, or they will stop sending data to the portal."),
        ],
        action=f"/staff/org/keys/{key.id}/revoke",
        button=_("Revoke key"),
        cancel_url=f"/staff/org/keys#key-{key.id}",
    )


@router.post("/keys/{key_id}/revoke")
async def revoke_key(key_id: int, staff: OrgAdmin, db: SessionDep) -> Response:
    organization = staff_organization(staff, db)
    if service.revoke_api_key(db, organization=organization, key_id=key_id) is None:
        raise not_found()
    db.commit()
    return RedirectResponse(f"/staff/org/keys?revoked={key_id}", status_code=303)


# --- webhook endpoints ---------------------------------------------------------------------------


def _own_endpoint(db: Session, organization: Organization, endpoint_id: str) -> WebhookEndpoint:
    endpoint = webhooks.get_endpoint(
        db, organization_id=organization.id or 0, endpoint_id=endpoint_id[:40]
    )
    if endpoint is None:
        raise not_found()
    return endpoint


def _endpoints_page(
    request: Request, db: Session, staff: Staff, organization: Organization, **context: Any
) -> HTMLResponse:
    errors = context.get("errors") or FormErrors()
    return _page(
        request,
        "orgadmin/endpoints.html",
        staff,
        organization,
        {
            "endpoints": webhooks.list_endpoints(db, organization_id=organization.id or 0),
            "event_types": EVENT_TYPES,
            "errors": errors,
            "url": "",
            "chosen_types": [],
            **context,
        },
        status_code=400 if errors else 200,
    )


@router.get("/endpoints", response_class=HTMLResponse)
async def endpoints(request: Request, staff: OrgAdmin, db: SessionDep) -> Response:
    organization = staff_organization(staff, db)
    return _endpoints_page(
        request, db, staff, organization, deleted=request.query_params.get("deleted")
    )


@router.post("/endpoints", response_class=HTMLResponse)
async def add_endpoint(request: Request, staff: OrgAdmin, db: SessionDep) -> Response:
    organization = staff_organization(staff, db)
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
                organization_id=organization.id or 0,
                url=url,
                event_types=chosen or None,
                production=request.app.state.settings.production,
            )
        except (UnsafeWebhookUrl, ValueError) as exc:
            db.rollback()
            errors.add("url", _("This address can't be used: %(reason)s", reason=str(exc)))
        else:
            db.commit()
            return _endpoint_page(
                request, db, staff, organization, endpoint, secret=endpoint.secret
            )
    return _endpoints_page(
        request,
        db,
        staff,
        organization,
        errors=errors,
        url=url[:MAX_URL_LENGTH],
        chosen_types=chosen,
    )


def _endpoint_page(
    request: Request,
    db: Session,
    staff: Staff,
    organization: Organization,
    endpoint: WebhookEndpoint,
    **context: Any,
) -> HTMLResponse:
    return _page(
        request,
        "orgadmin/endpoint.html",
        staff,
        organization,
        {
            "endpoint": endpoint,
            "attempts": webhooks.list_attempts(db, endpoint=endpoint),
            **context,
        },
    )


@router.get("/endpoints/{endpoint_id}", response_class=HTMLResponse)
async def endpoint_detail(
    endpoint_id: str, request: Request, staff: OrgAdmin, db: SessionDep
) -> Response:
    organization = staff_organization(staff, db)
    endpoint = _own_endpoint(db, organization, endpoint_id)
    return _endpoint_page(request, db, staff, organization, endpoint)


@router.get("/endpoints/{endpoint_id}/rotate-secret", response_class=HTMLResponse)
async def rotate_secret_confirm(
    endpoint_id: str, request: Request, staff: OrgAdmin, db: SessionDep
) -> Response:
    organization = staff_organization(staff, db)
    endpoint = _own_endpoint(db, organization, endpoint_id)
    return _confirm_page(
        request,
        staff,
        organization,
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
    endpoint_id: str, request: Request, staff: OrgAdmin, db: SessionDep
) -> Response:
    organization = staff_organization(staff, db)
    endpoint = _own_endpoint(db, organization, endpoint_id)
    # The confirmation names the secret it means to replace: sending the form again (a reload
    # of this page) must not replace the new secret, which was shown once, before it was used.
    seen = (await request.form()).get("replacing")
    if seen != _fingerprint(endpoint.secret):
        return _endpoint_page(request, db, staff, organization, endpoint, already_rotated=True)
    secret = webhooks.rotate_secret(db, endpoint=endpoint)
    db.commit()
    # Shown on this response only, like the API's answer.
    return _endpoint_page(request, db, staff, organization, endpoint, secret=secret, rotated=True)


def _fingerprint(secret: str) -> str:
    """Which secret a rotation form was for, without putting the secret in the page."""
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


@router.get("/endpoints/{endpoint_id}/delete", response_class=HTMLResponse)
async def delete_endpoint_confirm(
    endpoint_id: str, request: Request, staff: OrgAdmin, db: SessionDep
) -> Response:
    organization = staff_organization(staff, db)
    endpoint = _own_endpoint(db, organization, endpoint_id)
    return _confirm_page(
        request,
        staff,
        organization,
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
    endpoint_id: str, request: Request, staff: OrgAdmin, db: SessionDep
) -> Response:
    """A receiver that answered 410 Gone is back: deliver to it again, and with the box
    ticked send again what died while it was off."""
    organization = staff_organization(staff, db)
    endpoint = _own_endpoint(db, organization, endpoint_id)
    redeliver = (await request.form()).get("redeliver") == "yes"
    queued = webhooks.enable_endpoint(db, endpoint=endpoint, redeliver=redeliver)
    db.commit()
    return RedirectResponse(f"/staff/org/endpoints/{endpoint.id}?enabled={queued}", status_code=303)


@router.post("/endpoints/{endpoint_id}/delete")
async def delete_endpoint(endpoint_id: str, staff: OrgAdmin, db: SessionDep) -> Response:
    organization = staff_organization(staff, db)
    endpoint = _own_endpoint(db, organization, endpoint_id)
    webhooks.delete_endpoint(db, endpoint=endpoint)
    db.commit()
    return RedirectResponse("/staff/org/endpoints?deleted=1", status_code=303)
