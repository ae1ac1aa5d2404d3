"""Bring every language's catalogue up to date with the template: `make update-catalogs`.

`pybabel update` rewrites each .po's header from what Babel knows of the language, which loses
what the team wrote there (who translated it, whether a native speaker reviewed it) and, for a
language without CLDR data such as Hmong, its plural rule. So the catalogues are updated
without a header and each keeps the header it had, word for word.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.frontend import CommandLineInterface

from app.i18n import LOCALES_DIR


def header_of(po_text: str) -> str:
    """The leading comments and the metadata entry (`msgid ""`), up to the first blank line."""
    head, _, _ = po_text.partition("\n\n")
    return head + "\n\n" if 'msgid ""' in head else ""


def update_catalogs(locales_dir: Path = LOCALES_DIR) -> list[Path]:
    catalogs = sorted(locales_dir.glob("*/LC_MESSAGES/messages.po"))
    headers = {po: header_of(po.read_text(encoding="utf-8")) for po in catalogs}
    CommandLineInterface().run(
        [
            *("pybabel", "update", "-i", str(locales_dir / "messages.pot")),
            *("-d", str(locales_dir), "-D", "messages", "--no-fuzzy-matching", "--omit-header"),
        ]
    )
    for po, header in headers.items():
        text = po.read_text(encoding="utf-8")
        if header and not text.startswith(header):
            po.write_text(header + text.lstrip("\n"), encoding="utf-8")
    return catalogs


if __name__ == "__main__":
    for po in update_catalogs():
        print(f"updated {po}")
