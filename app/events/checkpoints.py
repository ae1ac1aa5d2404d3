"""Signed checkpoints: an anchor for the ledger outside the database.

The hash chains (app/events/service.py) show an event that was changed or removed from the
middle of a chain, but not the removal of a chain's newest events, nor of a whole chain: what
is left is still a valid chain. So every event an organization receives carries its chain's
head (`chain_head`: the event's own hash and version), and now and then the portal signs a
checkpoint: at a time, how many chains there are and the Merkle root over every chain's
(chain id, head hash, length). Organizations keep copies (`GET /api/v1/ledger/checkpoints`);
`consent-portal ledger verify --checkpoint FILE` recomputes every chain's head as of a
checkpoint from the database and the root over them, and names the chain that no longer
reaches its head.

The tree (RFC 6962's shape) hashes leaves and nodes with SHA-256 under tags of their own, so
a leaf can't pass for a node; the root and the count say nothing about any participant.
Each leaf is `canonical_json([chain_id, head, length])`, the leaves sorted by chain id (as
strings, by code point). The signature is Ed25519 over the canonical JSON (sorted keys, no
spaces, UTF-8) of the checkpoint's SIGNED_FIELDS, with a key derived from PORTAL_SECRET_KEY
unless PORTAL_LEDGER_SIGNING_KEY gives one.

Which chains a checkpoint saw, and at what length, is kept in ledger_checkpoint_head (only
those that changed since the checkpoint before); that record is only a guide to name the
chain at fault: the signed root, which organizations hold, decides whether anything changed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import and_, func, insert, text
from sqlalchemy.orm import defer
from sqlmodel import Session, col, select

from app.config import Settings, get_settings
from app.db import utcnow
from app.events.models import Event, LedgerCheckpoint, LedgerCheckpointHead
from app.events.service import GENESIS, canonical_json, chain_hash

log = logging.getLogger(__name__)

CHECKPOINT_TYPE = "ledger.checkpoint"
ALGORITHM = "Ed25519"
SIGNED_FIELDS = ("type", "id", "created_at", "chains", "root", "algorithm", "public_key")
LEAF_TAG = b"consent-portal ledger checkpoint leaf v1\x00"
NODE_TAG = b"consent-portal ledger checkpoint node v1\x00"
EMPTY_TAG = b"consent-portal ledger checkpoint empty v1\x00"
CHECKPOINT_LOCK_KEY = 727_002  # PostgreSQL advisory lock: one checkpoint at a time


# --- the Merkle root -----------------------------------------------------------------------


@dataclass(frozen=True)
class Leaf:
    chain_id: str
    head: str
    length: int


def leaf_hash(leaf: Leaf) -> bytes:
    material = canonical_json([leaf.chain_id, leaf.head, leaf.length]).encode()
    return hashlib.sha256(LEAF_TAG + material).digest()


def merkle_root(leaves: Iterable[Leaf]) -> str:
    """The root over the leaves sorted by chain id. A level's odd last node moves up as it is
    (never paired with itself), which gives RFC 6962's tree."""
    level = [leaf_hash(leaf) for leaf in sorted(leaves, key=lambda leaf: leaf.chain_id)]
    if not level:
        return hashlib.sha256(EMPTY_TAG).hexdigest()
    while len(level) > 1:
        paired = [
            hashlib.sha256(NODE_TAG + level[i] + level[i + 1]).digest()
            for i in range(0, len(level) - 1, 2)
        ]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0].hex()


# --- the signing key -----------------------------------------------------------------------


