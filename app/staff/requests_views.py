"""Requests to answer: every event of the organization that asks it to act, answered in place."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from app.web.deps import web_context

router = APIRouter(dependencies=[Depends(web_context)])
