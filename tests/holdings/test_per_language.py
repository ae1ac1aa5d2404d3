"""A holding's label and source per language: given as {"en": ..., "es": ...} over the API,
kept encrypted, returned as given; a plain string works as before."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlmodel import select

from app.holdings.models import Holding
from tests.factories import add_purpose, enrollment, holding_body

PHONE = "/api/v1/participants/A-1/holdings/phone"
ALL = "/api/v1/participants/A-1/holdings"
LABEL = {"en": "Phone number", "es": "Número de teléfono"}
SOURCE = {"en": "Intake form", "so": "Foomka diiwaangelinta"}


@pytest.fixture
def ready(org):
    add_purpose(org, "housing")
    return enrollment(org)


def _stored(db) -> Holding:
    db.expire_all()
    holding = db.exec(select(Holding).where(Holding.field_key == "phone")).one()
    return holding


def test_a_plain_string_is_returned_and_kept_as_before(org, ready, db):
    r = org.put(PHONE, holding_body())
    assert r.status_code == 201, r.text
    assert r.json()["label"] == "Phone number"
    assert r.json()["source"] == "Intake form"
    held = _stored(db)
    assert (held.label, held.label_texts, held.source_texts) == ("Phone number", None, None)


def test_per_language_label_and_source_come_back_as_given(org, ready, db):
    r = org.put(PHONE, holding_body(label=LABEL, source=SOURCE))
    assert r.status_code == 201, r.text
    assert r.json()["label"] == LABEL
    assert r.json()["source"] == SOURCE
    (listed,) = org.get(ALL).json()["holdings"]
    assert (listed["label"], listed["source"]) == (LABEL, SOURCE)
    held = _stored(db)
    # The default text stays in `label` / `source` for whatever reads one text.
    assert (held.label, held.source) == ("Phone number", "Intake form")
    assert (held.label_texts, held.source_texts) == (LABEL, SOURCE)


def test_the_texts_per_language_are_encrypted_at_rest(org, ready, db):
    org.put(PHONE, holding_body(label=LABEL))
    raw = db.execute(text("SELECT label_texts FROM holding")).scalar_one()
    assert raw.startswith("enc1:")
    assert "teléfono" not in raw


def test_without_english_the_default_is_the_first_language_given(org, ready, db):
    r = org.put(PHONE, holding_body(label={"so": "Lambarka", "es": "Teléfono"}))
    assert r.status_code == 201, r.text
    assert _stored(db).label == "Teléfono"  # es comes before so in the portal's languages


def test_a_string_again_replaces_the_texts_per_language(org, ready, db):
    org.put(PHONE, holding_body(label=LABEL))
    r = org.put(PHONE, holding_body(label="Phone"))
    assert r.status_code == 200
    assert r.json()["label"] == "Phone"
    assert _stored(db).label_texts is None


def test_the_bulk_replace_takes_texts_per_language(org, ready, db):
    r = org.put(ALL, {"holdings": [{"field_key": "phone", **holding_body(label=LABEL)}]})
    assert r.status_code == 200, r.text
    assert org.get(ALL).json()["holdings"][0]["label"] == LABEL


@pytest.mark.parametrize(
    ("label", "words"),
    [
        ({"en": "Phone", "xx": "Fone"}, "unknown language code 'xx'"),
        ({"en": "Phone", "fr": "Téléphone"}, "unknown language code 'fr'"),
        ({}, "at least 1 item"),
        ({"en": "   "}, "at least 1 character"),
        ({"en": "x" * 201}, "at most 200 characters"),
        ({"en": "Phone\x00"}, "control characters"),
    ],
)
def test_bad_texts_per_language_are_refused_clearly(org, ready, label, words):
    r = org.put(PHONE, holding_body(label=label))
    assert r.status_code == 422, r.text
    assert words in r.text
    assert org.get(ALL).json() == {"holdings": []}


def test_an_unknown_language_code_in_the_source_is_refused(org, ready):
    r = org.put(PHONE, holding_body(source={"en": "Intake", "de": "Aufnahme"}))
    assert r.status_code == 422
    assert "unknown language code 'de'" in r.text
    assert "en, es" in r.text  # names the codes that work


def test_no_source_is_still_no_source(org, ready):
    r = org.put(PHONE, holding_body(source=None))
    assert r.status_code == 201, r.text
    assert r.json()["source"] is None
