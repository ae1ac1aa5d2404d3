"""The organization dashboard (/staff/org): consents per purpose and the follow-up owed
(corrections open and overdue, acknowledgements overdue), each as a chart with its numbers.

The counting is in app/orgadmin/service.py (`build_dashboard`); this page only draws it.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from app.db import SessionDep
from app.i18n import gettext as _
from app.orgadmin import service
from app.orgadmin.charts import Bar, bar_chart
from app.orgadmin.deps import AdminDeskDep
from app.orgadmin.pages import org_admin_router, page

router = org_admin_router()

# Chart colours; each bar also carries its label and number, so colour is never the only cue.
GIVEN_FILL = "#00703c"
WITHDRAWN_FILL = "#b10e1e"
EXPIRED_FILL = "#505a5f"
OPEN_FILL = "#1d4f91"


@router.get("", response_class=HTMLResponse)
async def dashboard(request: Request, desk: AdminDeskDep, db: SessionDep) -> Response:
    board = service.build_dashboard(db, organization=desk.organization)
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
    return page(
        request,
        "orgadmin/dashboard.html",
        desk,
        {
            "board": board,
            "consent_charts": list(zip(board.consents, consent_charts, strict=True)),
            "follow_up_chart": follow_up_chart,
        },
    )
