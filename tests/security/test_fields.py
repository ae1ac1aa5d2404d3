"""Field encryption at rest: the database holds ciphertext, the participant and the
organization still see their values, keys rotate, and a wrong key or an altered value is
refused rather than read as garbage. Raw rows are read with plain SQL, past the models."""

from __future__ import annotations

import base64
import json
import os
import re

import pytest
from sqlalchemy import text
from sqlmodel import SQLModel, select

from app.cli import main as cli
from app.config import get_settings
from app.corrections.models import Correction
from app.holdings.models import Holding
from app.security.fields import (
    FieldKeys,
    TamperedField,
    UnknownFieldKey,
    encrypted_columns,
    field_keys_in_use,
)
from tests.factories import corrections, request_correction, resolve, send_form

PHONE = "612-555-0100"  # the world's holding, pushed through the organization API
STORED = re.compile(r"^enc1:(?P<kid>[A-Za-z0-9_-]+):(?P<b64>[A-Za-z0-9_=-]+)$")


def raw_values(engine, table: str, column: str) -> list[str]:
    with engine.connect() as conn:
        rows = conn.execute(text(f'SELECT "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL'))
        return [row[0] for row in rows]


def raw_dump(engine, *tables: str) -> str:
    """Every value of the tables as stored, as one string."""
    with engine.connect() as conn:
        return "\n".join(
            " ".join(str(v) for v in row)
            for table in tables
            for row in conn.execute(text(f'SELECT * FROM "{table}"'))
        )


def every_encrypted_value(engine) -> list[str]:
    return [
        value
        for table, column, _ad in encrypted_columns(SQLModel.metadata)
        for value in raw_values(engine, table.name, column)
    ]


def set_raw(engine, table: str, column: str, value: str, row_id: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(f'UPDATE "{table}" SET "{column}" = :value WHERE id = :id'),
            {"value": value, "id": row_id},
        )


def development_keys() -> FieldKeys:
    return FieldKeys(get_settings().field_keys)


@pytest.fixture
def own_words(world, db):
    """Maria asks for a correction, it is denied, she adds a statement and a note of her own."""
    request_correction(world.maria, world.phone, "612-555-0199", "I moved in June.")
    (correction,) = corrections(db)
    resolve(world.holder, correction.id, "denied", reason="We called the old number.")
    send_form(
        world.maria,
        f"/corrections/{correction.id}/statement",
        {"statement": "That number was cut off."},
    )
    send_form(world.maria, "/context/new", {"kind": "goal", "text": "Finish my GED."})
    return correction


# --- what the database holds --------------------------------------------------------------


def test_a_holding_from_the_organization_api_is_stored_encrypted(world, engine):
    (stored,) = raw_values(engine, "holding", "value")
    assert STORED.match(stored) and STORED.match(stored)["kid"] == "dev"
    assert PHONE not in raw_dump(engine, "holding")
    # Through the model, the participant's page and the API: the value itself.
    with engine.connect() as conn:
        (row,) = conn.execute(select(Holding.__table__)).mappings()  # type: ignore[attr-defined]
    assert row["value"] == PHONE
    assert PHONE in world.maria.get("/").text
    (holding,) = world.holder.get("/api/v1/participants/N-1/holdings").json()["holdings"]
    assert holding["value"] == PHONE


def test_the_participants_own_words_are_stored_encrypted(world, engine, own_words):
    words = [
        PHONE,  # the correction's current_value
        "612-555-0199",
        "I moved in June.",
        "We called the old number.",
        "That number was cut off.",
        "Finish my GED.",
    ]
    stored = raw_dump(engine, "holding", "correction", "statement", "context_note", "event")
    for plaintext in words:
        assert plaintext not in stored
    assert all(STORED.match(value) for value in every_encrypted_value(engine))
    # The participant still reads them, and so does the organization.
    home = world.maria.get("/").text
    assert "That number was cut off." in home and "We called the old number." in home
    assert "Finish my GED." in world.maria.get("/context").text
    answer = world.holder.get(f"/api/v1/corrections/{own_words.id}").json()
    assert (answer["requested_value"], answer["reason"]) == ("612-555-0199", "I moved in June.")


def test_each_value_gets_a_fresh_nonce_and_names_its_key():
    keys = development_keys()
    first = keys.encrypt(PHONE, column="holding.value")
    second = keys.encrypt(PHONE, column="holding.value")
    assert first != second
    for stored in (first, second):
        match = STORED.match(stored)
        assert match and match["kid"] == "dev"
        # 96-bit nonce + ciphertext (as long as the plaintext) + 128-bit tag.
        assert len(base64.urlsafe_b64decode(match["b64"])) == 12 + len(PHONE) + 16
        assert keys.decrypt(stored, column="holding.value") == PHONE


