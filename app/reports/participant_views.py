"""Reports and stories (/reports-and-stories): every report run that counted the participant,
and every published report of their organizations that did not, so the data comes back to
the community (PRODUCT.md); and the stories organizations ask to tell about them
(app/stories), each linked to its own page where the participant answers."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from app.db import SessionDep
from app.participants.deps import CurrentParticipant
from app.reports.service import runs_for_participant
from app.reports.tables import run_table
from app.stories.service import stories_for_participant
from app.web.deps import web_context
from app.web.templating import render

router = APIRouter(dependencies=[Depends(web_context)])


@router.get("/reports-and-stories", response_class=HTMLResponse)
async def reports_and_stories(
    request: Request, participant: CurrentParticipant, db: SessionDep
) -> Response:
    seen = runs_for_participant(db, participant_id=participant.id)
    return render(
        request,
        "reports/reports_and_stories.html",
        {
            "counted": [(s, run_table(s.run)) for s in seen if s.counted],
            "published": [(s, run_table(s.run)) for s in seen if not s.counted],
            "stories": stories_for_participant(db, participant.id),
        },
    )
