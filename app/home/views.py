"""The participant's home page (/) and showing a sensitive value on it.

The page gathers every organization's section (app/home/read_model.py) and reuses the
sections kept rendered since the last visit (app/home/cache.py). Above them, what needs the
participant (app/home/attention.py) and what is new since their last visit
(app/home/new_since.py), worked out at every visit.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from app.db import SessionDep, utcnow
from app.home.attention import what_needs_you
from app.home.cache import SectionCache, section_key
from app.home.new_since import what_is_new
from app.home.read_model import HomeSection, build_home, own_holding
from app.participants import recovery
from app.participants.deps import CurrentParticipant
from app.participants.service import enrollments_of
from app.web.deps import WebContextDep, not_found, web_context
from app.web.templating import is_htmx, render, render_fragment

router = APIRouter(dependencies=[Depends(web_context)])


@router.get("/", response_class=HTMLResponse)
async def home(
    request: Request, participant: CurrentParticipant, ctx: WebContextDep, db: SessionDep
) -> Response:
    pairs = enrollments_of(db, participant.id)
    # Notices (?sent=, ?show=, …) belong to one visit: such pages are rendered, not kept.
    keep = not any(name != "lang" for name in request.query_params)
    cache: SectionCache = request.app.state.home_sections
    now = utcnow()
    html: dict[str, Markup] = {}
    if keep:
        for enrollment, organization in pairs:
            kept = cache.get(section_key(enrollment, organization, ctx.locale), now)
            if kept is not None:
                html[enrollment.id] = kept
    stale = [(e, o) for e, o in pairs if e.id not in html]
    if stale:
        for view in build_home(db, participant.id, pairs=stale).organizations:
            section = render_fragment(
                request,
                "participants/home_organization.html",
                {"org": view, "shown": request.query_params.get("show")},
            )
            html[view.enrollment.id] = section
            if keep:
                key = section_key(view.enrollment, view.organization, ctx.locale)
                cache.put(key, section, view.changes_with_time_at(now))
    sections = [HomeSection(o, e, html[e.id]) for e, o in pairs]
    context = {
        "sections": sections,
        "attention": what_needs_you(db, pairs, now),
        "new_since": what_is_new(db, pairs, ctx.web_session),
        "reset": recovery.reset_notice_due(db, participant.id),
    }
    return render(request, "participants/home.html", context)


@router.get("/holdings/{holding_id}/value", response_class=HTMLResponse)
async def show_value(
    request: Request, holding_id: str, participant: CurrentParticipant, db: SessionDep
) -> Response:
    """Reveal a sensitive value: an HTMX swap, or without JavaScript the home page with the
    value shown in place. Another person's holding is not found."""
    item = own_holding(db, participant_id=participant.id, holding_id=holding_id[:40])
    if item is None:
        raise not_found()
    if not is_htmx(request):
        return RedirectResponse(
            f"/?show={item.holding.id}#holding-{item.holding.id}", status_code=303
        )
    return render(request, "participants/home.html", {"item": item}, block="revealed_value")
