"""Every change a user makes, audited without a call in each service: after each flush inside a request, one
event per row created, changed or deleted (the table, the row's id and, for a change, the names of the columns
changed; never a value).

The candidate file, referrals and accounts are left out here because their services record richer events
themselves (`read` of sensitive fields, `consent`, `visit`, a referral's `move`, `login` ...); bookkeeping
tables (the audit log itself, idempotency keys, job progress, notifications) are left out because they are not
changes to the records. A command that acts as an account (matcher.commands: imports, retention, plans, training)
is audited the same way, naming that account (by default `system`); seeding acts as nobody and is not (recording
every row a seed writes would add nothing but volume).

Changes made with Core statements (seat counters, a fair plan's rows) do not pass through the ORM's flush: the
services that make them record an event of their own where it matters (a plan run is an ORM row, so it is here).
"""

from __future__ import annotations

from flask import g, has_app_context, has_request_context
from sqlalchemy import event as sa_event
from sqlalchemy import inspect
from sqlalchemy.orm import Session

from matcher.audit.service import record
from matcher.policy import ActorRef

# Audited by their own services with more telling actions, or not records at all.
NOT_HERE = frozenset({
    "candidates", "candidate_skills", "certificates", "preferred_courses", "risk_assessments", "consents",
    "visits", "referrals", "referral_events", "accounts", "api_tokens",
    "audit_events", "idempotency_keys", "jobs", "notifications",
})


def _acting() -> tuple[bool, ActorRef | None]:
    """Whether changes are audited here, and by whom: in a request, the account its loader noted (matcher.ops);
    in a command, the account it acts as. Never loads one (a query in the middle of a flush would be unsafe)."""
    if not has_app_context():
        return False, None
    noted = g.get("xintu_actor")
    actor = ActorRef(*noted) if noted else None
    return has_request_context() or actor is not None, actor


def _table(obj) -> str | None:
    table = getattr(obj, "__tablename__", None)
    return None if table is None or table in NOT_HERE else table


def _row_id(obj) -> int | None:
    identity = inspect(obj).identity
    if identity and len(identity) == 1 and isinstance(identity[0], int):
        return identity[0]
    value = getattr(obj, "id", None)  # a new row's identity is only set once the flush is over
    return value if isinstance(value, int) else None


def _changed_columns(obj) -> list[str]:
    state = inspect(obj)
    return [attr.key for attr in state.mapper.column_attrs if state.attrs[attr.key].history.has_changes()]


def _after_flush(session: Session, flush_context) -> None:
    audited, actor = _acting()
    if not audited:
        return
    for obj in session.new:
        if (table := _table(obj)) is not None:
            record(session, actor=actor, action="create", object_type=table, object_id=_row_id(obj))
    for obj in session.dirty:
        if (table := _table(obj)) is not None and session.is_modified(obj, include_collections=False):
            changed = _changed_columns(obj)
            if changed:
                record(session, actor=actor, action="update", object_type=table, object_id=_row_id(obj),
                       fields=changed)
    for obj in session.deleted:
        if (table := _table(obj)) is not None:
            record(session, actor=actor, action="delete", object_type=table, object_id=_row_id(obj))


def connect() -> None:
    if not sa_event.contains(Session, "after_flush", _after_flush):
        sa_event.listen(Session, "after_flush", _after_flush)
