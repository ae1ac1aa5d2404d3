"""Import a spreadsheet: parse a CSV, check every row, then apply it in one transaction.

The check reads the organization's plan, its enrollments and their holdings in a few bulk
queries (never one per row), so 10,000 rows stay well under 10 s. Applying uses the same
services as the API: `enroll` (POST /api/v1/participants) for unknown references, and the
holdings service's own `_apply` (the heart of `upsert_holding`, PUT .../holdings/{field_key})
on holdings loaded in bulk, so every field, the sensitive default and the record version end up
exactly as the API would leave them.

Between "Check file" and "Import" the file travels as a signed token (`sign_payload`): the
compressed CSV, the organization, the staff member and the time, under an HMAC of the app's
secret key. Nothing is stored server-side, a token can't be replayed into another organization
or by another person, and Import checks the file again from scratch before applying it.
"""

from __future__ import annotations

import base64
import csv
import io
import re
import time
import zlib
from dataclasses import dataclass, field
from datetime import date
from types import SimpleNamespace
from typing import Any, cast

from pydantic import ValidationError
from sqlmodel import Session, col, select

from app.holdings.models import Holding
from app.holdings.schemas import HoldingIn
from app.holdings.service import _apply
from app.i18n import DEFAULT_LOCALE, SUPPORTED_LOCALES
from app.i18n import gettext as _
from app.organizations.models import Organization, Purpose
from app.participants.models import Enrollment
from app.participants.refs import MAX_REF, InvalidRef, validate_external_ref
from app.participants.service import enroll
from app.security.tokens import same, sign

REQUIRED = ("external_ref", "field_key", "label", "category", "value", "purpose")
# The label and source in the portal's other languages too: label_es, source_so… (the plain
# columns are the English text), as the API takes {"en": …, "es": …}.
PER_LANGUAGE = tuple(
    f"{name}_{code}" for name in ("label", "source") for code in SUPPORTED_LOCALES[1:]
)
OPTIONAL = ("source", "collected_at", "retain_until", "sensitive", *PER_LANGUAGE)
MAX_ROWS = 50_000
# The app refuses any request body over 1 MiB (SecurityHeadersMiddleware) except on the two
# import routes, which take UPLOAD_BODY_BYTES: room for 50,000 ordinary rows. MAX_BYTES leaves
# room for the multipart framing, so a file near the limit gets this page's message, not a 413.
UPLOAD_BODY_BYTES = 8 * 1_048_576
MAX_BYTES = 8_000_000
UPLOAD_PATHS = ("/staff/org/import/check", "/staff/org/import")
# The signed file is valid this long: enough to read the summary, not to keep forever.
TOKEN_SECONDS = 3600
# Starlette refuses a form field over 1 MB, so the token is sent in pieces.
TOKEN_CHUNK = 900_000
# The API's rule for keys (app/schemas.py `Key`), for field_key and category alike.
KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_LABEL = 200
MAX_VALUE = 10_000
TRUE = {"true", "yes", "1"}
FALSE = {"false", "no", "0"}
IN_CHUNK = 500  # bound parameters per IN (...), well under SQLite's and PostgreSQL's limits


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the file. `row` counts as a spreadsheet does: the header is 1."""

    message: str
    row: int | None = None
    column: str | None = None


@dataclass
class Row:
    row: int
    external_ref: str
    field_key: str
    data: HoldingIn


@dataclass
class Check:
    """What the file would do, or why it can't be imported."""

    problems: list[Problem] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    new_refs: list[str] = field(default_factory=list)
    created: int = 0
    changed: int = 0
    unchanged: int = 0
    # What the check loaded, so Import writes from the same reads instead of loading twice.
    plan: dict[str, Purpose] = field(default_factory=dict, repr=False)
    enrollments: dict[str, Enrollment] = field(default_factory=dict, repr=False)
    holdings: dict[tuple[str, str], Holding] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class NewParticipant:
    external_ref: str
    claim_code: str


@dataclass
class Result:
    new_participants: list[NewParticipant]
    created: int
    changed: int
    unchanged: int


# --- parsing ----------------------------------------------------------------------------------


def _decode(content: bytes) -> tuple[str | None, Problem | None]:
    if not content.strip():
        return None, Problem(_("The file is empty."))
    if b"\x00" in content:
        # Text never has NUL bytes; a spreadsheet saved as .xlsx or a picture does.
        return None, Problem(
            _("This is not a CSV file. In your spreadsheet, choose Save as, then CSV (UTF-8).")
        )
    try:
        return content.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        row = content.count(b"\n", 0, exc.start) + 1
        return None, Problem(
            _(
                "The file is not in UTF-8 (row %(row)d has a character it can't be). In your "
                "spreadsheet, choose Save as, then CSV (UTF-8).",
                row=row,
            ),
            row=row,
        )


