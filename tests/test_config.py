"""Production refuses to start without a real secret key and real field encryption keys."""

from __future__ import annotations

import base64
import os
import subprocess
import sys

import pytest

from app.config import (
    DEVELOPMENT_SECRET,
    GENERATE_FIELD_KEY,
    ConfigError,
    load_settings,
)

GOOD_KEY = "k3Jq9-vX2mZp8WcR4tLs7NbY1hGd6FeA0uQo5iTr"
FIELD_KEY = base64.urlsafe_b64encode(bytes(range(32))).decode()
OLD_FIELD_KEY = base64.urlsafe_b64encode(bytes(range(32, 64))).decode()


@pytest.mark.parametrize(
    "key",
    [
        None,
        "",
        "   ",
        "changeme",
        "CHANGE-ME",
        "secret",
        DEVELOPMENT_SECRET,
        "short-but-random-9f3a",
    ],
)
def test_production_refuses_a_missing_placeholder_or_short_key(key):
    environ = {"PORTAL_ENV": "production"}
    if key is not None:
        environ["PORTAL_SECRET_KEY"] = key
    with pytest.raises(ConfigError, match="PORTAL_SECRET_KEY"):
        load_settings(environ)


def test_production_starts_with_a_real_key():
    settings = load_settings(
        {
            "PORTAL_ENV": "production",
            "PORTAL_SECRET_KEY": GOOD_KEY,
            "PORTAL_FIELD_KEYS": f"k2:{FIELD_KEY}, k1:{OLD_FIELD_KEY}",
        }
    )
    assert settings.production
    assert settings.secret_key == GOOD_KEY
    # The first key encrypts; the older one is still there to decrypt.
    assert settings.field_keys == (("k2", bytes(range(32))), ("k1", bytes(range(32, 64))))
    assert FIELD_KEY not in repr(settings)


def test_production_refuses_to_start_without_field_keys_and_says_how_to_make_one():
    with pytest.raises(ConfigError, match="PORTAL_FIELD_KEYS is missing") as refused:
        load_settings({"PORTAL_ENV": "production", "PORTAL_SECRET_KEY": GOOD_KEY})
    assert GENERATE_FIELD_KEY in str(refused.value)


@pytest.mark.parametrize(
    "value",
    [
        FIELD_KEY,  # no key id
        "k1:" + base64.urlsafe_b64encode(os.urandom(16)).decode(),  # 128 bits, not 256
        "k1:not base64!",
        "k 1:" + FIELD_KEY,
        "k1:enc:" + FIELD_KEY,
        f"k1:{FIELD_KEY},k1:{OLD_FIELD_KEY}",
        f"k1:{FIELD_KEY},",
    ],
)
@pytest.mark.parametrize("env", ["production", "development"])
def test_invalid_field_keys_are_refused(value, env):
    with pytest.raises(ConfigError, match="PORTAL_FIELD_KEYS"):
        load_settings(
            {"PORTAL_ENV": env, "PORTAL_SECRET_KEY": GOOD_KEY, "PORTAL_FIELD_KEYS": value}
        )


def test_the_key_generation_command_makes_a_key_production_accepts():
    code = GENERATE_FIELD_KEY.removeprefix("python -c '").removesuffix("'")
    made = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    settings = load_settings(
        {"PORTAL_ENV": "production", "PORTAL_SECRET_KEY": GOOD_KEY, "PORTAL_FIELD_KEYS": made}
    )
    ((kid, key),) = settings.field_keys
    assert made.startswith(f"{kid}:") and len(key) == 32


def test_development_derives_its_field_key_from_the_secret_key():
    first = load_settings({"PORTAL_SECRET_KEY": GOOD_KEY}).field_keys
    assert first == load_settings({"PORTAL_SECRET_KEY": GOOD_KEY}).field_keys
    assert first[0][0] == "dev" and len(first[0][1]) == 32
    assert load_settings({}).field_keys != first


def test_development_falls_back_to_a_marked_placeholder():
    settings = load_settings({})
    assert not settings.production
    assert settings.secret_key == DEVELOPMENT_SECRET


def test_an_unknown_environment_is_refused():
    with pytest.raises(ConfigError, match="PORTAL_ENV"):
        load_settings({"PORTAL_ENV": "prod"})


def test_idle_timeout_and_quick_exit_come_from_the_environment():
    settings = load_settings(
        {"PORTAL_SESSION_IDLE_MINUTES": "5", "PORTAL_QUICK_EXIT_URL": "https://example.org/"}
    )
    assert settings.session_idle_minutes == 5
    assert settings.quick_exit_url == "https://example.org/"