def signing_key(settings: Settings) -> Ed25519PrivateKey:
    seed = settings.ledger_signing_key or HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=b"consent-portal",
        info=b"ledger checkpoint signing key (Ed25519)",
    ).derive(settings.secret_key.encode())
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_key_b64(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def public_key_out(settings: Settings) -> dict[str, str]:
    public = signing_key(settings).public_key()
    pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return {"algorithm": ALGORITHM, "public_key": public_key_b64(public), "pem": pem.decode()}


def signed_message(checkpoint: dict[str, Any]) -> bytes:
    return canonical_json({k: checkpoint.get(k) for k in SIGNED_FIELDS}).encode()


def checkpoint_out(checkpoint: LedgerCheckpoint) -> dict[str, Any]:
    """A checkpoint as organizations receive it (and as `ledger verify --checkpoint` reads it)."""
    return {
        "type": CHECKPOINT_TYPE,
        "id": checkpoint.id,
        "created_at": checkpoint.created_at.isoformat(),
        "chains": checkpoint.chains,
        "root": checkpoint.root,
        "algorithm": ALGORITHM,
        "public_key": checkpoint.public_key,
        "signature": checkpoint.signature,
    }


# --- making checkpoints --------------------------------------------------------------------


def current_heads(session: Session) -> dict[str, tuple[int, str]]:
    """Every chain's (length, head hash) as committed now: one statement, so one snapshot,
    and a chain's events commit in order, so each chain is seen up to some event."""
    last = (
        select(col(Event.enrollment_id).label("chain_id"), func.max(Event.seq).label("length"))
        .group_by(col(Event.enrollment_id))
        .subquery()
    )
    rows = session.exec(
        select(col(Event.enrollment_id), col(Event.seq), col(Event.hash)).join(
            last,
            and_(col(Event.enrollment_id) == last.c.chain_id, col(Event.seq) == last.c.length),
        )
    )
    return {chain_id: (length, head) for chain_id, length, head in rows}


def recorded_heads(session: Session, checkpoint_id: int) -> dict[str, tuple[int, str]]:
    """The heads checkpoint `checkpoint_id` saw, from the record kept beside it."""
    head = LedgerCheckpointHead
    latest = (
        select(col(head.chain_id).label("chain_id"), func.max(head.checkpoint_id).label("at"))
        .where(col(head.checkpoint_id) <= checkpoint_id)
        .group_by(col(head.chain_id))
        .subquery()
    )
    rows = session.exec(
        select(col(head.chain_id), col(head.length), col(head.head)).join(
            latest,
            and_(
                col(head.chain_id) == latest.c.chain_id,
                col(head.checkpoint_id) == latest.c.at,
            ),
        )
    )
    # A chain gone by the time of a later checkpoint is kept there with length 0.
    return {chain_id: (length, digest) for chain_id, length, digest in rows if length > 0}


def latest_checkpoint(session: Session) -> LedgerCheckpoint | None:
    return session.exec(
        select(LedgerCheckpoint).order_by(col(LedgerCheckpoint.id).desc()).limit(1)
    ).first()


def make_checkpoint(
    session: Session, now: datetime | None = None, *, settings: Settings | None = None
) -> LedgerCheckpoint:
    """Sign a checkpoint of every chain as committed now; the caller commits."""
    settings = settings or get_settings()
    if session.get_bind().dialect.name == "postgresql":
        # One at a time, so that each one's record of heads builds on the one before.
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHECKPOINT_LOCK_KEY})
    previous = latest_checkpoint(session)
    before = recorded_heads(session, previous.id or 0) if previous else {}
    heads = current_heads(session)
    key = signing_key(settings)
    checkpoint = LedgerCheckpoint(
        # Whole seconds: the time reads back the same from every database.
        created_at=(now or utcnow()).replace(microsecond=0),
        chains=len(heads),
        root=merkle_root(Leaf(c, head, length) for c, (length, head) in heads.items()),
        public_key=public_key_b64(key.public_key()),
        signature="",
    )
    session.add(checkpoint)
    session.flush()  # its id is signed too
    checkpoint.signature = base64.b64encode(
        key.sign(signed_message(checkpoint_out(checkpoint)))
    ).decode()
    changed = [
        {"checkpoint_id": checkpoint.id, "chain_id": c, "length": length, "head": head}
        for c, (length, head) in sorted(heads.items())
        if before.get(c) != (length, head)
    ]
    for c, (length, _head) in sorted(before.items()):
        # Chains only grow: one that shrank or went was cut, before this checkpoint.
        if c not in heads:
            log.warning("ledger: chain %s is gone since checkpoint %s", c, previous and previous.id)
            changed.append(
                {"checkpoint_id": checkpoint.id, "chain_id": c, "length": 0, "head": GENESIS}
            )
        elif heads[c][0] < length:
            log.warning(
                "ledger: chain %s is shorter than at checkpoint %s", c, previous and previous.id
            )
    if changed:
        session.execute(insert(LedgerCheckpointHead), changed)
    session.flush()
    return checkpoint


