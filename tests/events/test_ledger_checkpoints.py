"""Signed checkpoints: an anchor outside the database. Removing a chain's newest events leaves
a valid chain that `ledger verify` alone can't tell from the real one; a checkpoint an
organization kept catches it, and names the chain."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import subprocess
import sys
import time
from dataclasses import replace
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import text
from sqlmodel import Session, select

from app.cli import main as cli_main
from app.db import utcnow
from app.events.checkpoints import (
    EMPTY_TAG,
    LEAF_TAG,
    NODE_TAG,
    Leaf,
    checkpoint_out,
    current_heads,
    leaf_hash,
    make_checkpoint,
    merkle_root,
    recorded_heads,
)
from app.events.models import Event, LedgerCheckpoint
from app.events.service import MAX_BODY_BYTES, canonical_json
from app.jobs import Job, JobRunner, checkpoint_ledger
from app.participants.models import Enrollment
from app.webhooks.claims import claim_due
from tests.factories import purpose_body

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _cli(*argv: str) -> subprocess.CompletedProcess[str]:
    """The real command, in its own process, against the test database."""
    return subprocess.run(
        [sys.executable, "-m", "app", *argv],
        cwd=ROOT,
        env={**os.environ},
        capture_output=True,
        text=True,
        timeout=60,
    )


def _consents(org, ref: str, states: list[str]) -> None:
    for state in states:
        r = org.post(
            f"/api/v1/participants/{ref}/consents",
            {"purpose": "housing", "state": state, "method": "paper"},
        )
        assert r.status_code == 201, r.text


@pytest.fixture
def chains(db, org):
    """Three participants' chains: 3, 2 and 1 events. Returns {external_ref: [events]}."""
    assert org.put("/api/v1/purposes/housing", purpose_body()).status_code == 201
    plan = {"A-1": ["given", "withdrawn", "given"], "A-2": ["given", "withdrawn"], "A-3": ["given"]}
    for ref, states in plan.items():
        assert org.post("/api/v1/participants", {"external_ref": ref}).status_code == 201
        _consents(org, ref, states)
    return _events_by_ref(db)


def _events_by_ref(db: Session) -> dict[str, list[Event]]:
    db.expire_all()
    out: dict[str, list[Event]] = {}
    for event, ref in db.exec(
        select(Event, Enrollment.external_ref)  # type: ignore[call-overload]
        .join(Enrollment, Enrollment.id == Event.enrollment_id)
        .order_by(Event.enrollment_id, Event.seq)
    ):
        out.setdefault(ref, []).append(event)
    return out


def _take_checkpoint(tmp_path, name: str = "checkpoint.json") -> tuple[dict, str]:
    made = _cli("ledger", "checkpoint")
    assert made.returncode == 0, made.stderr
    checkpoint = json.loads(made.stdout)
    path = tmp_path / name
    path.write_text(json.dumps(checkpoint))
    return checkpoint, str(path)


def _delete_event(db: Session, event_id: str) -> None:
    """What someone with the database could do: plain SQL, nothing of the portal's."""
    db.exec(text("DELETE FROM webhook_delivery WHERE event_id = :id").bindparams(id=event_id))  # type: ignore[call-overload]
    db.exec(text("DELETE FROM event WHERE id = :id").bindparams(id=event_id))  # type: ignore[call-overload]
    db.commit()


