"""What the audit tests write, and what an attacker who can write the database does to it.

The test schema comes from the models, not the migrations, so it has no triggers refusing UPDATE and DELETE:
the tests stand where an attacker who dropped them stands.
"""

from __future__ import annotations

from sqlalchemy import select

from matcher.audit.keys import AuditKey
from matcher.audit.models import AuditEvent
from matcher.audit.service import GENESIS_HASH, event_hash, record
from matcher.extensions import db

OTHER_KEY = AuditKey(b"not-the-audit-key-but-as-long-as-one", source="a test")


def append_events(session, n: int) -> list[int]:
    events = [record(session, actor=None, action="read", object_type="candidate", object_id=i,
                     fields=("risk_grade",)) for i in range(1, n + 1)]
    session.commit()  # events are chained and written at commit
    return [event.id for event in events]


def rehash(session, *, start_id: int, key: AuditKey | None, key_id: str | None = None) -> None:
    """Recompute the chain from `start_id` on, as after an edit: with `key`, or with plain SHA-256 (`key=None`, the
    form of events from before the chain was keyed). The events claim `key_id`, by default that of `key`."""
    prev_hash = session.scalar(select(AuditEvent.hash).where(AuditEvent.id < start_id)
                               .order_by(AuditEvent.id.desc()).limit(1)) or GENESIS_HASH
    for event in session.scalars(select(AuditEvent).where(AuditEvent.id >= start_id).order_by(AuditEvent.id)):
        event.prev_hash = prev_hash
        event.key_id = key_id if key_id is not None else (key.key_id if key is not None else None)
        event.hash = prev_hash = event_hash(prev_hash, event, key=key)
    session.commit()


def run_cli(app, *args: str):
    """A command in its own session: on SQLite the test's open transaction would hold the write lock."""
    db.session.remove()
    return app.test_cli_runner().invoke(args=["audit", *args])
