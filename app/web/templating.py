"""Jinja2 set-up, and rendering a whole page or one block of it for an HTMX swap (so a page
and its fragment never drift apart)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from babel import lists
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, Template, select_autoescape
from markupsafe import Markup

from app import i18n
from app.organizations.categories import category_name
from app.paths import STATIC_DIR, TEMPLATES_DIR
from app.web import labels
from app.web.deps import staff_home_url
from app.web.stylesheet import STYLESHEET


def _static_versions() -> dict[str, str]:
    # A content hash in the URL lets static files be cached for a year and still change.
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()[:10]
        for p in STATIC_DIR.iterdir()
        if p.is_file()
    }


def make_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    # Plain functions, not the i18n extension's aliases: those take the template context on
    # every call and copy it inside loops, which made translating the dominant cost of the
    # home page (bench/home_page.py). The result is a plain string, escaped on output.
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=False
    )
    env.globals.update(_=i18n.gettext, gettext=i18n.gettext, ngettext=i18n.ngettext)
    versions = _static_versions()
    env.globals.update(
        static=lambda name: f"/static/{name}?v={versions.get(name, '0')}",
        locale_names=i18n.LOCALE_NAMES,
        supported_locales=i18n.SUPPORTED_LOCALES,
        format_date=i18n.format_date,
        format_datetime=i18n.format_datetime,
        format_number=i18n.format_number,
        pick_text=i18n.pick_text,
        localized=localized,
        own_words=OwnWords,
        language_name=i18n.language_name,
        own_language_name=i18n.own_language_name,
        draft_language=i18n.is_draft,
        tel_href=tel_href,
        category_name=category_name,
        basis_words=labels.basis_words,
        state_words=labels.state_words,
        state_name=labels.state_name,
        method_words=labels.method_words,
        retention_words=labels.retention_words,
        time_tag=time_tag,
        staff_home_url=staff_home_url,
        stylesheet=STYLESHEET,
    )
    env.filters["category_name"] = category_name
    return env


def tel_href(phone: str) -> str:
    """A phone number as a tel: link: its digits, and a leading + (the profile allows only
    digits, spaces and + ( ) - . in it)."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    return "tel:" + ("+" if phone.strip().startswith("+") else "") + digits


def _template_for(request: Request, template_name: str) -> tuple[Template, dict[str, Any]]:
    """The template, in the request's language, and what every template is given. `locale`
    first: pages no route rendered (a 404) have no web context, but still a language."""
    env: Environment = request.app.state.templates
    locale = getattr(request.state, "locale", i18n.DEFAULT_LOCALE)
    i18n.set_locale(locale)
    return env.get_template(template_name), {"request": request, "locale": locale}


def render(
    request: Request,
    template_name: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    block: str | None = None,
) -> HTMLResponse:
    """Render a page; with `block`, only that block of the same template (for HTMX)."""
    template, base = _template_for(request, template_name)
    ctx = {**base, **getattr(request.state, "template_context", {}), **(context or {})}
    if block is not None:
        html = "".join(template.blocks[block](template.new_context(ctx)))
    else:
        html = template.render(ctx)
    return HTMLResponse(html, status_code=status_code)


def render_fragment(request: Request, template_name: str, context: dict[str, Any]) -> Markup:
    """A part of a page, rendered with everything a page has (the language, the request) but
    without the visit's own context (no CSRF token, no session): safe to keep and reuse."""
    template, base = _template_for(request, template_name)
    return Markup(template.render({**base, **context}))  # noqa: S704 - autoescaped


def localized(texts: dict[str, str] | None) -> Markup:
    """A text an organization wrote per language, in the page's language. When that language
    is missing it falls back (to English first) and says so, marked with its own `lang` so a
    screen reader pronounces it right."""
    text, fallback = i18n.pick_text(texts)
    if not fallback:
        return Markup.escape(text)
    note = i18n.gettext(
        "not yet translated; shown in %(language)s", language=i18n.language_name(fallback)
    )
    return Markup('<span lang="{}">{}</span> <span class="fallback">({})</span>').format(
        fallback, text, note
    )


