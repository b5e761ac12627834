"""Appending to the audit log, verifying its hash chain and its anchors, and searching it (administrators only).

An event names who did what to which record, when and from where, and the *names* of the sensitive fields read
or changed; never their values. Events are only ever appended (the application has no way to change or delete
one; migration 0006 adds triggers that refuse UPDATE and DELETE) and each carries
`hash = HMAC-SHA256(audit key, prev_hash + canonical JSON of its content)` and the id of the key (`key_id`), so an
edited or removed row breaks the chain at the row itself or at the one after it, which `verify` reports, and
whoever can write the database but lacks the key (matcher.audit.keys) cannot recompute the chain. Events written
before the chain was keyed (`key_id` NULL) keep their plain SHA-256 and may only come first.

Removing the newest events would still leave a valid shorter chain: `checkpoint` appends signed anchors of the
chain's head to a file outside the database (matcher.audit.anchors), and `verify_anchors` checks the database
still holds every anchored event.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

from flask import has_request_context, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, or_, select, text
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session, scoped_session

from matcher import clock, policy
from matcher.audit import anchors
from matcher.audit.anchors import Anchor
from matcher.audit.keys import AuditKey, current_key
from matcher.audit.models import AuditEvent
from matcher.auth.models import Account
from matcher.bulk import insert_rows, reserve_ids

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


def event_hash(prev_hash: str, event, *, key: AuditKey | None) -> str:
    """`event`: an AuditEvent or a row with its columns. With a key: HMAC-SHA256, as every event is written now;
    `key=None`: the plain SHA-256 of the events written before the chain was keyed (their key_id is NULL)."""
    message = prev_hash.encode() + _canonical(event)
    return key.sign(message) if key is not None else hashlib.sha256(message).hexdigest()


def _hash_holds(event, key: AuditKey) -> bool:
    """The event's own hash, by what its key_id claims: this key, or none (an event from before the key)."""
    if event.key_id is None:
        return event.hash == event_hash(event.prev_hash, event, key=None)
    return event.key_id == key.key_id and event.hash == event_hash(event.prev_hash, event, key=key)


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
        actor_role=str(actor.role) if actor is not None else None, action=action, object_type=object_type,
        object_id=object_id, fields=_fields_text(fields), remote_addr=(remote_addr or None) and remote_addr[:45])
    session.connection()  # inside a transaction, so that its rollback forgets the event
    # The innermost transaction it was recorded in: a savepoint rolled back (matcher.uow.savepoint) forgets it.
    own = session() if isinstance(session, scoped_session) else session
    transaction = own.get_nested_transaction() or own.get_transaction()
    session.info.setdefault(_PENDING, []).append((transaction, event))
    return event


@dataclasses.dataclass(slots=True)
class BatchEvent:
    """An event recorded by `record_many`: the columns of an AuditEvent, written with others in one INSERT."""

    at: dt.datetime
    actor_id: int | None
    actor_role: str | None
    action: str
    object_type: str
    object_id: int | None
    fields: str | None
    remote_addr: str | None
    prev_hash: str | None = None
    hash: str | None = None
    key_id: str | None = None


def record_many(session: Session, *, actor: Account | None, action: str, object_type: str,
                events: Iterable[tuple[int | None, Iterable[str]]], remote_addr: str | None = None) -> None:
    """`record` for many objects at once, as (object_id, fields) pairs (a batch's creation events): the same
    events, chained at commit in this order like any other and written in bulk."""
    if remote_addr is None and has_request_context():
        remote_addr = request.remote_addr
    remote_addr = (remote_addr or None) and remote_addr[:45]
    at, actor_id, role = clock.now(), (actor.id if actor is not None else None), (
        str(actor.role) if actor is not None else None)
    session.connection()
    own = session() if isinstance(session, scoped_session) else session
    transaction = own.get_nested_transaction() or own.get_transaction()
    session.info.setdefault(_PENDING, []).extend(
        (transaction, BatchEvent(at=at, actor_id=actor_id, actor_role=role, action=action, object_type=object_type,
                                 object_id=object_id, fields=_fields_text(fields), remote_addr=remote_addr))
        for object_id, fields in events)


