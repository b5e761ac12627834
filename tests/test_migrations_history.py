"""Migration 0017_history fills the milestone of the referrals already stored: a placement in place is at its
status; one that ended (left) reached the furthest stay its events recorded."""

from __future__ import annotations

import datetime as dt

from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from matcher import MIGRATIONS_DIR, create_app
from matcher.extensions import db
from tests.test_migrations import fresh_database_url  # noqa: F401 - the fixture

BEFORE = "0016_external_ids"
REFERRALS = {  # id: (status, started, the statuses its events reached after proposed)
    1: ("stayed_90", True, ("started", "stayed_30", "stayed_90")),
    2: ("left", True, ("started", "stayed_30", "stayed_90", "left")),
    3: ("left", True, ("started", "left")),
    4: ("declined", False, ("sent", "declined")),
    5: ("left", True, ("left",)),  # an import of old: no stay recorded, yet it started
}


def _store_referrals(connection) -> None:
    """Referrals and their events as rows (the parents they point to are not the point here: foreign keys are
    not checked while they are written)."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET session_replication_role = replica")
    at, day = dt.datetime(2025, 1, 1), dt.date(2025, 1, 1)  # noqa: DTZ001 - stored naive UTC, as the column is
    for referral_id, (status, started, steps) in REFERRALS.items():
        connection.execute(text(
            "INSERT INTO referrals (id, candidate_id, slot_id, status, holds_seat, started_on, created_at, "
            "updated_at) VALUES (:id, 1, 1, :status, false, :started, :at, :at)"),
            {"id": referral_id, "status": status, "started": day if started else None, "at": at})
        for to in ("proposed", *steps):
            connection.execute(text("INSERT INTO referral_events (referral_id, to_status, on_date, at) "
                                    "VALUES (:id, :to, :day, :at)"),
                               {"id": referral_id, "to": to, "day": day, "at": at})


def test_existing_referrals_get_their_milestone(fresh_database_url):  # noqa: F811 - the fixture
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": fresh_database_url,
                      "AUDIT_KEY": "test-audit-key-of-at-least-32-bytes"})
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR, revision=BEFORE)
        if db.engine.dialect.name == "sqlite":
            raw = db.engine.raw_connection()  # outside a transaction, where SQLite lets foreign keys be switched off
            raw.cursor().execute("PRAGMA foreign_keys=OFF")
            raw.close()
        with db.engine.begin() as connection:
            _store_referrals(connection)
        upgrade(directory=MIGRATIONS_DIR)
        with db.engine.connect() as connection:
            milestones = dict(connection.execute(text("SELECT id, milestone FROM referrals ORDER BY id")).all())
        assert milestones == {1: "stayed_90", 2: "stayed_90", 3: "started", 4: None, 5: "started"}
        with db.engine.begin() as connection:  # the rows would not let the schema go down (their parents are absent)
            connection.execute(text("DELETE FROM referral_events"))
            connection.execute(text("DELETE FROM referrals"))
        downgrade(directory=MIGRATIONS_DIR, revision=BEFORE)
        db.engine.dispose()
