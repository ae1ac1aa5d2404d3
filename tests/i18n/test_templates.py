"""Every visible string in a template goes through `_()` (or {% trans %}), so every language
gets it: text between tags and the text attributes screen readers and browsers show."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from app.config import ROOT

TEMPLATES = ROOT / "templates"
JINJA = re.compile(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}", re.S)
TEXT_ATTRIBUTES = {"aria-label", "title", "alt", "placeholder", "aria-description"}
# A macro may hold a run of attributes on its own (outside any tag): not text.
ATTRIBUTES_ONLY = re.compile(r'(\s*[\w:-]+="[^"]*")+\s*')
WORD = re.compile(r"[A-Za-z]{2,}")
# Pages for organizations' developers only, in English like the API they describe.
ENGLISH_ONLY = {"api_docs.html"}


class _UntranslatedText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in_code = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._in_code += 1
        for name, value in attrs:
            if name in TEXT_ATTRIBUTES and value and WORD.search(value):
                self.found.append(f'{name}="{value}"')

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._in_code -= 1

    def handle_data(self, data: str) -> None:
        if self._in_code or ATTRIBUTES_ONLY.fullmatch(data):
            return
        if WORD.search(data):
            self.found.append(data.strip())


def untranslated(template_source: str) -> list[str]:
    """Literal text left once every Jinja tag, expression and comment is taken out."""
    parser = _UntranslatedText()
    parser.feed(JINJA.sub(" ", template_source))
    return parser.found


def test_the_check_finds_literal_text():
    assert untranslated("<p>{{ _('Fine') }}</p><p>Not translated</p>") == ["Not translated"]
    assert untranslated('<a aria-label="Close">{{ _("x") }}</a>') == ['aria-label="Close"']
    assert untranslated("<p title=\"{{ _('ok') }}\">{% if a %}{{ b }}{% endif %}</p>") == []


def test_no_template_has_text_outside_translation():
    problems = {
        str(path.relative_to(TEMPLATES)): found
        for path in sorted(TEMPLATES.rglob("*.html"))
        if path.name not in ENGLISH_ONLY
        and (found := untranslated(path.read_text(encoding="utf-8")))
    }
    assert not problems, f"text outside _() in templates: {problems}"
