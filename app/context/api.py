"""The participant's own context, as the organization may read it: only what the participant
chose to show this organization."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from app.context.service import notes_shared_with
from app.db import SessionDep
from app.participants.deps import EnrollmentInPath

router = APIRouter(tags=["context"])


@router.get("/participants/{external_ref}/context")
async def shared_context(enrollment: EnrollmentInPath, db: SessionDep) -> dict[str, Any]:
    """Strengths, goals and things the participant wants case managers to know, in their own
    words; each also arrives as a `context.shared` event."""
    return {
        "context": [
            {
                "id": n.id,
                "kind": n.kind,
                "text": n.text,
                "created_at": n.created_at.isoformat(),
                "updated_at": n.updated_at.isoformat(),
            }
            for n in notes_shared_with(db, enrollment=enrollment)
        ]
    }