@sa_event.listens_for(Session, "before_commit")
def _chain_pending(session: Session) -> None:
    # The caller's own changes (and their row locks) first, then the append lock. The flush comes before
    # taking the pending events: flushing may record more (matcher.audit.changes).
    session.flush()
    pending = [event for _transaction, event in session.info.pop(_PENDING, [])]
    if not pending:
        return
    key = current_key()  # before the append lock: reading (or first making) the key file must not hold it
    _serialise_appends(session)
    prev_hash = session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)) or GENESIS_HASH
    batch: list[BatchEvent] = []
    for event in pending:
        event.prev_hash = prev_hash
        event.key_id = key.key_id
        event.hash = prev_hash = event_hash(prev_hash, event, key=key)
        # Written in the chain's order (ids follow it): a run of batch events in one INSERT, after the events
        # added before it and before those added after it.
        if isinstance(event, BatchEvent):
            if not batch:
                session.flush()
            batch.append(event)
        else:
            _insert_batch(session, batch)
            session.add(event)
    _insert_batch(session, batch)
    session.flush()


def _insert_batch(session: Session, batch: list[BatchEvent]) -> None:
    if batch:
        names, table = BatchEvent.__slots__, AuditEvent.__table__
        # Ids given in the chain's order: verify walks the ids.
        ids = reserve_ids(session, table, len(batch))
        insert_rows(session, table, [{"id": event_id, **{name: getattr(event, name) for name in names}}
                                     for event_id, event in zip(ids, batch, strict=True)])
        batch.clear()


@sa_event.listens_for(Session, "after_transaction_end")
def _forget_pending(session: Session, transaction) -> None:
    """A transaction that ends without commit (rollback, close) takes its events with it."""
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


@sa_event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, rolled_back) -> None:
    """A savepoint rolled back takes the events recorded inside it (or inside savepoints within it) with it."""
    pending = session.info.get(_PENDING)
    if pending:
        session.info[_PENDING] = [(t, e) for t, e in pending if not _within(t, rolled_back)]


def _within(transaction, outer) -> bool:
    while transaction is not None:
        if transaction is outer:
            return True
        transaction = transaction.parent
    return False


class ChainVerification(NamedTuple):
    """Compares equal to the (ok, first_bad_id, checked) tuple `verify` always returned."""

    ok: bool
    first_bad_id: int | None
    checked: int


_CHAIN_COLUMNS = [getattr(AuditEvent, name) for name in (
    "id", "at", "actor_id", "actor_role", "action", "object_type", "object_id", "fields", "remote_addr",
    "prev_hash", "hash", "key_id")]


def verify(session: Session, *, key: AuditKey | None = None, batch_size: int = VERIFY_BATCH) -> ChainVerification:
    """Walk the chain in id order. Returns (ok, the id of the first event that does not fit, events checked).
    An edited event fails its own hash; a removed one makes the next event's prev_hash fail; one hashed without
    the key (or with another) fails its own hash.

    Events from before the chain was keyed (key_id NULL, plain SHA-256) are accepted only before the first keyed
    event, whose prev_hash binds their head: a plain event after a keyed one is refused, or whoever can write the
    database could re-hash a tail without the key."""
    key = key or current_key()
    expected_prev, checked, after, keyed = GENESIS_HASH, 0, 0, False
    while True:  # plain rows in batches: a long log never fills the session
        batch = session.execute(select(*_CHAIN_COLUMNS).where(AuditEvent.id > after)
                                .order_by(AuditEvent.id).limit(batch_size)).all()
        if not batch:
            return ChainVerification(True, None, checked)
        for event in batch:
            checked += 1
            if event.prev_hash != expected_prev or (keyed and event.key_id is None) or not _hash_holds(event, key):
                return ChainVerification(False, event.id, checked)
            expected_prev, keyed = event.hash, event.key_id is not None
        after = batch[-1].id


class CheckpointRefused(Exception):
    """The log's head does not hold with this key: anchoring it would vouch for it."""


def checkpoint(session: Session, *, key: AuditKey | None = None, path: Path | None = None) -> Anchor | None:
    """Append a signed anchor of the chain's head to the anchor file; None when the log is empty.

    Refused when the newest event does not hold with this key, which is what a command run without the web's
    key would see (cron without XINTU_AUDIT_KEY) or an edited head."""
    key, path = key or current_key(), path or anchors.anchor_path()
    head = session.execute(select(*_CHAIN_COLUMNS).order_by(AuditEvent.id.desc()).limit(1)).first()
    if head is None:
        return None
    if head.key_id not in (None, key.key_id):
        raise CheckpointRefused(f"the newest event, {head.id}, was signed by key {head.key_id}, not by this key "
                                f"({key.key_id}, from {key.source}): give this command the web's audit key")
    if not _hash_holds(head, key):
        raise CheckpointRefused(f"the newest event, {head.id}, does not match its hash: the log was changed")
    # Ids are given under the append lock, so every event up to the head is already committed.
    events = session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.id <= head.id))
    anchor = Anchor(event_id=head.id, hash=head.hash, events=events,
                    at=clock.rfc3339(clock.now()), key_id=key.key_id)
    anchors.append(path, anchor.line(key))
    return anchor


