"""Audit events: who did what to which record, when and from where; never the sensitive values themselves.

Each event carries the HMAC-SHA256 (keyed with a secret kept out of the database, matcher.audit.keys) of its own
content and of the previous event's hash (`prev_hash`), and the id of that key; events written before the chain was
keyed carry a plain SHA-256 and no key id. Editing or deleting a row breaks the chain from there on;
`flask audit verify` walks it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from matcher import clock
from matcher.audit.keys import KEY_ID_LENGTH
from matcher.dbtypes import UtcDateTime
from matcher.extensions import db


class AuditEvent(db.Model):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_object", "object_type", "object_id"),
        Index("ix_audit_events_actor_at", "actor_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=clock.now, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))  # None: the system (a command)
    actor_role: Mapped[str | None] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(24))  # read, create, update, delete, export, login, archive ...
    object_type: Mapped[str] = mapped_column(String(32))  # candidate, referral, account, export ...
    object_id: Mapped[int | None] = mapped_column(Integer)
    fields: Mapped[str | None] = mapped_column(String(300))  # names of the sensitive fields read or changed
    remote_addr: Mapped[str | None] = mapped_column(String(45))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The key that signed `hash` (first 16 hex digits of its SHA-256); NULL: a plain SHA-256 from before the key.
    key_id: Mapped[str | None] = mapped_column(String(KEY_ID_LENGTH))


class IdempotencyKey(db.Model):
    """A request made with an `Idempotency-Key` header: a retry with the same key gets the first answer."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (db.UniqueConstraint("account_id", "key", name="uq_idempotency_keys_account_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(100))
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))  # the same key with another body is refused
    status: Mapped[int | None] = mapped_column(Integer)  # None while the first request is still running
    response_body: Mapped[str | None] = mapped_column(db.Text)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=clock.now)
