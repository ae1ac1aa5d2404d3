"""My requests (/requests): one list of the participant's corrections, deletion requests,
statements and concerns, and where each stands (app/concerns/my_requests.py)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from app.concerns.my_requests import by_standing, my_requests
from app.db import SessionDep
from app.events.catalogue import EVENT_WORDS
from app.participants.deps import CurrentParticipant
from app.web.deps import web_context
from app.web.templating import render

router = APIRouter(dependencies=[Depends(web_context)])


@router.get("/requests", response_class=HTMLResponse)
async def my_requests_page(
    request: Request, participant: CurrentParticipant, db: SessionDep
) -> Response:
    items = my_requests(db, participant.id)
    return render(
        request,
        "concerns/my_requests.html",
        {"groups": by_standing(items), "count": len(items), "event_words": EVENT_WORDS},
    )