class AnchorFault(enum.StrEnum):
    FILE_UNREADABLE = "file_unreadable"
    UNREADABLE = "unreadable"  # the line is not a checkpoint
    OTHER_KEY = "other_key"
    SIGNATURE = "signature"
    EVENT = "event"  # the anchored event is gone, or its hash changed
    COUNT = "count"  # fewer events than the anchor counted


@dataclasses.dataclass(frozen=True)
class AnchorProblem:
    """The first anchor that does not hold: its line in the file (None: the file itself) and why."""

    line: int | None
    fault: AnchorFault
    event_id: int | None = None
    anchored: int | None = None  # events the anchor counted
    held: int | None = None  # events the log holds

    @property
    def message(self):
        match self.fault:
            case AnchorFault.FILE_UNREADABLE:
                return _l("The anchor file cannot be read.")
            case AnchorFault.UNREADABLE:
                return _l("The anchor on line %(line)s cannot be read: it is not a checkpoint.", line=self.line)
            case AnchorFault.OTHER_KEY:
                return _l("The anchor on line %(line)s was signed with another key than the audit log's.",
                          line=self.line)
            case AnchorFault.SIGNATURE:
                return _l("The anchor on line %(line)s was altered: its signature does not match.", line=self.line)
            case AnchorFault.EVENT:
                return _l("Event %(id)s, anchored on line %(line)s, is missing or was changed: the log was cut or "
                          "rewritten.", id=self.event_id, line=self.line)
            case AnchorFault.COUNT:
                return _l("The anchor on line %(line)s counted %(anchored)s events but the log holds %(held)s: "
                          "events were removed.", line=self.line, anchored=self.anchored, held=self.held)


@dataclasses.dataclass(frozen=True)
class AnchorVerification:
    path: Path
    checked: int  # anchors read
    latest: Anchor | None  # the newest anchor whose signature holds
    problem: AnchorProblem | None

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def failing_line(self) -> int | None:
        return self.problem.line if self.problem is not None else None

    @property
    def message(self):
        return self.problem.message if self.problem is not None else None


def verify_anchors(session: Session, *, key: AuditKey | None = None, path: Path | None = None) -> AnchorVerification:
    """Every anchor in the file must be signed with this key, and the database must still hold each anchored
    event with its hash and at least as many events as the anchor counted. No file: nothing to check (yet)."""
    key, path = key or current_key(), path or anchors.anchor_path()
    problems: list[AnchorProblem] = []
    signed: list[anchors.AnchorLine] = []
    checked = 0
    try:
        for line in anchors.read(path):
            checked += 1
            if line.anchor is None:
                problems.append(AnchorProblem(line.number, AnchorFault.UNREADABLE))
            elif line.anchor.key_id != key.key_id:
                problems.append(AnchorProblem(line.number, AnchorFault.OTHER_KEY))
            elif not line.signed_by(key):
                problems.append(AnchorProblem(line.number, AnchorFault.SIGNATURE))
            else:
                signed.append(line)
    except OSError:
        return AnchorVerification(path, checked, None, AnchorProblem(None, AnchorFault.FILE_UNREADABLE))
    held = session.scalar(select(func.count()).select_from(AuditEvent))
    hashes = _hashes(session, sorted({line.anchor.event_id for line in signed}))
    for line in signed:
        anchor = line.anchor
        if hashes.get(anchor.event_id) != anchor.hash:
            problems.append(AnchorProblem(line.number, AnchorFault.EVENT, event_id=anchor.event_id))
        elif held < anchor.events:
            problems.append(AnchorProblem(line.number, AnchorFault.COUNT, anchored=anchor.events, held=held))
    first = min(problems, key=lambda problem: problem.line, default=None)
    return AnchorVerification(path, checked, signed[-1].anchor if signed else None, first)


