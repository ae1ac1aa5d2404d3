"""Import a spreadsheet: check a CSV, then apply it in one transaction."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from app.web.deps import web_context

router = APIRouter(dependencies=[Depends(web_context)])
