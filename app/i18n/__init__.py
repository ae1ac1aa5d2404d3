"""Languages: which locale a request is in, and the translated strings for it.

The current locale lives in a context variable set once per request, so templates, form
errors and service messages all speak the participant's language without passing it around.
"""

from __future__ import annotations

import gettext as _gettext
from contextvars import ContextVar
from datetime import date, datetime
from functools import cache, lru_cache

from babel import Locale, dates, numbers
from babel.core import UnknownLocaleError, negotiate_locale
from babel.support import LazyProxy, Translations

from app.config import ROOT

LOCALES_DIR = ROOT / "locales"
DEFAULT_LOCALE = "en"
# Names CLDR doesn't know, as the language calls itself.
_OWN_NAMES = {"hmn": "Hmoob"}


def _discover_locales() -> tuple[str, ...]:
    """English, then every language with a catalogue: adding a language is one .po file."""
    found = sorted(p.parent.parent.name for p in LOCALES_DIR.glob("*/LC_MESSAGES/messages.po"))
    return (DEFAULT_LOCALE, *(code for code in found if code != DEFAULT_LOCALE))


def _own_name(code: str) -> str:
    if code in _OWN_NAMES:
        return _OWN_NAMES[code]
    name = Locale.parse(code).get_display_name(code) or code
    return name[:1].upper() + name[1:]


SUPPORTED_LOCALES: tuple[str, ...] = _discover_locales()
# Each language named in itself, for the picker.
LOCALE_NAMES = {code: _own_name(code) for code in SUPPORTED_LOCALES}
# Babel (CLDR) has no data for Hmong in the Latin (RPA) script that Hmong families in the US
# read, so dates and numbers on Hmong pages follow English conventions.
FORMATTING_LOCALE = {"hmn": "en"}

_current_locale: ContextVar[str] = ContextVar("current_locale", default=DEFAULT_LOCALE)


@cache
def translations_for(locale: str) -> _gettext.NullTranslations:
    if locale == DEFAULT_LOCALE:
        return _gettext.NullTranslations()
    return Translations.load(str(LOCALES_DIR), [locale], domain="messages")


def set_locale(locale: str) -> None:
    _current_locale.set(locale if locale in SUPPORTED_LOCALES else DEFAULT_LOCALE)


def get_locale() -> str:
    return _current_locale.get()


def formatting_locale() -> str:
    """The CLDR locale for dates and numbers in the current language."""
    locale = _current_locale.get()
    return FORMATTING_LOCALE.get(locale, locale)


def gettext(message: str, **variables: object) -> str:
    text = translations_for(get_locale()).gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: object) -> str:
    text = translations_for(get_locale()).ngettext(singular, plural, n)
    return text % {"num": n, **variables}


def lazy_gettext(message: str) -> LazyProxy:
    """For strings defined at import time (labels in tables), translated when shown."""
    return LazyProxy(gettext, message, enable_cache=False)


_ = gettext


def negotiate(accept_language: str | None) -> str:
    if not accept_language:
        return DEFAULT_LOCALE
    preferred = []
    for part in accept_language.split(","):
        tag = part.split(";")[0].strip()
        if tag and tag != "*":
            preferred.append(tag.replace("-", "_"))
    return negotiate_locale(preferred, list(SUPPORTED_LOCALES), sep="_") or DEFAULT_LOCALE


def pick_text(texts: dict[str, str] | None) -> tuple[str, str | None]:
    """A per-locale text in the current language, else English, else any.

    Returns (text, fallback_locale): the second is set when the text is not in the current
    language, so the page can say so."""
    if not texts:
        return "", None
    locale = get_locale()
    if texts.get(locale):
        return texts[locale], None
    for fallback in (DEFAULT_LOCALE, *sorted(texts)):
        if texts.get(fallback):
            return texts[fallback], fallback
    return "", None


def language_name(code: str) -> str:
    try:
        return Locale.parse(code.replace("-", "_")).get_display_name(formatting_locale()) or code
    except (ValueError, TypeError, UnknownLocaleError):
        return LOCALE_NAMES.get(code, code)


def format_date(value: date | datetime | None, format: str = "medium") -> str:
    if value is None:
        return ""
    return _format_date(value, format, formatting_locale())


@lru_cache(maxsize=8192)
def _format_date(value: date | datetime, format: str, locale: str) -> str:
    # A page lists the same few dates many times; Babel's formatting is not cheap.
    return dates.format_date(value, format=format, locale=locale)


def format_datetime(value: datetime | None, format: str = "medium") -> str:
    if value is None:
        return ""
    return dates.format_datetime(value, format=format, locale=formatting_locale())


def format_number(value: int | float) -> str:
    return numbers.format_decimal(value, locale=formatting_locale())