class OwnWords:
    """An organization's own words in one section of a page, in the page's language.

    A text not yet written in that language is shown in the one it was written in, marked with
    its `lang` (so a screen reader pronounces it right) but with no note on the line: the
    section says so once, at its top, with `note()`. Capture the section first, so that the
    note can come before it:

        {% set words = own_words(organization.name) %}
        {% set section %}<p>{{ words(purpose.title) }}</p> …{% endset %}
        {{ words.note() }}{{ section }}

    Without an organization (a section with several organizations' words) the note names
    none. A sentence around a marked text keeps its markup when formatted as Markup:
    `(_("… %(purpose)s")|e) % {"purpose": words(purpose.title)}`.

    A text is what the organization gave: a dict per language, or a plain string (shown as it
    is, unmarked: the organization wrote it in no particular language). For a holding's label,
    `words(h.label_texts, h.label)`: the texts per language, else the plain one. Where the text
    was already picked in Python (`app.holdings.models.label_text`), hand over the pick:
    `words.shown(text, language)`. In a long list, `words.label(h)` and `words.source(h)`: one
    call per row, which does nothing more than escape a plain label.
    """

    def __init__(self, organization: str | None = None) -> None:
        self.organization = organization
        self.languages: list[str] = []  # the languages shown instead, as first met

    def __call__(self, texts: str | dict[str, str] | None, default: str | None = "") -> Markup:
        return self.shown(*self.pick(texts, default))

    def pick(
        self, texts: str | dict[str, str] | None, default: str | None = ""
    ) -> tuple[str, str | None]:
        """(text, the language it is in when not the page's); for a plain text, such as an
        attribute. The section's note counts it all the same."""
        if isinstance(texts, str):
            return texts, None
        if not texts:
            return default or "", None
        text, fallback = i18n.pick_text(texts)
        self._met(fallback)
        return text, fallback

    def label(self, holding: Any) -> Markup:
        """A holding's label: one call per row, and no picking for a plain label."""
        if not holding.label_texts:
            return Markup.escape(holding.label)
        return self.shown(*i18n.pick_text(holding.label_texts))

    def source(self, holding: Any) -> Markup:
        """A holding's source, or "" when it has none."""
        if not holding.source_texts:
            return Markup.escape(holding.source or "")
        return self.shown(*i18n.pick_text(holding.source_texts))

    def shown(self, text: str, language: str | None) -> Markup:
        if language is None:
            return Markup.escape(text)
        self._met(language)
        return Markup('<span lang="{}">{}</span>').format(language, text)

    def _met(self, language: str | None) -> None:
        if language is not None and language not in self.languages:
            self.languages.append(language)

    def note(self) -> Markup:
        """Once, before the section: which of its words are in another language, and why."""
        if not self.languages:
            return Markup("")
        names = lists.format_list(
            [i18n.language_name(code) for code in self.languages],
            locale=i18n.formatting_locale(),
        )
        if self.organization is None:  # a section with several organizations' words
            note = i18n.gettext(
                "Some of this is in %(language)s: it has not been translated yet.",
                language=names,
            )
        else:
            note = i18n.gettext(
                "Some of this is in %(language)s: %(organization)s has not translated it yet.",
                language=names,
                organization=self.organization,
            )
        return Markup('<p class="fallback">{}</p>').format(note)


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def time_tag(value: datetime) -> Markup:
    """A time of day in the network's time zone, labelled with the zone, machine-readable."""
    utc = value.astimezone(UTC)
    return Markup('<time datetime="{}">{}</time>').format(
        utc.isoformat(timespec="seconds"), i18n.format_time(utc)
    )


def nl2br(value: str) -> Markup:
    escaped = Markup.escape(value)
    return Markup("<br>").join(escaped.split("\n"))
