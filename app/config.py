"""Settings from the environment.

Production refuses to start with a missing or placeholder secret key: a portal that signs
CSRF tokens and webhook payloads with a guessable key protects nobody. It refuses, too, to
start without its own field encryption keys (`PORTAL_FIELD_KEYS`), which encrypt
participants' values at rest (app/security/fields.py).
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parseaddr
from functools import lru_cache
from pathlib import Path
from typing import TypedDict
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.paths import FROM_SOURCE

ROOT = Path(__file__).resolve().parent.parent

DEVELOPMENT_SECRET = "development-only-not-a-secret"  # noqa: S105 - the placeholder we refuse
PLACEHOLDER_SECRETS = {
    "",
    DEVELOPMENT_SECRET,
    "changeme",
    "change-me",
    "secret",
    "please-change-me",
    "placeholder",
    "xxx",
}


class ConfigError(RuntimeError):
    """The environment does not describe a portal that is safe to start."""


# A field encryption key: its id (stored beside every value it encrypts) and 32 random bytes.
FieldKey = tuple[str, bytes]
FIELD_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
FIELD_KEY_BYTES = 32
DEVELOPMENT_FIELD_KEY_ID = "dev"
GENERATE_FIELD_KEY = (
    'python -c \'import base64, os, time; print(time.strftime("k%Y%m%d:") '
    "+ base64.urlsafe_b64encode(os.urandom(32)).decode())'"
)


def default_hash_concurrency() -> int:
    """The cores this process may run on (a container's share, where the OS says)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 2)


@dataclass(frozen=True)
class Settings:
    env: str
    database_url: str
    secret_key: str
    base_url: str
    session_idle_minutes: int
    quick_exit_url: str
    argon2_memory_kib: int
    argon2_time_cost: int
    # Webhook delivery (app/webhooks/delivery.py). The lease must outlast the request timeout,
    # or a slow delivery could be claimed by a second worker while the first still waits.
    webhook_timeout_seconds: float = 15.0
    webhook_lease_seconds: float = 60.0
    webhook_poll_seconds: float = 0.25
    webhook_concurrency: int = 64
    webhook_per_endpoint: int = 4
    # Field encryption at rest: the first key encrypts, every key decrypts (rotation).
    field_keys: tuple[FieldKey, ...] = field(default=(), repr=False)
    # A session ends this long after it started, however busy (idle timeout aside).
    session_max_hours: int = 12
    # Argon2 hashes running at once in a process (app/security/passwords.py): more than the
    # cores only makes every one of them slower, and each holds argon2_memory_kib.
    hash_concurrency: int = field(default_factory=default_hash_concurrency)
    # The ledger's signed checkpoints (app/events/checkpoints.py): an Ed25519 seed of its own
    # (PORTAL_LEDGER_SIGNING_KEY), else one derived from the secret key; made this often.
    ledger_signing_key: bytes | None = field(default=None, repr=False)
    ledger_checkpoint_minutes: int = 60
    # The staff's daily digest (app/staff/digest.py): smtp:// or smtps://, empty sends none.
    # Not in repr: the URL may carry the mail server's password.
    smtp_url: str = field(default="", repr=False)
    smtp_from: str = ""
    # Dates and times are shown in the network's time zone (an IANA name), labelled.
    time_zone: str = "America/Chicago"
    # Reports (app/reports): a count from 1 to this minus one is hidden in every published run.
    report_threshold: int = 11

    @property
    def production(self) -> bool:
        return self.env == "production"


def _positive_int(env_vars: Mapping[str, str], name: str, default: int) -> int:
    raw = env_vars.get(name, str(default))
    if not raw.strip().isdigit() or int(raw) < 1:
        raise ConfigError(f"{name} must be a whole number of 1 or more, not {raw!r}")
    return int(raw)


def _var_dir() -> Path:
    """The checkout's var/ when running from one; else ./var where the portal is started (an
    installed portal never writes inside site-packages)."""
    return ROOT / "var" if FROM_SOURCE else Path.cwd() / "var"


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    env_vars = os.environ if environ is None else environ
    env = env_vars.get("PORTAL_ENV", "development")
    if env not in {"development", "production"}:
        raise ConfigError(f"PORTAL_ENV must be 'development' or 'production', not {env!r}")
    secret = env_vars.get("PORTAL_SECRET_KEY", "")
    if env == "production":
        if secret.strip().lower() in PLACEHOLDER_SECRETS or len(secret) < 32:
            raise ConfigError(
                "PORTAL_SECRET_KEY is missing or a placeholder; production needs a random key "
                "of 32 characters or more (python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
    elif not secret:
        secret = DEVELOPMENT_SECRET
    return Settings(
        env=env,
        database_url=env_vars.get("DATABASE_URL", f"sqlite:///{_var_dir() / 'portal.db'}"),
        secret_key=secret,
        base_url=env_vars.get(
            "PORTAL_BASE_URL", f"http://127.0.0.1:{env_vars.get('PORT', '8000')}"
        ).rstrip("/"),
        session_idle_minutes=int(env_vars.get("PORTAL_SESSION_IDLE_MINUTES", "15")),
        quick_exit_url=env_vars.get("PORTAL_QUICK_EXIT_URL", "https://www.weather.gov/"),
        # argon2-cffi's RFC 9106 "low memory" profile; tests may lower it.
        argon2_memory_kib=int(env_vars.get("PORTAL_ARGON2_MEMORY_KIB", "65536")),
        argon2_time_cost=int(env_vars.get("PORTAL_ARGON2_TIME_COST", "3")),
        **_webhook_settings(env_vars),
        field_keys=_field_keys(env_vars.get("PORTAL_FIELD_KEYS", ""), env=env, secret=secret),
        session_max_hours=_positive_int(env_vars, "PORTAL_SESSION_MAX_HOURS", 12),
        hash_concurrency=_positive_int(
            env_vars, "PORTAL_HASH_CONCURRENCY", default_hash_concurrency()
        ),
        ledger_signing_key=_ledger_signing_key(env_vars.get("PORTAL_LEDGER_SIGNING_KEY", "")),
        ledger_checkpoint_minutes=_positive_int(env_vars, "PORTAL_LEDGER_CHECKPOINT_MINUTES", 60),
        **_smtp_settings(env_vars),
        time_zone=_time_zone(env_vars.get("PORTAL_TIME_ZONE", "America/Chicago")),
        report_threshold=_report_threshold(env_vars.get("PORTAL_REPORT_THRESHOLD", "11")),
    )


# Below 5 a published "small group" is small enough to point at a person: refused at start.
MIN_REPORT_THRESHOLD = 5


def _report_threshold(raw: str) -> int:
    if not raw.strip().isdigit() or int(raw) < MIN_REPORT_THRESHOLD:
        raise ConfigError(
            f"PORTAL_REPORT_THRESHOLD must be a whole number of {MIN_REPORT_THRESHOLD} or more "
            f"(reports hide every count below it; 11 by default), not {raw!r}"
        )
    return int(raw)


def _time_zone(name: str) -> str:
    """An IANA time zone name (America/Chicago), checked at start."""
    try:
        ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"PORTAL_TIME_ZONE={name!r} is not a time zone name (like America/Chicago)"
        ) from None
    return name.strip()


class _SmtpSettings(TypedDict):
    smtp_url: str
    smtp_from: str


def _smtp_settings(env_vars: Mapping[str, str]) -> _SmtpSettings:
    """PORTAL_SMTP_URL: `smtp[s]://[user:password@]host[:port][?from=address]`; the sender is
    PORTAL_SMTP_FROM, else `?from=`, else noreply@ the host of PORTAL_BASE_URL. Checked at
    start, so a typo shows now rather than as a digest that never arrives."""
    url = env_vars.get("PORTAL_SMTP_URL", "").strip()
    if not url:
        return {"smtp_url": "", "smtp_from": ""}
    # Never echo the URL itself: it may hold a password.
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise ConfigError("PORTAL_SMTP_URL has a port that is not a number") from None
    if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
        raise ConfigError(
            "PORTAL_SMTP_URL must look like smtp://user:password@host:587 or smtps://host:465"
        )
    sender = env_vars.get("PORTAL_SMTP_FROM", "").strip()
    if not sender:
        sender = (parse_qs(parts.query).get("from") or [""])[0].strip()
    if not sender:
        base_host = urlsplit(env_vars.get("PORTAL_BASE_URL", "")).hostname or "localhost"
        sender = f"noreply@{base_host}"
    if "@" not in parseaddr(sender)[1]:
        raise ConfigError(f"PORTAL_SMTP_FROM is not an email address: {sender!r}")
    return {"smtp_url": url, "smtp_from": sender}


def _ledger_signing_key(value: str) -> bytes | None:
    """PORTAL_LEDGER_SIGNING_KEY: base64 of a 32-byte Ed25519 seed, or unset (derived)."""
    if not value.strip():
        return None
    try:
        standard = value.strip().replace("-", "+").replace("_", "/")
        seed = base64.b64decode(standard.encode("ascii"), validate=True)
    except ValueError:
        seed = b""
    if len(seed) != 32:
        raise ConfigError(
            "PORTAL_LEDGER_SIGNING_KEY must be base64 of 32 random bytes (an Ed25519 seed); "
            "make one with python -c 'import base64, os; "
            "print(base64.b64encode(os.urandom(32)).decode())'"
        )
    return seed


def _field_keys(value: str, *, env: str, secret: str) -> tuple[FieldKey, ...]:
    if not value.strip():
        if env == "production":
            raise ConfigError(
                "PORTAL_FIELD_KEYS is missing; production encrypts participants' values with "
                "it. Set it to KEY_ID:BASE64_KEY (32 random bytes); make one with "
                f"{GENERATE_FIELD_KEY}"
            )
        return (development_field_key(secret),)
    return parse_field_keys(value)


def parse_field_keys(value: str) -> tuple[FieldKey, ...]:
    """`kid:base64,kid:base64,...`: the first encrypts new values, all of them decrypt."""
    keys: list[FieldKey] = []
    for item in value.split(","):
        kid, sep, encoded = item.strip().partition(":")
        if not sep or not FIELD_KEY_ID.match(kid):
            raise ConfigError(
                "PORTAL_FIELD_KEYS must be a comma-separated list of KEY_ID:BASE64_KEY, with "
                "key ids of letters, digits, '-' or '_'; make a key with "
                f"{GENERATE_FIELD_KEY}"
            )
        try:
            # Either base64 alphabet, strictly: a stray character is a mistake, not noise.
            standard = encoded.strip().replace("-", "+").replace("_", "/")
            key = base64.b64decode(standard.encode("ascii"), validate=True)
        except ValueError:  # binascii.Error, or a character outside ASCII
            key = b""
        if len(key) != FIELD_KEY_BYTES:
            raise ConfigError(
                f"PORTAL_FIELD_KEYS: key {kid!r} is not {FIELD_KEY_BYTES} bytes of base64; "
                f"make one with {GENERATE_FIELD_KEY}"
            )
        if any(kid == known for known, _key in keys):
            raise ConfigError(f"PORTAL_FIELD_KEYS names key {kid!r} twice")
        keys.append((kid, key))
    return tuple(keys)


def development_field_key(secret: str) -> FieldKey:
    """Development and tests: a key derived from the secret key, so a development database
    stays readable across restarts without one more setting."""
    key = HKDF(
        algorithm=hashes.SHA256(),
        length=FIELD_KEY_BYTES,
        salt=b"consent-portal",
        info=b"field encryption at rest (development)",
    ).derive(secret.encode())
    return (DEVELOPMENT_FIELD_KEY_ID, key)


class _WebhookSettings(TypedDict):
    webhook_timeout_seconds: float
    webhook_lease_seconds: float
    webhook_poll_seconds: float
    webhook_concurrency: int
    webhook_per_endpoint: int


def _webhook_settings(env_vars: Mapping[str, str]) -> _WebhookSettings:
    try:
        values: _WebhookSettings = {
            "webhook_timeout_seconds": float(env_vars.get("PORTAL_WEBHOOK_TIMEOUT_SECONDS", "15")),
            "webhook_lease_seconds": float(env_vars.get("PORTAL_WEBHOOK_LEASE_SECONDS", "60")),
            "webhook_poll_seconds": float(env_vars.get("PORTAL_WEBHOOK_POLL_SECONDS", "0.25")),
            "webhook_concurrency": int(env_vars.get("PORTAL_WEBHOOK_CONCURRENCY", "64")),
            "webhook_per_endpoint": int(env_vars.get("PORTAL_WEBHOOK_PER_ENDPOINT", "4")),
        }
    except ValueError as exc:
        raise ConfigError(f"a PORTAL_WEBHOOK_* setting is not a number: {exc}") from None
    if values["webhook_lease_seconds"] <= values["webhook_timeout_seconds"]:
        raise ConfigError(
            "PORTAL_WEBHOOK_LEASE_SECONDS must be longer than PORTAL_WEBHOOK_TIMEOUT_SECONDS"
        )
    if (
        values["webhook_concurrency"] < 1
        or values["webhook_per_endpoint"] < 1
        or values["webhook_poll_seconds"] <= 0
    ):
        raise ConfigError(
            "PORTAL_WEBHOOK_CONCURRENCY, _PER_ENDPOINT and _POLL_SECONDS must be positive"
        )
    return values


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
