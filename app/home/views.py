"""The participant's home page (/) and showing a sensitive value on it.

The page reads every organization's rows in a handful of queries (app/home/read_model.py)
and renders them fresh at every visit: bench/home_page.py measures it against a floor. Above
them, what needs the participant (app/home/attention.py) and what is new since their last
visit (app/home/new_since.py), both worked out from the same rows.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.db import SessionDep, utcnow
from app.home.attention import by_organization, what_needs_you
from app.home.new_since import what_is_new
from app.home.read_model import HomeSection, build_home, own_holding
from app.participants import recovery
from app.participants.deps import CurrentParticipant
from app.stories.service import awaiting_answer
from app.web.deps import WebContextDep, not_found, web_context
from app.web.templating import is_htmx, render, render_fragment

router = APIRouter(dependencies=[Depends(web_context)])

# Query parameters that announce something about one item of the page.
NOTICES = ("show", "sent", "statement", "deletion")
# Query parameters that say how the participant just came to one organization with its code
# (the value is that enrollment's id): the notice is in that organization's section.
ARRIVALS = ("added", "pin", "opened")


@router.get("/", response_class=HTMLResponse)
async def home(
    request: Request, participant: CurrentParticipant, ctx: WebContextDep, db: SessionDep
) -> Response:
    page = build_home(db, participant.id)
    asked = awaiting_answer(db, [org.enrollment.id for org in page.organizations])
    # A notice about one item (?sent=, ?show=, …) opens every list, so it is in sight.
    notice = any(name in request.query_params for name in NOTICES)
    sections = [
        HomeSection(
            view.organization,
            view.enrollment,
            render_fragment(
                request,
                "participants/home_organization.html",
                {
                    "org": view,
                    "shown": request.query_params.get("show"),
                    "notice": notice,
                    "arrived": arrived(request, view.enrollment.id),
                },
            ),
        )
        for view in page.organizations
    ]
    context = {
        "sections": sections,
        "attention": by_organization(what_needs_you(page, utcnow(), asked)),
        "new_since": what_is_new(db, page, ctx.web_session),
        "reset": recovery.reset_notice_due(db, participant.id),
    }
    return render(request, "participants/home.html", context)


def arrived(request: Request, enrollment_id: str) -> str | None:
    return next((a for a in ARRIVALS if request.query_params.get(a) == enrollment_id), None)


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
