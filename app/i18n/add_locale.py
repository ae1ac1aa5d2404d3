"""Start a new language: `make add-locale LOCALE=so` (or `python -m app.i18n.add_locale so`).

Creates locales/<code>/LC_MESSAGES/messages.po from the template, marked as not yet reviewed by
a native speaker. The portal offers every language that has a catalogue (see app/i18n), so
the next steps are only: translate the .po, and `make test` (which fails until every string is
translated).
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime

from babel import Locale
from babel.core import UnknownLocaleError
from babel.messages.pofile import read_po, write_po

from app.i18n import LOCALES_DIR


def add_locale(code: str) -> str:
    target = LOCALES_DIR / code / "LC_MESSAGES" / "messages.po"
    if target.exists():
        raise SystemExit(f"{target} exists already")
    with (LOCALES_DIR / "messages.pot").open("rb") as f:
        catalog = read_po(f)
    try:
        catalog.locale = Locale.parse(code)
    except (UnknownLocaleError, ValueError):
        # No CLDR data (e.g. Hmong in RPA script): English plural rules, dates in English.
        catalog.locale = None  # type: ignore[assignment]
        catalog._num_plurals = 2  # type: ignore[assignment]  # noqa: SLF001
        catalog._plural_expr = "(n != 1)"  # type: ignore[assignment]  # noqa: SLF001
    catalog.fuzzy = False
    catalog.project, catalog.version = "Consent Portal", "0.1"
    catalog.msgid_bugs_address = "the Consent Portal issue tracker"
    catalog.last_translator = "draft, not yet reviewed by a native speaker"
    catalog.language_team = f"{code} (not yet reviewed by a native speaker)"
    catalog.revision_date = datetime.now(UTC)
    catalog.header_comment = (
        f"# {code} translations for the Consent Portal.\n"
        "# Status: NOT YET REVIEWED by a native speaker (see locales/README.md)."
    )
    target.parent.mkdir(parents=True)
    with target.open("wb") as f:
        write_po(f, catalog, width=100)
    if catalog.locale is None:  # Babel writes no Language header for a code it doesn't know
        text = target.read_text(encoding="utf-8")
        target.write_text(
            text.replace(
                '"MIME-Version: 1.0\\n"', f'"Language: {code}\\n"\n"MIME-Version: 1.0\\n"', 1
            ),
            encoding="utf-8",
        )
    return str(target)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python -m app.i18n.add_locale <code>")
    print("created", add_locale(sys.argv[1]))
