"""Production refuses to start without a real secret key."""

from __future__ import annotations

import pytest

from app.config import DEVELOPMENT_SECRET, ConfigError, load_settings

GOOD_KEY = "k3Jq9-vX2mZp8WcR4tLs7NbY1hGd6FeA0uQo5iTr"


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
    settings = load_settings({"PORTAL_ENV": "production", "PORTAL_SECRET_KEY": GOOD_KEY})
    assert settings.production
    assert settings.secret_key == GOOD_KEY


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
