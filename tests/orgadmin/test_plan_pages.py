"""The plan editor and the review over HTTP: what an org admin saves in the browser is what
the API reads, refused for the same reasons, with GOV.UK error pages."""

from __future__ import annotations

import re

from tests.factories import form_fields, purpose_body, send_form, sign_in_staff

EDITOR = "/staff/org/plan/housing"


def _api_purpose(org, key="housing"):
    purposes = org.get("/api/v1/purposes").json()["purposes"]
    return next(p for p in purposes if p["key"] == key)


def _without_bookkeeping(purpose):
    return {k: v for k, v in purpose.items() if k not in ("key", "version", "updated_at")}


def test_editing_in_the_browser_is_what_the_api_reads(db, org, client):
    assert org.put("/api/v1/purposes/housing", purpose_body()).status_code == 201
    before = _api_purpose(org)
    sign_in_staff(db, client, org)

    page = client.get(EDITOR)
    assert page.status_code == 200
    fields = form_fields(page.text, EDITOR)
    # The editor shows the plan as the API has it.
    assert fields["title-es"] == before["title"]["es"]
    assert fields["retention_days"] == "365"
    assert fields["categories"] == ["contact", "household"]
    assert fields["recipient-0-reason"] == "housing referrals"

    fields["title-es"] = "Compartir con el condado para buscar vivienda"
    fields["retention_days"] = "730"
    fields["categories"] = ["contact", "household", "goals"]
    fields["recipient-1-name"] = "Northside Clinic"
    fields["recipient-1-reason"] = "health follow-up"
    fields.pop("csrf_token")
    r = send_form(client, EDITOR, fields)
    assert r.status_code == 303
    assert r.headers["location"] == "/staff/org/plan?saved=housing"

    after = _api_purpose(org)
    assert after["title"] == {
        **before["title"],
        "es": "Compartir con el condado para buscar vivienda",
    }
    assert after["retention_days"] == 730
    assert after["categories"] == ["contact", "household", "goals"]
    assert after["recipients"] == [
        {"name": "Hennepin County", "organization": None, "reason": "housing referrals"},
        {"name": "Northside Clinic", "organization": None, "reason": "health follow-up"},
    ]
    assert after["description"] == before["description"]  # untouched fields are kept
    assert after["refusal_consequence"] == before["refusal_consequence"]
    assert after["version"] == before["version"] + 1  # the notice changed
    assert "Purpose housing saved." in client.get(r.headers["location"]).text


def test_a_purpose_added_in_the_browser_equals_the_same_purpose_put_through_the_api(
    db, org, client
):
    body = purpose_body(
        legal_recipients={"en": "A court, with an order."},
        sensitive=True,
        consent_valid_days=180,
    )
    assert org.put("/api/v1/purposes/by-api", body).status_code == 201
    sign_in_staff(db, client, org)
    r = send_form(
        client,
        "/staff/org/new-purpose",
        {
            "key": "by-browser",
            "title-en": body["title"]["en"],
            "title-es": body["title"]["es"],
            "description-en": body["description"]["en"],
            "description-es": body["description"]["es"],
            "basis": "consent",
            "categories": ["contact", "household"],
            "recipient-0-name": "Hennepin County",
            "recipient-0-reason": "housing referrals",
            "retention_days": "365",
            "refusal_consequence-en": body["refusal_consequence"]["en"],
            "refusal_consequence-es": body["refusal_consequence"]["es"],
            "legal_recipients-en": "A court, with an order.",
            "sensitive": "yes",
            "consent_valid_days": "180",
        },
    )
    assert r.status_code == 303, r.text
    assert _without_bookkeeping(_api_purpose(org, "by-browser")) == _without_bookkeeping(
        _api_purpose(org, "by-api")
    )


def test_errors_keep_the_answers_and_link_to_each_field(db, org, make_org, client):
    assert org.put("/api/v1/purposes/housing", purpose_body()).status_code == 201
    sign_in_staff(db, client, org)
    fields = form_fields(client.get(EDITOR).text, EDITOR)
    fields.pop("csrf_token")
    fields.update(
        {
            "title-en": "",
            "title-es": "",
            "retention_days": "a year",
            "recipient-1-name": "",
            "recipient-1-organization": "no-such-org",
            "recipient-1-reason": "referrals",
            "description-en": "Kept when the page comes back",
        }
    )
    r = send_form(client, EDITOR, fields)
    assert r.status_code == 400
    assert re.search(r"<title>Error: ", r.text)
    summary = r.text.split('id="error-summary"')[1].split("</div>")[0]
    assert 'href="#title-en"' in summary
    assert 'href="#retention_days"' in summary
    assert 'href="#recipient-1-name"' in summary
    assert 'id="title-en"' in r.text and 'aria-invalid="true"' in r.text
    kept = form_fields(r.text, EDITOR)
    assert kept["retention_days"] == "a year"
    assert kept["description-en"] == "Kept when the page comes back"
    assert kept["recipient-1-organization"] == "no-such-org"
    # Nothing was saved.
    assert _api_purpose(org)["retention_days"] == 365

    # A recipient organization outside the network is refused, as by the API.
    fields.update({"title-en": "Housing help", "retention_days": "365", "recipient-1-name": "X"})
    r = send_form(client, EDITOR, fields)
    assert r.status_code == 400
    assert "There is no network organization with this slug." in r.text
    assert 'href="#recipient-1-organization"' in r.text
    make_org("no-such-org", "Now it exists")
    r = send_form(client, EDITOR, fields)
    assert r.status_code == 303
    assert _api_purpose(org)["recipients"][1] == {
        "name": "X",
        "organization": "no-such-org",
        "reason": "referrals",
    }


