"""Languages: which locale a request is in, and the translated strings for it.

The current locale lives in a context variable set once per request, so templates, form
errors and service messages all speak the participant's language without passing it around.

Catalogues are compiled from their .po files as the process starts, in memory: there is no
separate compile step to forget, nothing to write, and no .mo file to go stale, however the
portal was installed. A language the portal offers (a folder in locales/) without a catalogue
it can serve stops the start (`check_catalogues`, called by `create_app`), naming it, rather
than showing that language in English.
"""

from __future__ import annotations

import gettext as _gettext
import io
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, date, datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

from babel import Locale, dates, numbers
from babel.core import UnknownLocaleError, negotiate_locale
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import PoFileError, read_po
from babel.support import LazyProxy, Translations

from app.config import ConfigError
from app.paths import LOCALES_DIR

DEFAULT_LOCALE = "en"
T = TypeVar("T")
DOMAIN = "messages"
# Names CLDR doesn't know, as the language calls itself.
_OWN_NAMES = {"hmn": "Hmoob"}


class MissingCatalogue(ConfigError):
    """A language the portal offers has no catalogue it can serve."""


def discover_locales(locales_dir: Path = LOCALES_DIR) -> tuple[str, ...]:
    """English, then every language with a folder in locales/: adding a language is one .po
    file (`make add-locale`)."""
    found = sorted(p.parent.name for p in locales_dir.glob("*/LC_MESSAGES") if p.is_dir())
    return (DEFAULT_LOCALE, *(code for code in found if code != DEFAULT_LOCALE))


