"""The hash chain: it verifies, an edited or removed event is found, and parallel writers never fork it."""

from __future__ import annotations

import threading

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, func, select, text, update
from sqlalchemy.exc import DatabaseError

from matcher import MIGRATIONS_DIR, create_app
from matcher.audit.models import AuditEvent
from matcher.audit.service import record, verify
from matcher.extensions import db
from tests.audit.tampering import append_events

WRITERS = 20


def test_an_intact_chain_verifies_in_batches(app, session):
    append_events(session, 25)
    assert verify(session, batch_size=7) == (True, None, 25)
    assert verify(session) == (True, None, 25)


def test_an_empty_log_verifies(app, session):
    assert verify(session) == (True, None, 0)


@pytest.mark.parametrize("column, value", [("fields", "name"), ("object_id", 999), ("action", "create"),
                                           ("actor_role", "administrator"), ("remote_addr", "10.0.0.1")])
def test_an_edited_event_is_found(app, session, column, value):
    ids = append_events(session, 10)
    # The test schema comes from the models (no triggers): an attacker who dropped them could do this.
    session.execute(update(AuditEvent).where(AuditEvent.id == ids[4]).values({column: value}))
    session.commit()
    assert verify(session, batch_size=3) == (False, ids[4], 5)


def test_an_edited_event_with_a_recomputed_own_hash_breaks_the_next(app, session):
    """Even with the key, an event re-signed alone no longer fits the next event's prev_hash."""
    from matcher.audit.keys import current_key
    from matcher.audit.service import event_hash

    ids = append_events(session, 10)
    event = session.get(AuditEvent, ids[4])
    event.fields = "name"
    new_hash = event_hash(event.prev_hash, event, key=current_key())
    session.execute(update(AuditEvent).where(AuditEvent.id == ids[4]).values(fields="name", hash=new_hash))
    session.commit()
    session.expire_all()
    assert verify(session) == (False, ids[5], 6)


def test_a_removed_event_is_found_at_the_next(app, session):
    ids = append_events(session, 10)
    session.execute(AuditEvent.__table__.delete().where(AuditEvent.id == ids[6]))
    session.commit()
    assert verify(session) == (False, ids[7], 7)


def test_the_first_event_removed_is_found(app, session):
    ids = append_events(session, 3)
    session.execute(AuditEvent.__table__.delete().where(AuditEvent.id == ids[0]))
    session.commit()
    assert verify(session) == (False, ids[1], 1)


def test_parallel_writers_leave_one_valid_chain(app, world, session):
    """Twenty threads append at the same moment (SQLite: BEGIN IMMEDIATE; PostgreSQL: the advisory lock)."""
    cw = world.accounts["cw_a"]
    before = session.scalar(select(func.count()).select_from(AuditEvent))
    db.session.refresh(cw)
    db.session.expunge(cw)
    db.session.remove()
    barrier = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def write(n: int) -> None:
        with app.app_context():
            try:
                barrier.wait()
                for _ in range(3):
                    record(db.session, actor=cw, action="read", object_type="candidate", object_id=n,
                           fields=("offence_category",))
                    db.session.commit()
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    with app.app_context():
        total = db.session.scalar(select(func.count()).select_from(AuditEvent))
        assert total == before + 3 * WRITERS
        assert verify(db.session) == (True, None, total)
        # One chain: every prev_hash is used exactly once.
        prevs = list(db.session.scalars(select(AuditEvent.prev_hash)))
        assert len(set(prevs)) == len(prevs)
        db.session.remove()


def test_the_migrated_database_refuses_update_and_delete(database_url, tmp_path):
    """Migration 0006's triggers: the application cannot change or delete an event, whatever it tries."""
    from sqlalchemy import make_url

    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        fresh = f"sqlite:///{tmp_path / 'triggers.db'}"
        admin = None
    else:
        name = f"{url.database}_triggers"
        admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        fresh = url.set(database=name).render_as_string(hide_password=False)
    try:
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": fresh, "AUDIT_KEY": "a" * 32})
        with app.app_context():
            upgrade(directory=MIGRATIONS_DIR)
            event = record(db.session, actor=None, action="read", object_type="candidate")
            db.session.commit()
            event_id = event.id
            for statement in (update(AuditEvent).where(AuditEvent.id == event_id).values(fields="x"),
                              AuditEvent.__table__.delete().where(AuditEvent.id == event_id)):
                with pytest.raises(DatabaseError, match="append-only"):
                    db.session.execute(statement)
                    db.session.commit()
                db.session.rollback()
            assert verify(db.session) == (True, None, 1)
            db.session.remove()
            db.engine.dispose()
    finally:
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def test_a_rolled_back_change_leaves_no_event(app, session):
    record(session, actor=None, action="update", object_type="candidate", object_id=1, fields=("phone",))
    session.rollback()
    record(session, actor=None, action="update", object_type="candidate", object_id=2, fields=("phone",))
    session.commit()
    assert list(session.scalars(select(AuditEvent.object_id))) == [2]
    assert verify(session) == (True, None, 1)


def test_events_recorded_in_bulk_are_chained_in_their_order_among_the_others(app, session):
    from matcher.audit.service import record_many

    record(session, actor=None, action="create", object_type="company", object_id=1)
    record_many(session, actor=None, action="create", object_type="candidate",
                events=[(id_, ["name", "id_number"]) for id_ in (7, 8, 9)])
    record(session, actor=None, action="create", object_type="company", object_id=2)
    savepoint = session.begin_nested()  # a batch undone with its savepoint leaves no event
    record_many(session, actor=None, action="create", object_type="candidate", events=[(10, ["name"])])
    savepoint.rollback()
    session.commit()
    events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [(e.object_type, e.object_id, e.fields) for e in events] == [
        ("company", 1, None), ("candidate", 7, "id_number,name"), ("candidate", 8, "id_number,name"),
        ("candidate", 9, "id_number,name"), ("company", 2, None)]
    assert verify(session) == (True, None, 5)
