"""A calendar feed: a secret link an account gives its calendar app; only the token's SHA-256 is stored."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from matcher import clock
from matcher.auth.models import Account
from matcher.dbtypes import UtcDateTime
from matcher.extensions import db


class CalendarFeed(db.Model):
    """One feed link of an account. A new link revokes the old one; a revoked link answers 404."""

    __tablename__ = "calendar_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=clock.now)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)

    account: Mapped[Account] = relationship(lazy="joined")
