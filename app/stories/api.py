"""Stories over the organization API: draft one for a participant, edit it, read it, and
record where it was published (only while the participant's approval covers its current text).

An organization sees only its own stories; anyone else's is 404.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path
from pydantic import BaseModel, ConfigDict, Field

from app.db import SessionDep
from app.organizations.deps import CurrentOrganization
from app.participants.deps import EnrollmentInPath
from app.participants.models import Enrollment
from app.schemas import LocaleCode, LongText, ShortText, text
from app.stories.models import MAX_STORY_TEXT, Story
from app.stories.service import (
    StoryConflict,
    deficit_words_in,
    draft_story,
    edit_story,
    organization_story,
    publish_story,
    stories_of_enrollment,
    story_payload,
    word_lists,
)
from app.web.forms import FormError

router = APIRouter(tags=["stories"])

StoryText = text(MAX_STORY_TEXT)
UseText = Annotated[dict[LocaleCode, LongText], Field(min_length=1, max_length=20)]  # type: ignore[valid-type]
StoryId = Annotated[str, Path(description="the story_id the story was created with")]


class StoryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: ShortText  # type: ignore[valid-type]
    text: StoryText = Field(  # type: ignore[valid-type]
        description="the exact words to publish, as the participant reads them"
    )
    use: UseText = Field(description="what it is for, per language: {en: 'Our annual report'}")


class StoryEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: ShortText | None = None  # type: ignore[valid-type]
    text: StoryText  # type: ignore[valid-type]
    use: UseText | None = None


class PublishIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    where: ShortText = Field(description="where it was published")  # type: ignore[valid-type]


def story_out(db: SessionDep, story: Story, enrollment: Enrollment | None) -> dict[str, Any]:
    enrollment = enrollment or db.get(Enrollment, story.enrollment_id)
    lists = word_lists(db, organization_id=story.organization_id)
    return {
        "story_id": story.id,
        **story_payload(story),
        "participant": {"external_ref": enrollment.external_ref if enrollment else None},
        # A prompt to tell the whole person, never a reason to refuse.
        "deficit_words": deficit_words_in(f"{story.title}\n{story.text}", lists),
    }


def _own_or_404(db: SessionDep, organization: CurrentOrganization, story_id: str) -> Story:
    story = organization_story(db, organization_id=organization.id or 0, story_id=story_id)
    if story is None:
        raise HTTPException(status_code=404, detail=f"no story {story_id[:60]!r}")
    return story


def _bad_input(exc: FormError) -> HTTPException:
    return HTTPException(status_code=422, detail=f"{exc.field}: {exc.message}")


@router.post("/participants/{external_ref}/stories", status_code=201)
async def create_story(
    body: StoryIn, enrollment: EnrollmentInPath, db: SessionDep
) -> dict[str, Any]:
    """Draft a story or quote for a named use. The participant reads the exact text and
    approves it, asks for changes, or declines; until then it is `awaiting`."""
    try:
        story = draft_story(
            db, enrollment=enrollment, title=body.title, text=body.text, use=body.use
        )
    except FormError as exc:
        db.rollback()
        raise _bad_input(exc) from None
    db.commit()
    return story_out(db, story, enrollment)


@router.get("/participants/{external_ref}/stories")
async def list_stories(enrollment: EnrollmentInPath, db: SessionDep) -> dict[str, Any]:
    return {
        "stories": [
            story_out(db, s, enrollment)
            for s in stories_of_enrollment(db, enrollment_id=enrollment.id)
        ]
    }


@router.get("/stories/{story_id}")
async def get_story(
    story_id: StoryId, organization: CurrentOrganization, db: SessionDep
) -> dict[str, Any]:
    return story_out(db, _own_or_404(db, organization, story_id), None)


@router.put("/stories/{story_id}")
async def change_story(
    story_id: StoryId, body: StoryEdit, organization: CurrentOrganization, db: SessionDep
) -> dict[str, Any]:
    """Change the words: a changed text needs the participant's approval again (`awaiting`).
    A declined or withdrawn story can't be changed (409): draft a new one."""
    story = _own_or_404(db, organization, story_id)
    try:
        edit_story(db, story=story, text=body.text, title=body.title, use=body.use)
    except FormError as exc:
        db.rollback()
        raise _bad_input(exc) from None
    except StoryConflict as exc:
        db.rollback()
        raise HTTPException(status_code=409, detail=str(exc)) from None
    db.commit()
    return story_out(db, story, None)


@router.post("/stories/{story_id}/publish")
async def publish(
    story_id: StoryId, body: PublishIn, organization: CurrentOrganization, db: SessionDep
) -> dict[str, Any]:
    """Record where the story was published: 200 only while the participant's approval covers
    its current text, else 409."""
    story = _own_or_404(db, organization, story_id)
    try:
        publish_story(db, story=story, where=body.where)
    except FormError as exc:
        db.rollback()
        raise _bad_input(exc) from None
    except StoryConflict as exc:
        db.rollback()
        raise HTTPException(status_code=409, detail=str(exc)) from None
    db.commit()
    return story_out(db, story, None)
