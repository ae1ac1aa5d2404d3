"""Jinja2 set-up, and rendering a whole page or one block of it for an HTMX swap (so a page
and its fragment never drift apart)."""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from app import i18n
from app.config import ROOT
from app.web import labels

STATIC_DIR = ROOT / "app" / "static"


def _static_versions() -> dict[str, str]:
    # A content hash in the URL lets static files be cached for a year and still change.
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()[:10]
        for p in STATIC_DIR.iterdir()
        if p.is_file()
    }


def make_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(ROOT / "templates")),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        lambda message: i18n.translations_for(i18n.get_locale()).gettext(message),
        lambda s, p, n: i18n.translations_for(i18n.get_locale()).ngettext(s, p, n),
        newstyle=True,
    )
    versions = _static_versions()
    env.globals.update(
        static=lambda name: f"/static/{name}?v={versions.get(name, '0')}",
        locale_names=i18n.LOCALE_NAMES,
        supported_locales=i18n.SUPPORTED_LOCALES,
        format_date=i18n.format_date,
        format_datetime=i18n.format_datetime,
        format_number=i18n.format_number,
        pick_text=i18n.pick_text,
        language_name=i18n.language_name,
        category_name=labels.category_name,
        basis_words=labels.basis_words,
        state_words=labels.state_words,
        method_words=labels.method_words,
    )
    return env


def render(
    request: Request,
    template_name: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    block: str | None = None,
) -> HTMLResponse:
    """Render a page; with `block`, only that block of the same template (for HTMX)."""
    env: Environment = request.app.state.templates
    i18n.set_locale(getattr(request.state, "locale", i18n.DEFAULT_LOCALE))
    template = env.get_template(template_name)
    ctx = {"request": request, **getattr(request.state, "template_context", {}), **(context or {})}
    if block is not None:
        html = "".join(template.blocks[block](template.new_context(ctx)))
    else:
        html = template.render(ctx)
    return HTMLResponse(html, status_code=status_code)


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def nl2br(value: str) -> Markup:
    escaped = Markup.escape(value)
    return Markup("<br>").join(escaped.split("\n"))
