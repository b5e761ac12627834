"""SQLite as `make run` uses it (issue 16): a file database in WAL mode whose writers wait their turn (busy timeout)
rather than failing with "database is locked" while another one (an import) writes."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text

from matcher import create_app
from matcher.extensions import db


@pytest.fixture
def file_app(tmp_path):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'xintu.db'}",
                      "SQLITE_BUSY_TIMEOUT_MS": 10_000})
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def test_a_file_database_is_in_wal_mode_with_a_busy_timeout(file_app):
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10_000
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_a_memory_database_is_left_in_its_own_journal_mode():
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with app.app_context():
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "memory"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        db.engine.dispose()


def test_a_write_waits_for_the_writer_before_it_and_succeeds(file_app):
    engine = db.engine
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE counter (n INTEGER)"))
    holding = threading.Event()

    def long_writer():
        with engine.begin() as connection:  # BEGIN IMMEDIATE: holds the write lock from here
            connection.execute(text("INSERT INTO counter VALUES (1)"))
            holding.set()
            time.sleep(1.0)

    writer = threading.Thread(target=long_writer)
    writer.start()
    assert holding.wait(10)
    started = time.monotonic()
    with engine.begin() as connection:  # no OperationalError: it waits its turn
        connection.execute(text("INSERT INTO counter VALUES (2)"))
    waited = time.monotonic() - started
    writer.join()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT n FROM counter ORDER BY n")).scalars().all() == [1, 2]
    assert waited > 0.3  # it did wait for the first writer's commit
