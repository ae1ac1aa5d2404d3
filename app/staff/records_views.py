"""Staff record what they hold: add, edit and delete holdings, record a disclosure."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from app.web.deps import web_context

router = APIRouter(dependencies=[Depends(web_context)])
