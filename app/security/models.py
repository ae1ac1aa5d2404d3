"""Server-side sessions and login throttles, kept in the database so that they hold when
several processes serve behind a load balancer."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, utcnow


class WebSession(SQLModel, table=True):
    """A signed-in browser. The cookie holds a random token; only its SHA-256 is stored, so a
    database leak does not hand out live sessions."""

    __tablename__ = "web_session"
    token_hash: str = Field(primary_key=True, max_length=64)
    kind: str = Field(max_length=20)  # participant | staff | admin
    participant_id: str | None = Field(default=None, foreign_key="participant.id", index=True)
    staff_id: int | None = Field(default=None, foreign_key="staff.id", index=True)
    admin_id: int | None = Field(default=None, foreign_key="network_admin.id", index=True)
    csrf_secret: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class LoginThrottle(SQLModel, table=True):
    """Failed logins per named limiter and key, e.g. ("participant.login", "maria")."""

    __tablename__ = "login_throttle"
    scope: str = Field(primary_key=True, max_length=40)
    key: str = Field(primary_key=True, max_length=254)
    failures: int = 0
    last_failure_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
