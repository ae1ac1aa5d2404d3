"""Each organization's section of the home page, kept rendered while nothing in it changes.

Its own file: the read model (app/home/read_model.py) says what a section shows, this says
how long a rendered one may be reused.

A participant's home page shows everything every organization holds about them: with five
organizations of 40 holdings each it is ~280 KB of HTML, and rendering it is most of the cost
of the page (bench/home_page.py). Yet between two visits usually nothing changed, or only one
organization's part did. So each section is kept, in this process's memory, under a key that
changes whenever what it shows could change:

- the enrollment's `record_version` and the organization's `plan_version`, which grow in the
  same transaction as any change (app/participants/record_version.py), so every process sees
  them;
- the page's language;
- and it is used only until the first moment its content depends on the clock (a consent that
  expires, a correction that becomes overdue).

Only sections without any per-visit notice are kept (pages with query parameters such as
`?show=` or `?sent=` render fresh), and a section holds no CSRF token or other secret of the
session. The store is bounded in bytes, least recently used first out; a participant's
sections are dropped when they log out, and any section leaves memory five minutes after it
was stored, at the next home page anyone opens in this process.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup

from app.organizations.models import Organization
from app.participants.models import Enrollment

# (enrollment id, record_version, plan_version, locale)
SectionKey = tuple[str, int, int, str]


@dataclass(frozen=True)
class Section:
    html: Markup
    valid_until: datetime | None  # the first moment the clock changes what it shows
    stored_at: float  # time.monotonic()


class SectionCache:
    def __init__(self, max_bytes: int, ttl_seconds: float = 300.0) -> None:
        self.max_bytes = max_bytes
        self.ttl_seconds = ttl_seconds
        self._sections: OrderedDict[SectionKey, Section] = OrderedDict()
        self._swept_at = time.monotonic()
        self._bytes = 0
        self._lock = threading.Lock()  # sync code paths may share the process with async ones
        self.hits = 0
        self.misses = 0

    def get(self, key: SectionKey, now: datetime) -> Markup | None:
        with self._lock:
            self._drop_old()
            section = self._sections.get(key)
            if section is None or self._expired(section, now):
                if section is not None:
                    self._drop(key)
                self.misses += 1
                return None
            self._sections.move_to_end(key)
            self.hits += 1
            return section.html

    def put(self, key: SectionKey, html: Markup, valid_until: datetime | None) -> None:
        size = len(html)
        if self.max_bytes <= 0 or size > self.max_bytes:
            return
        with self._lock:
            self._drop_old()
            if key in self._sections:
                self._drop(key)
            # Older versions of the same section can never be asked for again.
            for stale in [k for k in self._sections if k[0] == key[0] and k[3] == key[3]]:
                self._drop(stale)
            self._sections[key] = Section(html, valid_until, time.monotonic())
            self._bytes += size
            while self._bytes > self.max_bytes:
                self._drop(next(iter(self._sections)))

    def forget_enrollments(self, enrollment_ids: set[str]) -> None:
        """Log out: what the participant's sections hold leaves memory with them."""
        with self._lock:
            for key in [k for k in self._sections if k[0] in enrollment_ids]:
                self._drop(key)

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._sections)

    def _expired(self, section: Section, now: datetime) -> bool:
        if time.monotonic() - section.stored_at > self.ttl_seconds:
            return True
        return section.valid_until is not None and now >= section.valid_until

    def _drop_old(self) -> None:
        """Past their time, sections leave memory even if nobody asks for them again. The
        sweep runs at most ten times per lifetime, not on every look-up of every request."""
        now = time.monotonic()
        if now - self._swept_at < self.ttl_seconds / 10:
            return
        self._swept_at = now
        oldest = now - self.ttl_seconds
        for key in [k for k, section in self._sections.items() if section.stored_at < oldest]:
            self._drop(key)

    def _drop(self, key: SectionKey) -> None:
        section = self._sections.pop(key)
        self._bytes -= len(section.html)


def section_key(enrollment: Enrollment, organization: Organization, locale: str) -> SectionKey:
    return (enrollment.id, enrollment.record_version, organization.plan_version, locale)
