"""Translations: the committed .pot is up to date, and every locale translates every string."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from app.config import ROOT
from app.i18n import DEFAULT_LOCALE, SUPPORTED_LOCALES

POT = ROOT / "locales" / "messages.pot"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def _extract(target: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "--no-location",
            "--sort-output",
            "--omit-header",
            "-o",
            str(target),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )


def _ids(path: Path) -> set[str]:
    with path.open("rb") as f:
        return {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id}


def test_pot_is_not_stale(tmp_path):
    fresh = tmp_path / "messages.pot"
    _extract(fresh)
    missing = _ids(fresh) - _ids(POT)
    gone = _ids(POT) - _ids(fresh)
    assert not missing and not gone, (
        f"locales/messages.pot is stale: run `make update-catalogs`. "
        f"New: {sorted(missing)[:10]} Removed: {sorted(gone)[:10]}"
    )


@pytest.mark.parametrize("locale", [code for code in SUPPORTED_LOCALES if code != DEFAULT_LOCALE])
def test_every_string_is_translated(locale):
    with POT.open("rb") as f:
        template = read_po(f)
    po_path = ROOT / "locales" / locale / "LC_MESSAGES" / "messages.po"
    assert po_path.exists(), f"no catalogue for {locale}"
    with po_path.open("rb") as f:
        catalog = read_po(f, locale=locale)
    problems = []
    for message in template:
        if not message.id:
            continue
        translated = catalog.get(message.id)
        strings = translated and (
            translated.string if isinstance(translated.string, tuple) else (translated.string,)
        )
        if not translated or not strings or not all(strings) or translated.fuzzy:
            problems.append(f"missing: {message.id!r}")
            continue
        source = message.id if isinstance(message.id, str) else message.id[0]
        for text in strings:
            if set(PLACEHOLDER.findall(source)) != set(PLACEHOLDER.findall(text)):
                problems.append(f"placeholders differ: {source!r} -> {text!r}")
    assert not problems, f"{locale}: {len(problems)} problems, e.g. {problems[:5]}"


def _strings(message) -> tuple[str, ...]:
    return message.string if isinstance(message.string, tuple) else (message.string,)


@pytest.mark.parametrize("locale", ["so", "hmn"])
def test_no_spanish_left_in_catalog(locale):
    """A Somali or Hmong text equal to the Spanish one was copied from es, not translated."""
    with (ROOT / "locales" / "es" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        spanish = read_po(f, locale="es")
    with (ROOT / "locales" / locale / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f, locale=locale)
    copied = []
    for message in catalog:
        if not message.id:
            continue
        theirs = spanish.get(message.id)
        if not theirs:
            continue
        sources = set(message.id) if isinstance(message.id, tuple) else {message.id}
        for text, es_text in zip(_strings(message), _strings(theirs), strict=False):
            if text and text == es_text and text not in sources:
                copied.append(f"{message.id!r} -> {text!r}")
    assert not copied, f"{locale}: {len(copied)} Spanish texts, e.g. {copied[:5]}"