# --- rotation ------------------------------------------------------------------------------


def test_after_a_rotation_old_values_read_and_reencrypt_moves_them_to_the_new_key(
    world, db, engine, own_words, capsys
):
    before = every_encrypted_value(engine)
    assert before and all(STORED.match(v)["kid"] == "dev" for v in before)
    new_key = ("k2", os.urandom(32))

    with field_keys_in_use(FieldKeys([new_key, *get_settings().field_keys])):
        # Old values still read; new ones are written under the new key.
        assert PHONE in world.maria.get("/").text
        send_form(world.maria, "/context/new", {"kind": "strength", "text": "I fix bikes."})
        notes = raw_values(engine, "context_note", "text")
        assert sorted(STORED.match(v)["kid"] for v in notes) == ["dev", "k2"]

        capsys.readouterr()
        assert cli(["keys", "reencrypt", "--batch-size", "2"]) == 0
        output = capsys.readouterr().out
        assert "holding.value: 1 re-encrypted, 0 already under 'k2'" in output
        totals = json.loads(output.strip().splitlines()[-1])
        assert totals["key_id"] == "k2" and totals["reencrypted"] == len(before)
        assert totals["changed_meanwhile"] == 0

        # Again: nothing left to move.
        assert cli(["keys", "reencrypt"]) == 0
        assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["reencrypted"] == 0

    after = every_encrypted_value(engine)
    assert len(after) == totals["reencrypted"] + totals["already_current"]
    assert all(STORED.match(v)["kid"] == "k2" for v in after)

    # The old key can go now.
    with field_keys_in_use(FieldKeys([new_key])):
        assert PHONE in world.maria.get("/").text
        assert "That number was cut off." in world.maria.get("/").text
        assert "Finish my GED." in world.maria.get("/context").text
        # The ledger's digests are of the plaintext: the chain verifies under any key.
        assert cli(["ledger", "verify"]) == 0


# --- refusing what can't be read -----------------------------------------------------------


def test_an_unknown_key_id_is_a_clear_error(world, db, capsys):
    with field_keys_in_use(FieldKeys([("k9", os.urandom(32))])):
        db.expire_all()
        with pytest.raises(
            UnknownFieldKey, match=r"holding\.value .* key id 'dev'.*PORTAL_FIELD_KEYS"
        ):
            db.exec(select(Holding.value)).all()
        # The re-encryption stops there, and says why.
        assert cli(["keys", "reencrypt"]) == 1
        assert "key id 'dev'" in capsys.readouterr().err


def test_tampered_ciphertext_is_refused(world, db, engine):
    (stored,) = raw_values(engine, "holding", "value")
    kid_and_prefix, b64 = stored.rsplit(":", 1)
    sealed = bytearray(base64.urlsafe_b64decode(b64))
    sealed[14] ^= 0x01  # one bit of the ciphertext
    set_raw(
        engine,
        "holding",
        "value",
        f"{kid_and_prefix}:{base64.urlsafe_b64encode(bytes(sealed)).decode()}",
        world.phone,
    )
    db.expire_all()
    with pytest.raises(TamperedField, match="altered"):
        db.exec(select(Holding.value)).all()


def test_a_value_copied_into_another_column_is_refused(world, db, engine, own_words):
    # The column's name is bound to its ciphertext: the phone number can't pose as a reason.
    (phone,) = raw_values(engine, "holding", "value")
    set_raw(engine, "correction", "reason", phone, own_words.id)
    db.expire_all()
    with pytest.raises(TamperedField, match=r"correction\.reason"):
        db.exec(select(Correction.reason)).all()


def test_a_value_written_before_encryption_reads_as_it_is_until_reencrypted(
    world, db, engine, capsys
):
    set_raw(engine, "holding", "value", "612-555-0123", world.phone)
    db.expire_all()
    assert db.exec(select(Holding.value)).one() == "612-555-0123"
    assert "612-555-0123" in world.maria.get("/").text

    assert cli(["keys", "reencrypt"]) == 0
    assert "holding.value: 1 re-encrypted" in capsys.readouterr().out
    (stored,) = raw_values(engine, "holding", "value")
    assert STORED.match(stored) and "612-555-0123" not in stored
    db.expire_all()
    assert db.exec(select(Holding.value)).one() == "612-555-0123"
