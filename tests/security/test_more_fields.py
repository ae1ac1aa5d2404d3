"""The fields encrypted at rest since e002: holdings' labels and sources (and the label copies
kept by corrections and deletion requests), recipients' names (and a correction's list of the
ones outside the network), notes on paper consents and the first 4 KB of a webhook receiver's
answer. Each is written through the real API or pages, read raw with plain SQL (ciphertext
only), and read back through the API and the participant's pages (the plaintext)."""

from __future__ import annotations

import json
import os

import pytest
from sqlmodel import SQLModel

from app.cli import main as cli
from app.config import get_settings
from app.security.fields import FieldKeys, encrypted_columns, field_keys_in_use
from tests.factories import (
    add_endpoint,
    attempts,
    consent,
    corrections,
    disclose,
    enroll_with_purpose,
    hold,
    holding_body,
    request_correction,
    resolve,
    send_form,
)
from tests.security.test_fields import STORED, raw_dump, raw_values
from tests.webhooks.receiver import Reply

LABEL = "Phone at her sister Rosa Alvarez"
SOURCE = "Call with Rosa Alvarez on 3 October"
RECIPIENT = "Dana Whitfield, landlord"
NOTE = "Signed at the front desk; Rosa Alvarez translated"
ANSWER = "stored 612-555-0100 for Maria Lopez under case 4471"

# (table, column): the plaintext written there by `recorded`.
WRITTEN = {
    ("holding", "label"): LABEL,
    ("holding", "source"): SOURCE,
    ("correction", "label"): LABEL,
    ("correction", "tell_recipients"): RECIPIENT,
    ("deletion_request", "label"): LABEL,
    ("disclosure", "recipient_name"): RECIPIENT,
    ("consent", "note"): NOTE,
}
NEW_COLUMNS = {f"{table}.{column}" for table, column in WRITTEN} | {
    "webhook_attempt.response_excerpt"
}


@pytest.fixture
def recorded(world, db):
    """Northside relabels Maria's phone and says where it came from, shares it with her
    landlord, enters her paper consent with a note, and accepts her correction (so it must
    tell the recipients outside the network); then she asks to delete the phone."""
    hold(world.holder, "N-1", "phone", label=LABEL, source=SOURCE)
    disclose(world.holder, "N-1", {"name": RECIPIENT}, ["phone"])
    response = world.holder.post(
        "/api/v1/participants/N-1/consents",
        {"purpose": "housing", "state": "given", "method": "paper", "note": NOTE},
    )
    assert response.status_code == 201, response.text
    consent_id = response.json()["id"]
    request_correction(world.maria, world.phone, "612-555-0199", "I moved in June.")
    (correction,) = corrections(db)
    assert resolve(world.holder, correction.id, "accepted").status_code == 200
    assert send_form(world.maria, f"/holdings/{world.phone}/deletion", {}).status_code == 303
    return {"consent": consent_id, "correction": correction.id}


def test_the_new_columns_hold_only_ciphertext(world, engine, recorded):
    for (table, column), plaintext in WRITTEN.items():
        stored = raw_values(engine, table, column)
        assert stored, (table, column)
        assert all(STORED.match(value) for value in stored), (table, column, stored)
        assert plaintext not in raw_dump(engine, table), (table, column)
    # The other recipients' names are encrypted too, not only the landlord's.
    assert "Hennepin County" not in raw_dump(engine, "disclosure", "correction")


def test_the_organization_reads_them_through_the_api(world, recorded):
    (holding,) = world.holder.get("/api/v1/participants/N-1/holdings").json()["holdings"]
    assert (holding["label"], holding["source"]) == (LABEL, SOURCE)
    answer = world.holder.get(f"/api/v1/corrections/{recorded['correction']}").json()
    assert answer["label"] == LABEL
    assert answer["tell_recipients"] == [{"name": "Hennepin County"}, {"name": RECIPIENT}]


def test_the_participant_reads_them_on_her_pages_and_in_her_download(world, recorded):
    home = world.maria.get("/").text
    assert LABEL in home and SOURCE in home and RECIPIENT in home
    receipt = world.maria.get(f"/consents/receipts/{recorded['consent']}.json").json()
    assert receipt["note"] == NOTE

    (organization,) = [
        o
        for o in world.maria.get("/download").json()["organizations"]
        if o["organization"]["slug"] == "northside"
    ]
    (holding,) = organization["holdings"]
    assert (holding["label"], holding["source"]) == (LABEL, SOURCE)
    assert RECIPIENT in [d["recipient"]["name"] for d in organization["disclosures"]]
    assert [c["note"] for c in organization["consents"]] == [NOTE]
    (correction,) = organization["corrections"]
    assert correction["label"] == LABEL
    assert correction["tell_recipients"] == ["Hennepin County", RECIPIENT]
    (deletion,) = organization["deletion_requests"]
    assert deletion["label"] == LABEL