def _strings(string: str | tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    if string is None:
        return ()
    return (string,) if isinstance(string, str) else tuple(string)


def compile_catalogue(locales_dir: Path, locale: str) -> Translations:
    """One language's translations, compiled from its .po in memory (what `pybabel compile`
    would write, byte for byte; fuzzy entries are left out)."""
    po = locales_dir / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    try:
        with po.open("rb") as f:
            catalog = read_po(f, locale=locale, domain=DOMAIN)
    except FileNotFoundError:
        raise MissingCatalogue(
            f"the portal offers the language {locale!r} but has no catalogue for it: {po} is "
            f"missing (add it, e.g. `make add-locale LOCALE={locale}`, or remove "
            f"{po.parent.parent} to stop offering {locale!r})"
        ) from None
    except (OSError, PoFileError, ValueError, UnicodeDecodeError) as exc:
        raise MissingCatalogue(
            f"the catalogue for {locale!r} ({po}) can't be read: {exc}"
        ) from None
    if not any(m.id and any(_strings(m.string)) and not m.fuzzy for m in catalog):
        raise MissingCatalogue(
            f"the catalogue for {locale!r} ({po}) translates nothing: every page offered in "
            f"{locale!r} would be English"
        )
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    translations = Translations(compiled, domain=DOMAIN)
    translations.draft = is_draft_catalogue(catalog)  # type: ignore[attr-defined]
    return translations


def is_draft_catalogue(catalog: Catalog) -> bool:
    """A catalogue still a draft: marked fuzzy as a whole, or its translator or team says
    "draft" (what `make add-locale` writes; a reviewer changes it, see locales/README.md)."""
    said = f"{catalog.last_translator or ''} {catalog.language_team or ''}".casefold()
    return bool(catalog.fuzzy) or "draft" in said


def is_draft(locale: str) -> bool:
    """Pages in this language say once that its translation is a draft."""
    return bool(getattr(translations_for(locale), "draft", False))


def load_catalogues(locales_dir: Path = LOCALES_DIR) -> dict[str, _gettext.NullTranslations]:
    """The translations of every language offered, or MissingCatalogue naming what's missing."""
    if not (locales_dir / f"{DOMAIN}.pot").is_file():
        # The template ships with the catalogues: without it, locales/ was not installed.
        raise MissingCatalogue(
            f"the portal's translations are not installed: {locales_dir / f'{DOMAIN}.pot'} "
            "is missing, so no language but English could be served (an install that left "
            "out locales/?)"
        )
    return {
        code: _gettext.NullTranslations()
        if code == DEFAULT_LOCALE
        else compile_catalogue(locales_dir, code)
        for code in discover_locales(locales_dir)
    }


def _own_name(code: str) -> str:
    if code in _OWN_NAMES:
        return _OWN_NAMES[code]
    name = Locale.parse(code).get_display_name(code) or code
    return name[:1].upper() + name[1:]


SUPPORTED_LOCALES: tuple[str, ...] = discover_locales()
# Each language named in itself, for the picker.
LOCALE_NAMES = {code: _own_name(code) for code in SUPPORTED_LOCALES}
# Babel (CLDR) has no data for Hmong in the Latin (RPA) script that Hmong families in the US
# read, so dates and numbers on Hmong pages follow English conventions.
FORMATTING_LOCALE = {"hmn": "en"}

_current_locale: ContextVar[str] = ContextVar("current_locale", default=DEFAULT_LOCALE)


@cache
def _catalogues() -> dict[str, _gettext.NullTranslations]:
    return load_catalogues(LOCALES_DIR)


def check_catalogues() -> None:
    """At start-up: compile every offered language's catalogue, or refuse to start."""
    _catalogues()


@cache
def translations_for(locale: str) -> _gettext.NullTranslations:
    catalogues = _catalogues()
    return catalogues.get(locale, catalogues[DEFAULT_LOCALE])


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


def known_language(code: str) -> bool:
    """A language code CLDR (or the portal) can name, such as "es", "so", "hmn" or "pt-BR"."""
    if code in _OWN_NAMES or code in SUPPORTED_LOCALES:
        return True
    try:
        Locale.parse(code.replace("-", "_"))
    except (ValueError, TypeError, UnknownLocaleError):
        return False
    return True


def own_language_name(code: str) -> str:
    """The language as it calls itself ("español"), for a reader who reads it better."""
    if code in LOCALE_NAMES:
        return LOCALE_NAMES[code]
    try:
        return _own_name(code.replace("-", "_"))
    except (ValueError, TypeError, UnknownLocaleError):
        return code


def language_name(code: str) -> str:
    try:
        return Locale.parse(code.replace("-", "_")).get_display_name(formatting_locale()) or code
    except (ValueError, TypeError, UnknownLocaleError):
        return LOCALE_NAMES.get(code, code)


# The network's time zone (PORTAL_TIME_ZONE): every date and time a person reads is in it,
# and every time says which zone it is. One per process, set as the app starts.
_time_zone: ZoneInfo = ZoneInfo("America/Chicago")


def set_time_zone(name: str) -> None:
    global _time_zone
    _time_zone = ZoneInfo(name)


def local(value: datetime) -> datetime:
    """A stored time (UTC; a naive one is UTC too) in the network's time zone."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(_time_zone)


@lru_cache(maxsize=64)
def _zone_name(zone: ZoneInfo, locale: str) -> str:
    """The zone's name in a language ("Central Time", "hora central")."""
    return dates.get_timezone_name(zone, width="long", zone_variant="generic", locale=locale)


def format_date(value: date | datetime | None, format: str = "medium") -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        # The day it is where the network is, not in UTC (and a date, because equal
        # datetimes in two zones are one key to the cache below).
        value = local(value).date()
    return _format_date(value, format, formatting_locale())


@lru_cache(maxsize=8192)
def _format_date(value: date | datetime, format: str, locale: str) -> str:
    # A page lists the same few dates many times; Babel's formatting is not cheap.
    return dates.format_date(value, format=format, locale=locale)


def format_datetime(value: datetime | None, format: str = "medium") -> str:
    """A date and time in the network's time zone, with the zone's name."""
    if value is None:
        return ""
    locale = formatting_locale()
    text = dates.format_datetime(local(value), format=format, locale=locale)
    return f"{text} ({_zone_name(_time_zone, locale)})"


def format_time(value: datetime) -> str:
    """A time of day in the network's time zone, with the zone's name."""
    locale = formatting_locale()
    text = dates.format_time(local(value), format="short", locale=locale)
    return f"{text} ({_zone_name(_time_zone, locale)})"


def format_number(value: int | float) -> str:
    return numbers.format_decimal(value, locale=formatting_locale())


class Translator:
    """Strings, dates and labels in one given language, whatever the page's: during an
    assisted intake the case manager's menus stay in their own language (`_`) while the
    client's screens (the notices, the claim card) are in the client's (`client_`)."""

    def __init__(self, locale: str | None) -> None:
        self.locale = locale if locale in SUPPORTED_LOCALES else DEFAULT_LOCALE

    def gettext(self, message: str, **variables: object) -> str:
        text = translations_for(self.locale).gettext(message)
        return text % variables if variables else text

    def ngettext(self, singular: str, plural: str, n: int, **variables: object) -> str:
        text = translations_for(self.locale).ngettext(singular, plural, n)
        return text % {"num": n, **variables}

    def wrap(self, function: Callable[..., T]) -> Callable[..., T]:
        """`function` (a label, a date format…) called in this language."""

        def in_locale(*args: object, **kwargs: object) -> T:
            token = _current_locale.set(self.locale)
            try:
                return function(*args, **kwargs)
            finally:
                _current_locale.reset(token)

        return in_locale
