"""Dates and times are shown in the network's time zone (PORTAL_TIME_ZONE), each time labelled
with the zone's name in the reader's language; a stored time is UTC."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from app import i18n
from app.config import ConfigError, load_settings

# 03:30 UTC on December 8 is still the evening of December 7 in Chicago (UTC-6).
# (CLDR puts a narrow no-break space, U+202F, before AM and PM.)
LATE_EVENING = datetime(2026, 12, 8, 3, 30, tzinfo=UTC)


@pytest.fixture
def zone() -> Iterator[None]:
    i18n.set_locale("en")
    yield
    i18n.set_time_zone("America/Chicago")
    i18n.set_locale("en")


def test_a_time_is_shown_where_the_network_is_and_says_so(zone):
    assert i18n.format_datetime(LATE_EVENING, "short") == "12/7/26, 9:30\u202fPM (Central Time)"
    assert i18n.format_date(LATE_EVENING) == "Dec 7, 2026"
    assert i18n.format_time(LATE_EVENING) == "9:30\u202fPM (Central Time)"
    # A naive time from the database is UTC too.
    assert i18n.format_time(LATE_EVENING.replace(tzinfo=None)) == "9:30\u202fPM (Central Time)"
    i18n.set_locale("es")
    assert i18n.format_datetime(LATE_EVENING, "short") == "7/12/26, 21:30 (hora central)"


def test_another_network_sets_its_own_zone(zone):
    i18n.set_time_zone("America/New_York")
    assert i18n.format_time(LATE_EVENING) == "10:30\u202fPM (Eastern Time)"
    assert i18n.format_date(LATE_EVENING) == "Dec 7, 2026"
    i18n.set_time_zone("UTC")
    assert i18n.format_date(LATE_EVENING) == "Dec 8, 2026"


def test_the_setting_is_checked_at_start():
    assert load_settings({}).time_zone == "America/Chicago"
    assert load_settings({"PORTAL_TIME_ZONE": "Africa/Mogadishu"}).time_zone == "Africa/Mogadishu"
    with pytest.raises(ConfigError, match="PORTAL_TIME_ZONE"):
        load_settings({"PORTAL_TIME_ZONE": "Central"})