def make_checkpoint_if_due(
    session: Session, now: datetime | None = None, *, settings: Settings | None = None
) -> LedgerCheckpoint | None:
    """The worker's periodic step: a checkpoint when the last one is older than
    PORTAL_LEDGER_CHECKPOINT_MINUTES (or there is none); the caller commits."""
    settings = settings or get_settings()
    now = now or utcnow()
    if session.get_bind().dialect.name == "postgresql":
        got_lock = session.execute(
            text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": CHECKPOINT_LOCK_KEY}
        ).scalar()
        if not got_lock:
            return None  # another worker is making one right now
    last = latest_checkpoint(session)
    if last is not None and now - last.created_at < timedelta(
        minutes=settings.ledger_checkpoint_minutes
    ):
        return None
    return make_checkpoint(session, now, settings=settings)


def recent_checkpoints(
    session: Session, *, limit: int = 24, before: int | None = None
) -> list[LedgerCheckpoint]:
    query = select(LedgerCheckpoint)
    if before is not None:
        query = query.where(col(LedgerCheckpoint.id) < before)
    return list(session.exec(query.order_by(col(LedgerCheckpoint.id).desc()).limit(limit)))


# --- verifying -----------------------------------------------------------------------------


@dataclass
class ChainState:
    """How far a chain verifies, up to some length: `length` intact events ending in `head`;
    `broken` says why it stops earlier, if it does."""

    length: int = 0
    head: str = GENESIS
    broken: str | None = None


def chain_states(session: Session, limits: dict[str, int]) -> dict[str, ChainState]:
    """For each chain in `limits`, how far its first `limits[chain]` events verify (hash
    links and event hashes; the event data's digests are `verify_ledger`'s)."""
    states = {chain_id: ChainState() for chain_id in limits}
    query = (
        select(Event)
        .options(defer(Event.data), defer(Event.ack_note))  # type: ignore[arg-type]
        .order_by(col(Event.enrollment_id), col(Event.seq))
        .execution_options(yield_per=2000)
    )
    if len(limits) <= 500:
        query = query.where(col(Event.enrollment_id).in_(list(limits)))
    for event in session.exec(query):
        state = states.get(event.enrollment_id)
        if state is None or state.broken or event.seq > limits[event.enrollment_id]:
            continue
        if event.seq != state.length + 1:
            state.broken = f"version {state.length + 1} is missing"
        elif event.prev_hash != state.head:
            state.broken = f"version {event.seq}: the previous hash does not match"
        elif chain_hash(event) != event.hash:
            state.broken = f"version {event.seq} ({event.id}): the event hash does not match"
        else:
            state.length, state.head = event.seq, event.hash
    return states


def load_checkpoints(raw: Any) -> list[dict[str, Any]]:
    """A checkpoint's JSON as served, a list of them, or the API's `{"checkpoints": [...]}`."""
    if isinstance(raw, dict) and isinstance(raw.get("checkpoints"), list):
        raw = raw["checkpoints"]
    items = raw if isinstance(raw, list) else [raw]
    if not items or not all(isinstance(item, dict) for item in items):
        raise ValueError("expected a checkpoint (a JSON object) or a list of them")
    return items


