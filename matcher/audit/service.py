"""Appending to the audit log, verifying its hash chain, and searching it (administrators only).

An event names who did what to which record, when and from where, and the *names* of the sensitive fields read
or changed; never their values. Events are only ever appended (the application has no way to change or delete
one; migration 0006 adds triggers that refuse UPDATE and DELETE) and each carries
`hash = sha256(prev_hash + canonical JSON of its content)`, so an edited or removed row breaks the chain at the
row itself or at the one after it, which `verify` reports.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable

from flask import has_request_context, request
from sqlalchemy import Select, select, text
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from matcher import clock
from matcher.audit.models import AuditEvent
from matcher.auth.models import Account, Role
from matcher.auth.scope import require_role

GENESIS_HASH = "0" * 64
# Any constant shared by every writer: pg_advisory_xact_lock(key) serialises appends on PostgreSQL.
ADVISORY_LOCK_KEY = 0x58_49_4E_54_55_41  # "XINTUA"
FIELDS_MAX = 300  # the column's length
VERIFY_BATCH = 1000
_PENDING = "audit_pending"  # session.info key: the events recorded in the open transaction, chained at commit

# The fields whose reading is recorded: what a caseworker's file shows and an employer never sees.
SENSITIVE_FIELDS = ("offence_category", "risk_grade", "id_number", "hukou", "residence_address")


def _fields_text(fields: Iterable[str]) -> str | None:
    names = sorted({str(name) for name in fields})
    if not names:
        return None
    joined = ",".join(names)
    if len(joined) > FIELDS_MAX:  # keep whole names, mark that some were left out
        joined = joined[:FIELDS_MAX - 2].rsplit(",", 1)[0] + ",…"
    return joined


def _canonical(event) -> bytes:
    content = {
        "at": clock.naive_utc(event.at).isoformat(timespec="microseconds"),  # the stored form, as first hashed
        "actor_id": event.actor_id,
        "actor_role": event.actor_role,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "fields": event.fields,
        "remote_addr": event.remote_addr,
    }
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def event_hash(prev_hash: str, event) -> str:
    """`event`: an AuditEvent or a row with its columns."""
    return hashlib.sha256(prev_hash.encode() + _canonical(event)).hexdigest()


def _serialise_appends(session: Session) -> None:
    """Two writers must not both read the same last hash. PostgreSQL: a transaction-scoped advisory lock,
    held until the caller commits or rolls back. SQLite: every transaction already begins IMMEDIATE (one
    writer at a time, see matcher/__init__.py), so there is nothing to add."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})


def record(session: Session, *, actor: Account | None, action: str, object_type: str, object_id: int | None = None,
           fields: Iterable[str] = (), remote_addr: str | None = None) -> AuditEvent:
    """Append one event in the caller's transaction: it is chained and written when the caller commits, and
    vanishes with a rollback (the event stands or falls with the change it describes). `fields` are names only.
    The remote address defaults to the request's.

    Chaining at commit keeps the lock that serialises appends at the very end of the transaction: a writer
    holding it takes no other lock, so it cannot deadlock with one that holds, say, a slot's row and waits."""
    if remote_addr is None and has_request_context():
        remote_addr = request.remote_addr
    event = AuditEvent(
        at=clock.now(), actor_id=actor.id if actor is not None else None,
        actor_role=actor.role.value if actor is not None else None, action=action, object_type=object_type,
        object_id=object_id, fields=_fields_text(fields), remote_addr=(remote_addr or None) and remote_addr[:45])
    session.connection()  # inside a transaction, so that its rollback forgets the event
    session.info.setdefault(_PENDING, []).append(event)
    return event


@sa_event.listens_for(Session, "before_commit")
def _chain_pending(session: Session) -> None:
    # The caller's own changes (and their row locks) first, then the append lock. The flush comes before
    # taking the pending events: flushing may record more (matcher.audit.changes).
    session.flush()
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    _serialise_appends(session)
    prev_hash = session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)) or GENESIS_HASH
    for event in pending:
        event.prev_hash = prev_hash
        event.hash = prev_hash = event_hash(prev_hash, event)
        session.add(event)
    session.flush()


@sa_event.listens_for(Session, "after_transaction_end")
def _forget_pending(session: Session, transaction) -> None:
    """A transaction that ends without commit (rollback, close) takes its events with it."""
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


def verify(session: Session, *, batch_size: int = VERIFY_BATCH) -> tuple[bool, int | None, int]:
    """Walk the chain in id order. Returns (ok, the id of the first event that does not fit, events checked).
    An edited event fails its own hash; a removed one makes the next event's prev_hash fail."""
    columns = [getattr(AuditEvent, name) for name in (
        "id", "at", "actor_id", "actor_role", "action", "object_type", "object_id", "fields", "remote_addr",
        "prev_hash", "hash")]
    expected_prev, checked, after = GENESIS_HASH, 0, 0
    while True:  # plain rows in batches: a long log never fills the session
        batch = session.execute(select(*columns).where(AuditEvent.id > after)
                                .order_by(AuditEvent.id).limit(batch_size)).all()
        if not batch:
            return True, None, checked
        for event in batch:
            checked += 1
            if event.prev_hash != expected_prev or event.hash != event_hash(event.prev_hash, event):
                return False, event.id, checked
            expected_prev = event.hash
        after = batch[-1].id


def search_events(*, session: Session, actor: Account, filters: dict) -> Select:
    """The audit log for administrators, newest first; everyone else: not found."""
    require_role(actor, Role.ADMINISTRATOR)
    return search_statement(filters)


def search_statement(filters: dict) -> Select:
    stmt = select(AuditEvent)
    for key, column in (("actor_id", AuditEvent.actor_id), ("object_type", AuditEvent.object_type),
                        ("object_id", AuditEvent.object_id), ("action", AuditEvent.action)):
        if filters.get(key) not in (None, ""):
            stmt = stmt.where(column == filters[key])
    # A day is China's calendar day (00:00 to 24:00 China time), as the pages show the times.
    if filters.get("date_from"):
        stmt = stmt.where(AuditEvent.at >= clock.china_midnight(filters["date_from"]))
    if filters.get("date_to"):
        stmt = stmt.where(AuditEvent.at < clock.china_midnight(filters["date_to"] + dt.timedelta(days=1)))
    return stmt.order_by(AuditEvent.id.desc())


def verify_for(*, session: Session, actor: Account) -> tuple[bool, int | None, int]:
    require_role(actor, Role.ADMINISTRATOR)
    return verify(session)


def actor_id_for(session: Session, username: str) -> int | None:
    return session.scalar(select(Account.id).where(Account.username == username))


def usernames(session: Session) -> dict[int, str]:
    return dict(session.execute(select(Account.id, Account.username)).all())