def _hashes(session: Session, event_ids: list[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    for start in range(0, len(event_ids), VERIFY_BATCH):
        chunk = event_ids[start:start + VERIFY_BATCH]
        found.update(session.execute(select(AuditEvent.id, AuditEvent.hash).where(AuditEvent.id.in_(chunk))).all())
    return found


@dataclasses.dataclass(frozen=True)
class LogVerification:
    """The chain and the anchors, checked with one key."""

    chain: ChainVerification
    anchors: AnchorVerification
    legacy_events: int  # plain SHA-256 events from before the chain was keyed
    key: AuditKey

    @property
    def ok(self) -> bool:
        return self.chain.ok and self.anchors.ok


def verify_log(session: Session, *, batch_size: int = VERIFY_BATCH) -> LogVerification:
    key = current_key()
    return LogVerification(
        chain=verify(session, key=key, batch_size=batch_size), anchors=verify_anchors(session, key=key),
        legacy_events=session.scalar(select(func.count()).select_from(AuditEvent)
                                     .where(AuditEvent.key_id.is_(None))),
        key=key)


def search_events(*, session: Session, actor: Account, filters: dict) -> Select:
    """The audit log for administrators, newest first; everyone else: not found."""
    policy.require(actor, policy.Rule.AUDIT_READ)
    return search_statement(filters)


def search_statement(filters: dict) -> Select:
    stmt = select(AuditEvent)
    if filters.get("actor_username"):  # a username that names nobody matches nothing
        stmt = stmt.where(AuditEvent.actor_id == select(Account.id).where(
            Account.username == filters["actor_username"]).scalar_subquery())
    for key, column in (("actor_id", AuditEvent.actor_id), ("object_type", AuditEvent.object_type),
                        ("object_id", AuditEvent.object_id), ("action", AuditEvent.action)):
        if filters.get(key) not in (None, ""):
            stmt = stmt.where(column == filters[key])
    # A day is China's calendar day (00:00 to 24:00 China time), as the pages show the times.
    if filters.get("date_from"):
        stmt = stmt.where(AuditEvent.at >= clock.china_midnight(filters["date_from"]))
    if filters.get("date_to"):
        stmt = stmt.where(AuditEvent.at < clock.china_midnight(filters["date_to"] + dt.timedelta(days=1)))
    query = (filters.get("q") or "").strip()
    if query:  # any part of the username or of the field names; a number is also the record's id
        matches = [AuditEvent.actor_id.in_(select(Account.id).where(Account.username.contains(query, autoescape=True))),
                   AuditEvent.fields.contains(query, autoescape=True)]
        if query.lstrip("#").isdigit():
            matches.append(AuditEvent.object_id == int(query.lstrip("#")))
        if filters.get("q_actions"):  # the actions whose shown name holds the words (读取 finds the reads)
            matches.append(AuditEvent.action.in_(filters["q_actions"]))
        if filters.get("q_object_types"):
            matches.append(AuditEvent.object_type.in_(filters["q_object_types"]))
        stmt = stmt.where(or_(*matches))
    sort = filters.get("sort") or "-id"
    if sort.lstrip("-") not in SORT_COLUMNS:
        sort = "-id"
    if sort.lstrip("-") == "id":
        return stmt.order_by(AuditEvent.id.desc() if sort.startswith("-") else AuditEvent.id.asc())
    column = SORT_COLUMNS[sort.lstrip("-")]  # as matcher.apiutil.apply_sort, which imports what imports this
    return stmt.order_by(column.desc() if sort.startswith("-") else column.asc(), AuditEvent.id.desc())


# The columns the log may be sorted by (`sort`, "-" in front for descending; newest first by default).
SORT_COLUMNS = {"id": AuditEvent.id, "at": AuditEvent.at, "action": AuditEvent.action,
                "object_type": AuditEvent.object_type,
                "actor": select(Account.username).where(Account.id == AuditEvent.actor_id).scalar_subquery()}


def actions(session: Session) -> list[str]:
    """The actions the log holds, for the search form's choice."""
    return list(session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))


def object_types(session: Session) -> list[str]:
    """The kinds of record the log names, for the search form's choice."""
    return list(session.scalars(select(AuditEvent.object_type).distinct().order_by(AuditEvent.object_type)))


def verify_log_for(*, session: Session, actor: Account) -> LogVerification:
    policy.require(actor, policy.Rule.AUDIT_READ)
    return verify_log(session)


def actor_id_for(session: Session, username: str) -> int | None:
    return session.scalar(select(Account.id).where(Account.username == username))


def usernames(session: Session) -> dict[int, str]:
    return dict(session.execute(select(Account.id, Account.username)).all())