def test_the_receivers_answer_is_stored_encrypted_and_shown_to_the_organization(
    org, receiver, make_worker, engine
):
    endpoint = add_endpoint(org, receiver.url("/hook"))
    receiver.always("/hook", Reply(status=200, body=ANSWER.encode()))
    enroll_with_purpose(org)
    consent(org, state="given")
    assert make_worker().run_once_sync() == 1

    (stored,) = raw_values(engine, "webhook_attempt", "response_excerpt")
    assert STORED.match(stored) and "612-555-0100" not in stored
    assert ANSWER not in raw_dump(engine, "webhook_attempt")
    (attempt,) = attempts(engine)
    assert attempt.response_excerpt == ANSWER
    listed = org.get(f"/api/v1/webhook-endpoints/{endpoint['id']}/attempts").json()
    assert [a["response"] for a in listed["attempts"]] == [ANSWER]


def test_a_full_4_kb_answer_fits(org, receiver, make_worker, engine):
    add_endpoint(org, receiver.url("/hook"))
    receiver.always("/hook", Reply(status=500, body="é".encode() * 4000))  # 8000 bytes
    enroll_with_purpose(org)
    consent(org, state="given")
    assert make_worker().run_once_sync() == 1
    (attempt,) = attempts(engine)
    assert attempt.response_excerpt == "é" * 2048  # the first 4096 bytes
    (stored,) = raw_values(engine, "webhook_attempt", "response_excerpt")
    assert STORED.match(stored)


def test_holdings_are_still_listed_by_category_then_label(world, engine):
    # Sorted after decryption: the order of the ciphertext is random.
    for key, label in [("cell", "Cell phone"), ("work", "Work phone"), ("alt", "Alt phone")]:
        hold(world.holder, "N-1", key, label=label, value=f"612-555-01{len(label)}")
    hold(world.holder, "N-1", "income", label="A monthly income", category="household")
    # "Phone number": the world's own holding (tests/conftest.py holding_body).
    expected = ["Alt phone", "Cell phone", "Phone number", "Work phone", "A monthly income"]
    listed = world.holder.get("/api/v1/participants/N-1/holdings").json()["holdings"]
    assert [h["label"] for h in listed] == expected
    home = world.maria.get("/").text
    positions = [home.index(f">{label}<") for label in expected]
    assert positions == sorted(positions)
    northside = world.maria.get("/download").json()["organizations"]
    (organization,) = [o for o in northside if o["organization"]["slug"] == "northside"]
    assert [h["label"] for h in organization["holdings"]] == expected


def test_too_long_plaintext_is_still_a_422(world):
    too_long = "x" * 201
    for body in ({"label": too_long}, {"source": too_long}):
        response = world.holder.put(
            "/api/v1/participants/N-1/holdings/phone",
            {**holding_body(), **body},
        )
        assert response.status_code == 422, response.text
    response = world.holder.post(
        "/api/v1/participants/N-1/disclosures",
        {"recipient": {"name": too_long}, "purpose": "housing", "field_keys": ["phone"]},
    )
    assert response.status_code == 422
    response = world.holder.post(
        "/api/v1/participants/N-1/consents",
        {"purpose": "housing", "state": "given", "method": "paper", "note": "x" * 2001},
    )
    assert response.status_code == 422


# --- keys reencrypt ------------------------------------------------------------------------


def test_keys_reencrypt_knows_the_new_columns():
    names = {associated for _t, _c, associated in encrypted_columns(SQLModel.metadata)}
    assert NEW_COLUMNS <= names


def test_keys_reencrypt_moves_the_new_columns_to_the_new_key(world, engine, recorded, capsys):
    new_key = ("k2", os.urandom(32))
    with field_keys_in_use(FieldKeys([new_key, *get_settings().field_keys])):
        capsys.readouterr()
        assert cli(["keys", "reencrypt", "--batch-size", "1"]) == 0
        output = capsys.readouterr().out
        for table, column in WRITTEN:
            rows = 3 if table == "disclosure" else 1  # the world's two, and the landlord
            assert f"{table}.{column}: {rows} re-encrypted, 0 already under 'k2'" in output
        assert json.loads(output.strip().splitlines()[-1])["changed_meanwhile"] == 0
    for table, column in WRITTEN:
        stored = raw_values(engine, table, column)
        assert stored and all(STORED.match(v)["kid"] == "k2" for v in stored), (table, column)

    # Only the new key now: everything still reads.
    with field_keys_in_use(FieldKeys([new_key])):
        home = world.maria.get("/").text
        assert LABEL in home and SOURCE in home and RECIPIENT in home
        answer = world.holder.get(f"/api/v1/corrections/{recorded['correction']}").json()
        assert answer["label"] == LABEL and {"name": RECIPIENT} in answer["tell_recipients"]
        receipt = world.maria.get(f"/consents/receipts/{recorded['consent']}.json").json()
        assert receipt["note"] == NOTE
