"""The participant's consent pages: read the notice, give or withdraw, see the history and who
acknowledged each change, and a receipt for every change (printable and JSON).

Giving and withdrawing take the same steps: the home page's button, then this page's one
button of the same name. Withdrawing is never harder than giving.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from app.consent.models import Consent
from app.consent.notice import Notice, build_notice
from app.consent.receipts import (
    ConsentChange,
    OwnConsent,
    build_receipt,
    consent_changes,
    own_consent,
)
from app.consent.service import NoticeChanged, current_consent, effective_state
from app.consent.service import decide as decide_consent
from app.db import SessionDep, utcnow
from app.i18n import gettext as _
from app.organizations.models import Organization, Purpose
from app.organizations.service import find_purpose
from app.participants.deps import CurrentParticipant
from app.participants.models import Enrollment, Participant
from app.participants.service import enrollments_of, own_enrollment
from app.web.deps import WebContextDep, not_found, web_context
from app.web.forms import FormErrors
from app.web.templating import is_htmx, render

router = APIRouter(dependencies=[Depends(web_context)])

# The home page's links say ?decision=give|withdraw; the form posts the same words, or refuse.
DECISIONS = {"give": "given", "withdraw": "withdrawn", "refuse": "refused"}


def _notice_changed() -> str:
    return _("The organization changed this notice. Read it again, then decide.")


@dataclass
class ConsentPage:
    """Everything templates/consent/page.html shows."""

    organization: Organization
    enrollment: Enrollment
    purpose: Purpose
    notice: Notice
    current: Consent | None
    state: str  # requested, given, refused, withdrawn, expired
    changes: list[ConsentChange]
    now: datetime

    @property
    def action(self) -> str:
        """The one thing the participant can do here: give, or withdraw."""
        return "withdraw" if self.state == "given" else "give"

    @property
    def anchor(self) -> str:
        return consent_anchor(self.organization, self.purpose)

    @property
    def answer_due(self) -> datetime | None:
        """When the organization must confirm the newest change (a withdrawal), if it must."""
        if not self.changes:
            return None
        for ack in self.changes[0].acknowledgements:
            if ack.role == "holder" and ack.event.ack_due_by is not None:
                return ack.event.ack_due_by
        return None


def consent_anchor(organization: Organization, purpose: Purpose) -> str:
    """Where the home page shows this consent (the redirect after a decision lands there)."""
    return f"consent-{organization.slug}-{purpose.key}"


def _decision_target(
    db: SessionDep, participant: Participant, enrollment_id: str, purpose_key: str
) -> tuple[Enrollment, Organization, Purpose]:
    """The participant's own enrollment and a purpose of its plan that rests on consent: what
    a decision needs (404 for anything else)."""
    own = own_enrollment(db, participant_id=participant.id, enrollment_id=enrollment_id[:40])
    if own is None:
        raise not_found()
    enrollment, organization = own
    purpose = find_purpose(db, organization_id=organization.id or 0, key=purpose_key[:64])
    if purpose is None or purpose.basis != "consent":
        raise not_found()
    return enrollment, organization, purpose


def _consent_page(
    db: SessionDep,
    enrollment: Enrollment,
    organization: Organization,
    purpose: Purpose,
    notice: Notice,
) -> ConsentPage:
    current = current_consent(db, enrollment_id=enrollment.id, purpose_id=purpose.id or 0)
    now = utcnow()
    return ConsentPage(
        organization=organization,
        enrollment=enrollment,
        purpose=purpose,
        notice=notice,
        current=current,
        state=effective_state(current, now),
        changes=consent_changes(db, enrollment_ids=[enrollment.id], purpose_id=purpose.id),
        now=now,
    )


def _own_consent_or_404(db: SessionDep, participant: Participant, consent_id: str) -> OwnConsent:
    own = own_consent(db, participant_id=participant.id, consent_id=consent_id[:40])
    if own is None:
        raise not_found()
    return own


# --- receipts (declared before /consents/{enrollment_id}/{purpose_key}, which would match) ---


@router.get("/consents/receipts/{consent_id}.json")
async def receipt_json(
    request: Request, consent_id: str, participant: CurrentParticipant, db: SessionDep
) -> Response:
    own = _own_consent_or_404(db, participant, consent_id)
    receipt = build_receipt(db, own=own, base_url=request.app.state.settings.base_url)
    return JSONResponse(
        receipt,
        headers={
            "Content-Disposition": f'inline; filename="consent-receipt-{own.consent.id}.json"'
        },
    )


@router.get("/consents/receipts/{consent_id}", response_class=HTMLResponse)
async def receipt_page(
    request: Request, consent_id: str, participant: CurrentParticipant, db: SessionDep
) -> Response:
    own = _own_consent_or_404(db, participant, consent_id)
    changes = consent_changes(db, enrollment_ids=[own.enrollment.id], purpose_id=own.purpose.id)
    change = next(c for c in changes if c.consent.id == own.consent.id)
    return render(
        request,
        "consent/receipt.html",
        {
            "own": own,
            "change": change,
            "receipt": build_receipt(db, own=own, base_url=request.app.state.settings.base_url),
            "now": utcnow(),
        },
    )


# --- activity: every consent change, and who acknowledged it --------------------------------


@router.get("/activity", response_class=HTMLResponse)
async def activity(request: Request, participant: CurrentParticipant, db: SessionDep) -> Response:
    enrollment_ids = [e.id for e, _o in enrollments_of(db, participant.id)]
    return render(
        request,
        "consent/activity.html",
        {"changes": consent_changes(db, enrollment_ids=enrollment_ids), "now": utcnow()},
    )


# --- one consent: the notice, the decision, the history --------------------------------------


@router.get("/consents/{enrollment_id}/{purpose_key}", response_class=HTMLResponse)
async def consent_page(
    request: Request,
    enrollment_id: str,
    purpose_key: str,
    participant: CurrentParticipant,
    ctx: WebContextDep,
    db: SessionDep,
) -> Response:
    enrollment, organization, purpose = _decision_target(
        db, participant, enrollment_id, purpose_key
    )
    notice = build_notice(purpose, organization, ctx.locale)
    page = _consent_page(db, enrollment, organization, purpose, notice)
    errors = FormErrors()
    if request.query_params.get("notice_changed"):
        errors.add("decision", _notice_changed())
    # After a decision without JavaScript: the confirmation, next to the decision it confirms.
    done = request.query_params.get("done")
    return render(
        request,
        "consent/page.html",
        {"page": page, "errors": errors, "done": done if done in DECISIONS.values() else None},
    )


@router.post("/consents/{enrollment_id}/{purpose_key}", response_class=HTMLResponse)
async def decide(
    request: Request,
    enrollment_id: str,
    purpose_key: str,
    participant: CurrentParticipant,
    ctx: WebContextDep,
    db: SessionDep,
    decision: str = Form(""),
    notice_version: str = Form(""),
) -> Response:
    # Only what the decision needs is loaded; the page (history and all) only to answer.
    enrollment, organization, purpose = _decision_target(
        db, participant, enrollment_id, purpose_key
    )
    notice = build_notice(purpose, organization, ctx.locale)  # once: shown and stored alike
    errors = FormErrors()
    wanted = DECISIONS.get(decision)
    if wanted is None:
        errors.add("decision", _("Choose to give consent, not to give it, or to withdraw it."))
    else:
        try:
            decide_consent(
                db,
                enrollment=enrollment,
                organization=organization,
                purpose=purpose,
                state=wanted,
                method="self",
                notice=notice,
                notice_version=notice_version or None,
                base_url=ctx.settings.base_url,
            )
        except NoticeChanged:
            errors.add("decision", _notice_changed())
        else:
            db.commit()
    if errors:
        if is_htmx(request) and wanted is not None:
            # The notice outside the swapped block is stale too: reload the whole page.
            url = f"/consents/{enrollment.id}/{purpose.key}?notice_changed=1"
            return Response(status_code=204, headers={"HX-Redirect": url})
        return render(
            request,
            "consent/page.html",
            {
                "page": _consent_page(db, enrollment, organization, purpose, notice),
                "errors": errors,
            },
            status_code=400 if wanted is None else 409,
        )
    if is_htmx(request):
        page = _consent_page(db, enrollment, organization, purpose, notice)
        return render(
            request,
            "consent/page.html",
            {"page": page, "errors": FormErrors(), "done": wanted, "swap_history": True},
            block="decision",
        )
    return RedirectResponse(
        f"/consents/{enrollment.id}/{purpose.key}?done={wanted}#decision", status_code=303
    )