def _parse(body: dict[str, Any]) -> tuple[int, datetime, int, str, bytes, bytes]:
    try:
        checkpoint_id, chains, root = body["id"], body["chains"], body["root"]
        if body.get("type") != CHECKPOINT_TYPE or body.get("algorithm") != ALGORITHM:
            raise ValueError(f"not a {CHECKPOINT_TYPE} signed with {ALGORITHM}")
        if not isinstance(checkpoint_id, int) or not isinstance(chains, int):
            raise ValueError("id and chains must be numbers")
        if not isinstance(root, str) or len(root) != 64:
            raise ValueError("root must be 64 hex digits")
        created_at = datetime.fromisoformat(body["created_at"])
        public_key = base64.b64decode(body["public_key"], validate=True)
        signature = base64.b64decode(body["signature"], validate=True)
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        raise ValueError(f"not a checkpoint ({exc})") from None
    return checkpoint_id, created_at, chains, root, public_key, signature


def verify_checkpoint(
    session: Session, body: dict[str, Any], *, trusted_keys: Iterable[str]
) -> list[str]:
    """What is wrong with the ledger as of a checkpoint an organization kept: [] when every
    chain it covered still reaches the head it signed, and they hash to its root."""
    label = f"checkpoint {body.get('id')!r}"
    try:
        checkpoint_id, created_at, chains, root, public_key, signature = _parse(body)
    except ValueError as exc:
        return [f"{label}: {exc}"]
    if body["public_key"] not in set(trusted_keys):
        return [
            f"{label}: signed with key {body['public_key']}, not this portal's "
            "(pass --public-key to trust an earlier key)"
        ]
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, signed_message(body))
    except (InvalidSignature, ValueError):
        return [f"{label}: the signature does not verify: altered, or not signed by this portal"]

    problems: list[str] = []
    record = session.get(LedgerCheckpoint, checkpoint_id)
    if record is None:
        return [
            f"{label} (signed {created_at.isoformat()}) is not in the database: its record "
            "was removed, so the chains it covered can't be checked against it"
        ]
    if checkpoint_out(record) != {k: body.get(k) for k in checkpoint_out(record)}:
        problems.append(f"{label}: the database's record of it differs from the signed copy")
    expected = recorded_heads(session, checkpoint_id)
    if len(expected) != chains:
        problems.append(
            f"{label}: it covered {chains} chains, the database's record of it names "
            f"{len(expected)}"
        )
    states = chain_states(session, {c: length for c, (length, _head) in expected.items()})
    leaves = []
    for chain_id, (length, head) in sorted(expected.items()):
        state = states[chain_id]
        if state.length:
            leaves.append(Leaf(chain_id, state.head, state.length))
        if state.broken:
            problems.append(f"{label}: chain {chain_id} is broken: {state.broken}")
        elif state.length == 0:
            problems.append(
                f"{label}: chain {chain_id} was removed: it had {length} events, none is left"
            )
        elif state.length < length:
            problems.append(
                f"{label}: chain {chain_id} is truncated: {state.length} of the {length} events "
                f"it had are left (version {state.length + 1} on was removed)"
            )
        elif state.head != head:
            problems.append(f"{label}: chain {chain_id}: its head at version {length} changed")
    if merkle_root(leaves) != root and not problems:
        problems.append(
            f"{label}: the chains in the database do not hash to its signed root, and the "
            "database's record of the checkpoint was altered to hide which"
        )
    return problems


def verify_checkpoints(
    session: Session, checkpoints: Sequence[dict[str, Any]], *, trusted_keys: Iterable[str]
) -> list[str]:
    keys = set(trusted_keys)
    problems: list[str] = []
    for body in checkpoints:
        problems.extend(verify_checkpoint(session, body, trusted_keys=keys))
    return problems


def verify_head(session: Session, digest: str) -> tuple[Event | None, str | None]:
    """An organization kept an event's `chain_head`: is that event still in its chain, and
    does the chain verify up to it? (the event, or None; a problem, or None)."""
    event = session.exec(select(Event).where(col(Event.hash) == digest.strip().lower())).first()
    if event is None:
        return None, f"head {digest}: no event has this hash: it was removed or altered"
    state = chain_states(session, {event.enrollment_id: event.seq})[event.enrollment_id]
    if state.broken or state.length != event.seq or state.head != event.hash:
        reason = state.broken or "the chain does not reach it"
        return event, f"head {digest} (chain {event.enrollment_id}, version {event.seq}): {reason}"
    return event, None
