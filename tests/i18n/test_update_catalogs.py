"""`make update-catalogs` keeps what the team wrote in each catalogue's header."""

from __future__ import annotations

import shutil
from pathlib import Path

from app.i18n import LOCALES_DIR
from app.i18n.update_catalogs import header_of, update_catalogs


def test_updating_keeps_every_header_word_for_word(tmp_path: Path) -> None:
    locales = tmp_path / "locales"
    shutil.copytree(LOCALES_DIR, locales)
    # A string the template gained since the catalogues were last updated.
    pot = locales / "messages.pot"
    pot.write_text(
        pot.read_text(encoding="utf-8") + '\nmsgid "A sentence added today"\nmsgstr ""\n',
        encoding="utf-8",
    )
    before = {
        po.parent.parent.name: header_of(po.read_text(encoding="utf-8"))
        for po in locales.glob("*/LC_MESSAGES/messages.po")
    }
    assert {"es", "so", "hmn"} <= before.keys()

    update_catalogs(locales)

    for code, header in before.items():
        text = (locales / code / "LC_MESSAGES" / "messages.po").read_text(encoding="utf-8")
        assert header and text.startswith(header), code
        assert 'msgid "A sentence added today"' in text, code
    hmn = (locales / "hmn" / "LC_MESSAGES" / "messages.po").read_text(encoding="utf-8")
    assert "Plural-Forms: nplurals=2; plural=(n != 1);" in header_of(hmn)
