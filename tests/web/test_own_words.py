"""An organization's own words in the participant's language: a label given per language is
shown in the page's language; what is not translated is marked with its lang, and said once
per section; pages in a draft language say so once; every picker names each language in it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from app import i18n
from app.db import utcnow
from tests.factories import (
    add_purpose,
    corrections,
    disclose,
    hold,
    holding_id,
    request_correction,
    send_form,
    sign_in_staff,
)

LABEL = {"en": "Phone number", "es": "Número de teléfono"}


@pytest.fixture
def maria(client, person, db):
    """Maria (signed in) and Northside's holding of her phone, labelled in en and es."""
    hold(person.org, label=LABEL, source={"en": "Intake form"})
    return holding_id(db, person.org.slug, "A-1")


def correction_page(client, holding: str, lang: str) -> str:
    page = client.get(f"/holdings/{holding}/correction?lang={lang}")
    assert page.status_code == 200, page.text
    return page.text


def test_a_label_given_in_spanish_is_shown_on_a_spanish_page(client, maria):
    page = correction_page(client, maria, "es")
    assert '<p class="label">Número de teléfono</p>' in page
    assert "Phone number" not in page
    assert "Some of this is in" not in page


def test_an_english_page_shows_the_english_label(client, maria):
    page = correction_page(client, maria, "en")
    assert '<p class="label">Phone number</p>' in page


def test_a_label_not_in_the_page_language_is_marked_once_not_inline(client, maria):
    page = correction_page(client, maria, "so")
    assert '<p class="label"><span lang="en">Phone number</span></p>' in page
    assert page.count('class="fallback"') == 1
    assert "Northside Food Shelf weli ma turjumin." in page  # the note, in Somali
    assert "not yet translated; shown in" not in page  # no note on the line itself


def test_a_plain_label_is_shown_as_given_without_a_note(client, person, db):
    hold(person.org)  # "Phone number", one plain string
    page = correction_page(client, holding_id(db, person.org.slug, "A-1"), "es")
    assert '<p class="label">Phone number</p>' in page
    assert 'class="fallback"' not in page


def test_the_printout_says_once_per_section_what_is_in_english(client, person):
    """Three holdings labelled only in English: one note above the holdings, and none on each
    line."""
    for key in ("phone", "email", "address"):
        hold(person.org, field_key=key, label={"en": f"The {key}"})
    page = client.get("/download/print?lang=es").text
    section = page.split("<h3>", 3)[2]  # the holdings of the only organization
    assert section.count('class="fallback"') == 1
    for key in ("phone", "email", "address"):
        assert f'<p class="label"><span lang="en">The {key}</span></p>' in section
    assert "todavía sin traducir" not in page


def test_the_attention_list_keeps_the_mark_of_an_untranslated_purpose(client, person, db):
    add_purpose(person.org, "rent", title={"en": "Help with rent <now>"})
    page = client.get("/?lang=es").text
    assert '<span lang="en">Help with rent &lt;now&gt;</span>' in page
    assert "&lt;span" not in page  # the mark is markup, not text
    attention = page.split('id="attention-title"', 1)[1].split("</section>", 1)[0]
    assert attention.count('class="fallback"') == 1


@pytest.mark.parametrize(
    ("locale", "draft"), [("en", False), ("es", False), ("so", True), ("hmn", True)]
)
def test_a_draft_translation_says_so_once(client, locale, draft):
    page = client.get(f"/login?lang={locale}").text
    assert page.count('class="draft-language"') == (1 if draft else 0)
    assert i18n.is_draft(locale) is draft


def test_the_draft_marker_is_read_from_the_catalogue_header():
    for code in i18n.SUPPORTED_LOCALES[1:]:
        po = (i18n.LOCALES_DIR / code / "LC_MESSAGES" / "messages.po").read_text()
        translator = re.search(r'"Last-Translator: ([^\\]*)', po)
        assert translator is not None
        assert i18n.is_draft(code) == ("draft" in translator.group(1).casefold())


def test_the_language_picker_names_each_language_in_itself(client):
    page = client.get("/login?lang=es").text
    picker = page.split('class="languages"', 1)[1].split("</nav>", 1)[0]
    for code, name in {"en": "English", "es": "Español", "so": "Soomaali", "hmn": "Hmoob"}.items():
        assert f'lang="{code}" hreflang="{code}">{name}</a>' in picker
    assert "inglés" not in picker


def test_the_profile_languages_are_named_in_themselves_first(db, org, client):
    sign_in_staff(db, client, org)
    page = client.get("/staff/org/profile?lang=es").text
    assert '<span lang="so">Soomaali</span> (somalí)' in page
    assert '<span lang="es">Español</span></label>' in page  # no "(español)" after it
    assert '<span lang="en">English</span> (inglés)' in page


def _section(page: str) -> str:
    start = page.index('<section class="organization"')
    return page[start : page.index("</section>", start)]


def test_the_home_page_shows_the_label_in_the_page_language(client, maria):
    section = _section(client.get("/?lang=es").text)
    assert ">Número de teléfono</p>" in section
    assert "<dd>" in section and '<span lang="en">Intake form</span>' in section
    # The source is in English only: said once for the whole section, not on its line.
    assert section.count('class="fallback"') == 1
    assert "Northside Food Shelf todavía no lo ha traducido." in section  # in Spanish
    assert "not yet translated; shown in" not in section


def test_what_was_shared_is_named_in_the_page_language(client, person, maria):
    disclose(person.org, "A-1", {"name": "County Housing"}, ["phone"])
    page = client.get("/?lang=es").text
    shared = page[page.index('<li class="disclosure') :]
    shared = shared[: shared.index("</li>")]
    assert "<dd>Número de teléfono</dd>" in shared
    assert "Phone number" not in shared


def test_my_requests_names_the_holding_in_the_page_language(client, maria):
    request_correction(client, maria)
    spanish = client.get("/requests?lang=es").text
    assert "Número de teléfono</h3>" in spanish and "Phone number" not in spanish
    somali = client.get("/requests?lang=so").text  # no Somali label: English, marked once
    assert '<span lang="en">Phone number</span></h3>' in somali
    assert somali.count('class="fallback"') == 1


def test_a_concern_about_a_late_correction_names_the_holding_in_the_page_language(
    client, maria, db
):
    request_correction(client, maria)
    (correction,) = corrections(db)
    correction.due_by = utcnow() - timedelta(days=2)  # late: a concern may be raised
    db.add(correction)
    db.commit()
    page = client.get(f"/corrections/{correction.id}/concern?lang=es").text
    assert "Número de teléfono" in page and "Phone number" not in page
    raised = send_form(
        client, f"/corrections/{correction.id}/concern", {"what_happened": "No answer yet."}
    )
    assert raised.status_code == 303, raised.text
    # The correction and the concern about it: no Somali label, so English, marked on both.
    listed = client.get("/requests?lang=so").text
    assert listed.count('<span lang="en">Phone number</span></h3>') == 2


def test_the_home_page_says_nothing_when_all_is_translated(client, person):
    hold(person.org, label={"en": "Phone number", "so": "Lambarka taleefanka"})
    add_purpose(person.org, "rent", title={"en": "Rent", "so": "Kirada"})
    section = _section(client.get("/?lang=en").text)
    assert ">Phone number</p>" in section
    assert 'class="fallback"' not in section