def test_new_purpose_needs_a_fresh_valid_key(db, org, client):
    assert org.put("/api/v1/purposes/housing", purpose_body()).status_code == 201
    sign_in_staff(db, client, org)
    base = {"title-en": "Food help for the family", "basis": "service"}
    r = send_form(client, "/staff/org/new-purpose", {**base, "key": "Not A Key"})
    assert r.status_code == 400 and 'href="#key"' in r.text
    r = send_form(client, "/staff/org/new-purpose", {**base, "key": "housing"})
    assert r.status_code == 400 and "exists already" in r.text
    r = send_form(client, "/staff/org/new-purpose", {**base, "key": "food"})
    assert r.status_code == 303
    assert _api_purpose(org, "food")["basis"] == "service"


def test_review_page_flags_and_links_to_the_field(db, org, client):
    weak = purpose_body(retention_days=None, refusal_consequence={})
    assert org.put("/api/v1/purposes/housing", weak).status_code == 201
    assert org.put("/api/v1/purposes/food", purpose_body("service")).status_code == 201
    sign_in_staff(db, client, org)

    page = client.get("/staff/org/review")
    assert page.status_code == 200
    housing = page.text.split('id="review-housing"')[1].split("</section>")[0]
    assert 'href="/staff/org/plan/housing#retention_days"' in housing
    assert 'href="/staff/org/plan/housing#refusal_consequence-en"' in housing
    food = page.text.split('id="review-food"')[1].split("</section>")[0]
    assert "Nothing flagged." in food

    # The anchors exist on the editor page, and the editor repeats the purpose's flags.
    editor = client.get(EDITOR).text
    assert 'id="retention_days"' in editor and 'id="refusal_consequence-en"' in editor
    assert 'href="#retention_days"' in editor

    # Fixing it in the editor clears the flag.
    fields = form_fields(editor, EDITOR)
    fields.pop("csrf_token")
    fields.update({"retention_days": "365", "refusal_consequence-en": "You still get food."})
    assert send_form(client, EDITOR, fields).status_code == 303
    housing = client.get("/staff/org/review").text.split('id="review-housing"')[1]
    assert "Nothing flagged." in housing.split("</section>")[0]


def test_a_language_the_participants_read_is_flagged_until_written(db, org, client):
    english_only = purpose_body(
        title={"en": "Share with the county for housing help"},
        description={"en": "So the county can find you housing."},
        refusal_consequence={"en": "You still get food from us."},
    )
    assert org.put("/api/v1/purposes/housing", english_only).status_code == 201
    r = org.post("/api/v1/participants", {"external_ref": "A-1", "preferred_language": "es"})
    assert r.status_code == 201
    sign_in_staff(db, client, org)

    review = client.get("/staff/org/review").text
    assert 'href="/staff/org/plan/housing#title-es"' in review
    assert "Spanish" in review

    fields = form_fields(client.get(EDITOR).text, EDITOR)
    fields.pop("csrf_token")
    fields.update(
        {
            "title-es": "Compartir con el condado",
            "description-es": "Para que el condado le busque vivienda.",
            "refusal_consequence-es": "Igual recibe comida.",
        }
    )
    assert send_form(client, EDITOR, fields).status_code == 303
    assert org.get("/api/v1/purposes").json()["purposes"][0]["title"]["es"] == (
        "Compartir con el condado"
    )
    assert "#title-es" not in client.get("/staff/org/review").text


def test_a_text_in_a_language_the_portal_does_not_offer_stays_editable(db, org, client):
    body = purpose_body(title={"en": "Share with the county", "so": "La wadaag degmada"})
    assert org.put("/api/v1/purposes/housing", body).status_code == 201
    sign_in_staff(db, client, org)
    editor = client.get(EDITOR).text
    assert 'id="title-so"' in editor and 'lang="so"' in editor
    fields = form_fields(editor, EDITOR)
    fields.pop("csrf_token")
    fields["title-en"] = "Share with the county for housing help"
    assert send_form(client, EDITOR, fields).status_code == 303
    assert org.get("/api/v1/purposes").json()["purposes"][0]["title"] == {
        "en": "Share with the county for housing help",
        "so": "La wadaag degmada",
    }