def _verify(argv: list[str], capsys) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli_main(["ledger", "verify", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


# --- the gap, and the anchor that closes it ------------------------------------------------


def test_removing_the_newest_event_is_caught_by_a_checkpoint_and_only_by_it(db, chains, tmp_path):
    checkpoint, path = _take_checkpoint(tmp_path)
    assert checkpoint["chains"] == 3
    assert _cli("ledger", "verify", "--checkpoint", path).returncode == 0

    newest = chains["A-1"][-1]
    _delete_event(db, newest.id)

    # The old gap: what is left is still a perfectly valid chain.
    alone = _cli("ledger", "verify")
    assert alone.returncode == 0, alone.stderr
    assert "ledger intact" in alone.stdout

    caught = _cli("ledger", "verify", "--checkpoint", path)
    assert caught.returncode != 0
    assert newest.enrollment_id in caught.stderr
    assert "truncated: 2 of the 3 events" in caught.stderr
    # Only that chain is named.
    for ref in ("A-2", "A-3"):
        assert chains[ref][0].enrollment_id not in caught.stderr


def test_a_removed_chain_is_named(db, chains, tmp_path, capsys):
    _, path = _take_checkpoint(tmp_path)
    (only,) = chains["A-3"]
    _delete_event(db, only.id)
    assert _verify([], capsys)[0] == 0
    code, _, err = _verify(["--checkpoint", path], capsys)
    assert code == 1
    assert f"chain {only.enrollment_id} was removed" in err


def test_hiding_the_removal_in_the_checkpoint_record_is_still_caught(db, chains, tmp_path, capsys):
    """The record of which heads a checkpoint saw is only a guide; the signed root decides."""
    checkpoint, path = _take_checkpoint(tmp_path)
    newest = chains["A-1"][-1]
    _delete_event(db, newest.id)
    previous = chains["A-1"][-2]
    db.exec(  # type: ignore[call-overload]
        text(
            "UPDATE ledger_checkpoint_head SET length = :length, head = :head "
            "WHERE chain_id = :chain"
        ).bindparams(length=previous.seq, head=previous.hash, chain=previous.enrollment_id)
    )
    db.commit()
    code, _, err = _verify(["--checkpoint", path], capsys)
    assert code == 1
    assert "do not hash to its signed root" in err


def test_later_checkpoints_and_the_apis_list_verify_together(org, db, chains, tmp_path, capsys):
    _take_checkpoint(tmp_path, "first.json")
    _consents(org, "A-2", ["given"])
    assert org.post("/api/v1/participants", {"external_ref": "A-4"}).status_code == 201
    _consents(org, "A-4", ["given"])
    second, _ = _take_checkpoint(tmp_path, "second.json")
    assert second["chains"] == 4

    listed = org.get("/api/v1/ledger/checkpoints").json()
    (tmp_path / "all.json").write_text(json.dumps(listed))
    code, out, err = _verify(["--checkpoint", str(tmp_path / "all.json")], capsys)
    assert code == 0, err
    assert "2 checkpoint(s) verified" in out

    # The second checkpoint's record keeps only what changed, yet gives back every head.
    with Session(db.get_bind()) as session:
        assert recorded_heads(session, second["id"]) == current_heads(session)

    # Removing an event made before the first checkpoint: both checkpoints name the chain.
    newest_a1 = chains["A-1"][-1]
    _delete_event(db, newest_a1.id)
    code, _, err = _verify(["--checkpoint", str(tmp_path / "all.json")], capsys)
    assert code == 1
    assert err.count(f"chain {newest_a1.enrollment_id} is truncated") == 2


# --- the signature -------------------------------------------------------------------------


def test_an_altered_checkpoint_or_a_forged_signature_is_refused(db, chains, tmp_path, capsys):
    checkpoint, _ = _take_checkpoint(tmp_path)
    # Everything a thief would like the checkpoint to say: the ledger as it is after a removal.
    altered = {**checkpoint, "chains": 2}
    (tmp_path / "altered.json").write_text(json.dumps(altered))
    code, _, err = _verify(["--checkpoint", str(tmp_path / "altered.json")], capsys)
    assert code == 1
    assert "the signature does not verify" in err

    flipped = bytearray(base64.b64decode(checkpoint["signature"]))
    flipped[0] ^= 1
    forged = {**checkpoint, "signature": base64.b64encode(bytes(flipped)).decode()}
    (tmp_path / "forged.json").write_text(json.dumps([checkpoint, forged]))
    code, _, err = _verify(["--checkpoint", str(tmp_path / "forged.json")], capsys)
    assert code == 1
    assert f"checkpoint {checkpoint['id']}: the signature does not verify" in err


def test_a_checkpoint_signed_with_another_key_is_refused(db, chains, settings, tmp_path, capsys):
    other = replace(settings, secret_key="another-portals-secret-key-0123456789abcdef")
    with Session(db.get_bind(), expire_on_commit=False) as session:
        checkpoint = checkpoint_out(make_checkpoint(session, settings=other))
        session.commit()
    (tmp_path / "other.json").write_text(json.dumps(checkpoint))
    code, _, err = _verify(["--checkpoint", str(tmp_path / "other.json")], capsys)
    assert code == 1
    assert "not this portal's" in err
    # Trusted explicitly (an earlier key, after a rotation), it verifies.
    code, _, err = _verify(
        ["--checkpoint", str(tmp_path / "other.json"), "--public-key", checkpoint["public_key"]],
        capsys,
    )
    assert code == 0, err


def test_a_dedicated_signing_key_is_used_when_given(settings, db, chains):
    from app.config import load_settings

    seed = bytes(range(32))
    configured = load_settings(
        {**os.environ, "PORTAL_LEDGER_SIGNING_KEY": base64.b64encode(seed).decode()}
    )
    assert configured.ledger_signing_key == seed
    with Session(db.get_bind(), expire_on_commit=False) as session:
        derived = make_checkpoint(session, settings=settings)
        own = make_checkpoint(session, settings=configured)
        session.rollback()
    assert derived.public_key != own.public_key
    from app.config import ConfigError

    with pytest.raises(ConfigError):
        load_settings({**os.environ, "PORTAL_LEDGER_SIGNING_KEY": "too-short"})


# --- what organizations get ----------------------------------------------------------------


def test_organizations_read_checkpoints_and_can_check_the_signature_themselves(
    client, org, make_org, chains, tmp_path
):
    first, _ = _take_checkpoint(tmp_path, "a.json")
    second, _ = _take_checkpoint(tmp_path, "b.json")
    other = make_org("southside", "Southside Clinic")  # any organization: they're network-wide

    assert client.get("/api/v1/ledger/checkpoints").status_code == 401
    assert client.get("/api/v1/ledger/public-key").status_code == 401
    r = other.get("/api/v1/ledger/checkpoints")
    assert r.status_code == 200
    listed = r.json()["checkpoints"]
    assert [c["id"] for c in listed] == [second["id"], first["id"]]  # newest first
    assert listed[0] == second
    assert [
        c["id"]
        for c in other.get(f"/api/v1/ledger/checkpoints?before={second['id']}").json()[
            "checkpoints"
        ]
    ] == [first["id"]]

    key = other.get("/api/v1/ledger/public-key").json()
    assert key["algorithm"] == "Ed25519" and key["public_key"] == second["public_key"]
    assert key["pem"].startswith("-----BEGIN PUBLIC KEY-----")
    # With nothing of the portal's code: canonical JSON of every field but the signature.
    message = json.dumps(
        {k: v for k, v in second.items() if k != "signature"},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()
    Ed25519PublicKey.from_public_bytes(base64.b64decode(key["public_key"])).verify(
        base64.b64decode(second["signature"]), message
    )
    # It says nothing about any participant: no chain ids, no references, no heads.
    published = json.dumps(listed)
    for events in chains.values():
        assert events[0].enrollment_id not in published
        assert all(e.hash not in published for e in events)


def test_feed_and_webhook_events_carry_the_stored_chain_head(org, db, engine, chains, capsys):
    hook = org.post("/api/v1/webhook-endpoints", {"url": "http://127.0.0.1:9/hook"})
    assert hook.status_code == 201, hook.text
    _consents(org, "A-2", ["given"])
    stored = _events_by_ref(db)["A-2"][-1]
    assert stored.seq == 3

    feed = org.get("/api/v1/events?limit=500").json()["events"]
    by_id = {item["id"]: item for item in feed}
    for events in _events_by_ref(db).values():
        for event in events:
            assert by_id[event.id]["data"]["chain_head"] == {
                "hash": event.hash,
                "version": event.seq,
            }
    assert (
        org.get(f"/api/v1/events/{stored.id}").json()["data"]["chain_head"]["hash"] == stored.hash
    )

    # The webhook body, exactly as the worker sends it.
    with Session(engine, expire_on_commit=False) as session:
        (claim,) = claim_due(session, now=utcnow(), lease_seconds=60, limit=10)
    body = json.loads(claim.body)
    assert claim.event_id == stored.id
    assert body["data"]["chain_head"] == {"hash": stored.hash, "version": 3}
    assert body["data"]["version"] == 3
    assert len(claim.body) < MAX_BODY_BYTES

    # An organization that kept it can have the operator show that the event is still there.
    code, out, err = _verify(["--head", stored.hash], capsys)
    assert code == 0, err
    assert stored.id in out
    _delete_event(db, stored.id)
    code, _, err = _verify(["--head", stored.hash], capsys)
    assert code == 1
    assert "no event has this hash" in err


def test_a_huge_events_trimmed_body_keeps_its_chain_head(org, db, chains):
    from app.events.service import envelope_bytes, event_envelope, record_event

    a1 = chains["A-1"][-1]
    event = record_event(
        db,
        enrollment_id=a1.enrollment_id,
        organization_id=a1.organization_id,
        type="statement.added",
        data={"organization": "northside", "statement": "x" * 30_000},
    )
    envelope = event_envelope(event)
    assert envelope["data"]["truncated"] is True
    assert envelope["data"]["chain_head"] == {"hash": event.hash, "version": a1.seq + 1}
    assert len(envelope_bytes(envelope)) < MAX_BODY_BYTES
    db.rollback()


# --- made periodically by the worker -------------------------------------------------------


def test_the_worker_makes_a_checkpoint_when_one_is_due(engine, settings, chains):
    now = utcnow()
    times = iter([now, now + timedelta(minutes=30), now + timedelta(minutes=61)])
    assert settings.ledger_checkpoint_minutes == 60
    assert checkpoint_ledger(engine, settings, next(times)) is True  # none yet
    assert checkpoint_ledger(engine, settings, next(times)) is False  # half an hour: not due
    assert checkpoint_ledger(engine, settings, next(times)) is True  # an hour on
    with Session(engine) as session:
        made = list(session.exec(select(LedgerCheckpoint).order_by(LedgerCheckpoint.id)))  # type: ignore[arg-type]
    assert [c.chains for c in made] == [3, 3]
    assert made[0].root == made[1].root  # nothing changed in between


def test_a_job_that_fails_is_logged_and_the_others_go_on(engine, settings, chains, caplog):
    calls: list[object] = []

    def broken(*_args: object) -> None:
        calls.append(1)
        raise KeyError("oops")

    runner = JobRunner(
        engine,
        settings,
        [Job("broken", 0.01, broken), Job("ledger checkpoints", 0.01, checkpoint_ledger)],
    )

    async def main() -> None:
        task = asyncio.create_task(runner.run())
        deadline = time.monotonic() + 10
        while len(calls) < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        runner.request_stop()
        await task

    asyncio.run(main())
    assert len(calls) >= 2  # tried again at its next turn
    bugs = [r for r in caplog.records if r.name == "app.jobs" and r.exc_info]
    assert bugs and bugs[0].getMessage() == "broken failed, trying again later"
    with Session(engine) as session:
        assert session.exec(select(LedgerCheckpoint)).first() is not None


# --- the tree ------------------------------------------------------------------------------


def test_the_merkle_root_is_rfc6962_shaped_and_domain_separated():
    def node(left: bytes, right: bytes) -> bytes:
        return hashlib.sha256(NODE_TAG + left + right).digest()

    a, b, c = Leaf("ptp_a", "1" * 64, 1), Leaf("ptp_b", "2" * 64, 2), Leaf("ptp_c", "3" * 64, 3)
    la, lb, lc = (leaf_hash(x) for x in (a, b, c))
    assert la == hashlib.sha256(LEAF_TAG + canonical_json(["ptp_a", "1" * 64, 1]).encode()).digest()
    assert merkle_root([c, a, b]) == node(node(la, lb), lc).hex()  # sorted by chain id
    assert merkle_root([a]) == la.hex()
    assert merkle_root([]) == hashlib.sha256(EMPTY_TAG).hexdigest()
    # Any change to any leaf changes the root; a shorter chain is a different root.
    assert merkle_root([a, b, Leaf("ptp_c", "3" * 64, 2)]) != merkle_root([a, b, c])
    assert merkle_root([a, b]) != merkle_root([a, b, c])
