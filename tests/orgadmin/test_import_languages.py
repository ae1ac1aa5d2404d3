"""A spreadsheet may give a holding's label and source in the portal's other languages too
(label_es, source_so…): they are saved per language, as the API takes them."""

from __future__ import annotations

from tests.orgadmin.test_import import admin, check, run_import, summary  # noqa: F401

FILE = (
    "external_ref,field_key,label,label_es,label_so,category,value,purpose,source,source_hmn\n"
    "A-1,phone,Phone number,Teléfono,,contact,612-555-0100,housing,Intake,Daim ntawv\n"
    "A-1,household,People at home,,,household,4,housing,,\n"
)


def test_labels_per_language_are_imported_per_language(org, admin, client):  # noqa: F811
    done = run_import(client, check(client, FILE).text)
    assert done.status_code == 200
    held = {
        h["field_key"]: h for h in org.get("/api/v1/participants/A-1/holdings").json()["holdings"]
    }
    assert held["phone"]["label"] == {"en": "Phone number", "es": "Teléfono"}
    assert held["phone"]["source"] == {"en": "Intake", "hmn": "Daim ntawv"}
    assert held["household"]["label"] == "People at home"  # a plain string, as before
    again = check(client, FILE)
    assert summary(again.text) == {"new": 0, "created": 0, "changed": 0, "unchanged": 2}


def test_a_too_long_label_in_one_language_is_named_by_its_column(org, admin, client):  # noqa: F811
    content = FILE.replace("Teléfono", "x" * 201)
    page = check(client, content).text
    assert "label_es" in page
    assert 'name="checked"' not in page