def _ref_problem(exc: InvalidRef) -> str:
    if exc.problem == "empty":
        return _("A reference is needed.")
    if exc.problem == "too_long":
        return _("Use %(num)d characters or fewer.", num=MAX_REF)
    if exc.problem == "path":
        return _("The reference can't have a slash (/) in it, or be only dots.")
    return _("The reference can't have hidden characters in it, such as tabs or line breaks.")


def _has_control(value: str) -> bool:
    return any(ord(ch) < 32 and ch not in "\n\r\t" for ch in value) or "\x7f" in value


def _date(value: str) -> date | None:
    if not DATE_RE.match(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _per_language(values: dict[str, str], name: str) -> str | dict[str, str]:
    """The plain column, or the texts by language when a row gives others (label_es…)."""
    others = {
        code: values[f"{name}_{code}"] for code in SUPPORTED_LOCALES[1:] if values[f"{name}_{code}"]
    }
    if not others:
        return values[name]
    return {DEFAULT_LOCALE: values[name], **others} if values[name] else others


def _read_row(
    number: int, cells: dict[str, str], plan: dict[str, Purpose], problems: list[Problem]
) -> Row | None:
    """The row as a holding, or None after adding its problems."""
    before = len(problems)

    def bad(column: str, message: str) -> None:
        problems.append(Problem(message, row=number, column=column))

    values = {name: (cells.get(name) or "").strip() for name in (*REQUIRED, *OPTIONAL)}
    for name in REQUIRED:
        if not values[name] and name != "external_ref":
            bad(name, _("This column needs a value."))
    ref = values["external_ref"]
    try:
        ref = validate_external_ref(ref)
    except InvalidRef as exc:
        bad("external_ref", _ref_problem(exc))
    for name in ("field_key", "category"):
        if values[name] and not KEY_RE.match(values[name]):
            bad(
                name,
                _(
                    "Use lower-case letters, digits, '_', '.' or '-' (64 at most), starting "
                    "with a letter or digit."
                ),
            )
    purpose = values["purpose"]
    if purpose and purpose not in plan:
        bad(
            "purpose",
            _(
                "%(purpose)s is not a purpose in your data collection plan.",
                purpose=purpose,
            ),
        )
    limits = {"label": MAX_LABEL, "source": MAX_LABEL, "value": MAX_VALUE}
    for name, limit in {**limits, **dict.fromkeys(PER_LANGUAGE, MAX_LABEL)}.items():
        if len(values[name]) > limit:
            bad(name, _("Use %(num)d characters or fewer.", num=limit))
        elif _has_control(values[name]):
            bad(name, _("Hidden characters (such as NUL) are not allowed."))
    dates: dict[str, date | None] = {}
    for name in ("collected_at", "retain_until"):
        dates[name] = _date(values[name]) if values[name] else None
        if values[name] and dates[name] is None:
            bad(name, _("Write the date as YYYY-MM-DD, for example 2026-03-31."))
    sensitive: bool | None = None
    flag = values["sensitive"].lower()
    if flag in TRUE:
        sensitive = True
    elif flag in FALSE:
        sensitive = False
    elif flag:
        bad("sensitive", _("Write true or false, yes or no, 1 or 0, or leave it empty."))
    if len(problems) > before:
        return None
    try:
        data = HoldingIn(
            label=_per_language(values, "label"),
            category=values["category"],
            value=values["value"],
            purpose=purpose,
            source=_per_language(values, "source") or None,
            collected_at=dates["collected_at"],
            retain_until=dates["retain_until"],
            sensitive=sensitive,
        )
    except ValidationError as exc:  # the API's own rules; the checks above should catch all
        for error in exc.errors():
            column = str(error["loc"][0]) if error["loc"] else None
            bad(column or "", _("This value can't be used: %(detail)s", detail=error["msg"]))
        return None
    return Row(row=number, external_ref=ref, field_key=values["field_key"], data=data)


def parse(content: bytes, plan: dict[str, Purpose]) -> tuple[list[Row], list[Problem]]:
    """Every row that can be imported, and every problem with the others."""
    text, problem = _decode(content)
    if problem is not None or text is None:
        return [], [problem or Problem(_("The file is empty."))]
    reader = csv.reader(io.StringIO(text, newline=""))
    problems: list[Problem] = []
    try:
        header = next(reader, None)
        while header is not None and not any(h.strip() for h in header):
            header = next(reader, None)  # blank lines before the header
        if header is None:
            return [], [Problem(_("The file is empty."))]
        names = [h.strip().lower() for h in header]
        missing = [name for name in REQUIRED if name not in names]
        if len(missing) == len(REQUIRED):
            return [], [
                Problem(
                    _(
                        "This is not a CSV file with a header row. The first row must name the "
                        "columns: %(columns)s.",
                        columns=", ".join(REQUIRED),
                    ),
                    row=1,
                )
            ]
        for name in missing:
            problems.append(Problem(_("The column is missing from the header row."), 1, name))
        seen_names: set[str] = set()
        for name in names:
            if name in seen_names:
                problems.append(Problem(_("The column appears twice in the header row."), 1, name))
            elif name and name not in REQUIRED and name not in OPTIONAL:
                problems.append(
                    Problem(
                        _(
                            "Unknown column: correct its name or remove it. Known columns: "
                            "%(columns)s.",
                            columns=", ".join((*REQUIRED, *OPTIONAL)),
                        ),
                        1,
                        name,
                    )
                )
            seen_names.add(name)
        if missing:
            return [], problems
        rows: list[Row] = []
        first_seen: dict[tuple[str, str], int] = {}
        number = 1
        for cells in reader:
            number += 1
            if not any(c.strip() for c in cells):
                continue  # an empty row: spreadsheets often end with some
            if number - 1 > MAX_ROWS:
                return [], [
                    Problem(
                        _(
                            "The file has more than %(max)d rows. Split it into files of at "
                            "most %(max)d rows and import them one by one.",
                            max=MAX_ROWS,
                        )
                    )
                ]
            # Short rows are fine (empty trailing cells are often left out); extra cells
            # would be data dropped without a column.
            if len(cells) > len(names) and any(c.strip() for c in cells[len(names) :]):
                problems.append(
                    Problem(
                        _(
                            "The row has %(cells)d cells; the header row has %(columns)d.",
                            cells=len(cells),
                            columns=len(names),
                        ),
                        number,
                    )
                )
                continue
            row = _read_row(number, dict(zip(names, cells, strict=False)), plan, problems)
            if row is None:
                continue
            key = (row.external_ref, row.field_key)
            if key in first_seen:
                problems.append(
                    Problem(
                        _(
                            "%(ref)s already has %(field_key)s on row %(first)d: each "
                            "reference and field_key may appear once.",
                            ref=row.external_ref,
                            field_key=row.field_key,
                            first=first_seen[key],
                        ),
                        number,
                        "field_key",
                    )
                )
                continue
            first_seen[key] = number
            rows.append(row)
    except csv.Error as exc:
        problems.append(
            Problem(
                _("This is not a CSV file that can be read: %(detail)s", detail=str(exc)),
                reader.line_num or None,
            )
        )
        return [], problems
    if not rows and not problems:
        problems.append(Problem(_("The file has a header row but no data rows.")))
    return rows, problems


# --- checking against the organization's data -------------------------------------------------


def _plan(db: Session, organization_id: int) -> dict[str, Purpose]:
    return {
        p.key: p for p in db.exec(select(Purpose).where(Purpose.organization_id == organization_id))
    }


def _chunks(items: list[Any]) -> list[list[Any]]:
    return [items[i : i + IN_CHUNK] for i in range(0, len(items), IN_CHUNK)]


def _existing(
    db: Session, organization_id: int, refs: list[str]
) -> tuple[dict[str, Enrollment], dict[tuple[str, str], Holding]]:
    """This organization's enrollments named in the file, and all their holdings (deleted ones
    too: importing a deleted field brings it back, as the API's PUT does)."""
    enrollments: dict[str, Enrollment] = {}
    for chunk in _chunks(refs):
        for e in db.exec(
            select(Enrollment).where(
                Enrollment.organization_id == organization_id,
                col(Enrollment.external_ref).in_(chunk),
            )
        ):
            enrollments[e.external_ref] = e
    by_id = {e.id: e.external_ref for e in enrollments.values()}
    holdings: dict[tuple[str, str], Holding] = {}
    for chunk in _chunks(list(by_id)):
        for h in db.exec(select(Holding).where(col(Holding.enrollment_id).in_(chunk))):
            holdings[(by_id[h.enrollment_id], h.field_key)] = h
    return enrollments, holdings


# The columns `_apply` compares; a detached copy shows whether it would change anything.
_COMPARED = (
    "label",
    "category",
    "value",
    "purpose_id",
    "source",
    "label_texts",
    "source_texts",
    "collected_at",
    "retain_until",
    "sensitive",
    "deleted_at",
    "updated_at",
)


def _would_change(holding: Holding, data: HoldingIn, purpose: Purpose) -> bool:
    # A plain object, not a Holding: a model instance costs far more to build, and `_apply`
    # only reads and sets these attributes.
    probe = SimpleNamespace(**{name: getattr(holding, name) for name in _COMPARED})
    return _apply(cast(Holding, probe), data, purpose)


def check(db: Session, organization: Organization, content: bytes) -> Check:
    """Every problem with the file, or what importing it would do. Writes nothing."""
    assert organization.id is not None
    if len(content) > MAX_BYTES:
        return Check(
            problems=[
                Problem(
                    _(
                        "The file is too large: at most %(mb)d MB can be imported at once. Split it "
                        "into smaller files.",
                        mb=max(1, MAX_BYTES // 1_000_000),
                    )
                )
            ]
        )
    plan = _plan(db, organization.id)
    rows, problems = parse(content, plan)
    if problems:
        return Check(problems=problems)
    refs = sorted({r.external_ref for r in rows})
    enrollments, holdings = _existing(db, organization.id, refs)
    result = Check(
        rows=rows,
        new_refs=[ref for ref in refs if ref not in enrollments],
        plan=plan,
        enrollments=enrollments,
        holdings=holdings,
    )
    for row in rows:
        holding = holdings.get((row.external_ref, row.field_key))
        if holding is None or holding.deleted_at is not None:
            result.created += 1
        elif _would_change(holding, row.data, plan[row.data.purpose]):
            result.changed += 1
        else:
            result.unchanged += 1
    return result


def apply(db: Session, organization: Organization, content: bytes) -> Check | Result:
    """Check the file again, then import it all, or nothing. Commits on success; returns the
    failed check (nothing written) if a problem appeared since the first check."""
    assert organization.id is not None
    checked = check(db, organization, content)
    if not checked.ok:
        return checked
    plan, enrollments, holdings = checked.plan, checked.enrollments, checked.holdings
    new: list[NewParticipant] = []
    try:
        for ref in checked.new_refs:
            enrollment, code = enroll(
                db, organization=organization, external_ref=ref, preferred_language=None
            )
            enrollments[ref] = enrollment
            new.append(NewParticipant(external_ref=ref, claim_code=code))
        created = changed = unchanged = 0
        for row in checked.rows:
            enrollment = enrollments[row.external_ref]
            holding = holdings.get((row.external_ref, row.field_key))
            if holding is None or holding.deleted_at is not None:
                created += 1
                holding = holding or Holding(
                    enrollment_id=enrollment.id,
                    field_key=row.field_key,
                    label="",
                    category="",
                    purpose_id=0,
                )
                _apply(holding, row.data, plan[row.data.purpose])
                db.add(holding)
            elif _apply(holding, row.data, plan[row.data.purpose]):
                changed += 1
                db.add(holding)
            else:
                unchanged += 1
        db.commit()
    except Exception:
        db.rollback()
        raise
    return Result(new_participants=new, created=created, changed=changed, unchanged=unchanged)


# --- carrying the checked file to Import --------------------------------------------------


def _message(organization_id: int, staff_id: int, issued: int, payload: str) -> str:
    return f"csv-import:{organization_id}:{staff_id}:{issued}:{payload}"


def sign_payload(secret_key: str, *, organization_id: int, staff_id: int, content: bytes) -> str:
    payload = base64.urlsafe_b64encode(zlib.compress(content, 6)).decode()
    issued = int(time.time())
    signature = sign(secret_key, _message(organization_id, staff_id, issued, payload))
    return f"{issued}.{signature}.{payload}"


def split_token(token: str) -> list[str]:
    return [token[i : i + TOKEN_CHUNK] for i in range(0, len(token), TOKEN_CHUNK)] or [""]


def open_payload(
    secret_key: str, token: str, *, organization_id: int, staff_id: int
) -> bytes | None:
    """The file that was checked, or None when the token is not ours, for someone else, or
    too old."""
    issued_text, _sep, rest = token.partition(".")
    signature, _sep, payload = rest.partition(".")
    if not issued_text.isdigit() or not signature or not payload:
        return None
    issued = int(issued_text)
    expected = sign(secret_key, _message(organization_id, staff_id, issued, payload))
    if not same(signature, expected) or not 0 <= time.time() - issued <= TOKEN_SECONDS:
        return None
    try:
        inflater = zlib.decompressobj()
        content = inflater.decompress(base64.urlsafe_b64decode(payload), MAX_BYTES + 1)
    except (ValueError, zlib.error):
        return None
    return content
