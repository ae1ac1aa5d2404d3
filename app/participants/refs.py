"""The organization's reference for a person (`external_ref`): the one rule for what may be
one, applied by the API (a 422 naming the problem, through `ExternalRef` below) and by the
staff intake (a form error in the case manager's language), so a reference one of them takes
the other can't refuse.

A reference is a path segment in every later call (/api/v1/participants/{external_ref}/...,
/staff/participants/{external_ref}): a '/' or a dot segment could never be addressed again.
Control characters (NUL above all: PostgreSQL can't store it) have no place in it either.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, StringConstraints

from app.schemas import printable

MAX_REF = 128

Problem = Literal["empty", "too_long", "control", "path"]

MESSAGES: dict[Problem, str] = {
    "empty": "external_ref must not be empty",
    "too_long": f"external_ref must be at most {MAX_REF} characters",
    "control": "control characters (such as NUL) are not allowed",
    "path": "external_ref may not contain '/' nor be '.' or '..'",
}


class InvalidRef(ValueError):
    """The reference can't be used; `problem` says why (for a translated message)."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(MESSAGES[problem])
        self.problem: Problem = problem


def _is_control(ch: str) -> bool:
    code = ord(ch)
    return code < 32 or 0x7F <= code < 0xA0


def validate_external_ref(value: str) -> str:
    """The reference with surrounding spaces removed; raises InvalidRef when it can't be one."""
    value = value.strip()
    if not value:
        raise InvalidRef("empty")
    if len(value) > MAX_REF:
        raise InvalidRef("too_long")
    if any(_is_control(ch) for ch in value):
        raise InvalidRef("control")
    if "/" in value or value in (".", ".."):
        raise InvalidRef("path")
    return value


# The API's field types for a reference; the constraints only put the length limits in the
# OpenAPI document. They live here, not in app/schemas.py, so the shared field types need no
# participant's rule.
ExternalRef = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_REF),
    AfterValidator(validate_external_ref),
]
# The same reference as it arrives in a URL path: looked up, never stored, so only what the
# database could not compare (NUL) or could never hold (too long) is refused.
ExternalRefInPath = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_REF), AfterValidator(printable)
]
