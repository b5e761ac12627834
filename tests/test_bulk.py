"""Writing many rows at once (matcher.bulk): ids reserved in order, the columns' own defaults and conversions,
and a refusal raised as SQLAlchemy raises it, undone with its savepoint."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from matcher import bulk
from matcher.audit.models import AuditEvent
from matcher.auth.models import Account, Role
from matcher.extensions import db


def test_rows_get_the_reserved_ids_defaults_and_conversions(ctx):
    session = db.session
    table = Account.__table__
    ids = bulk.reserve_ids(session, table, 3)
    assert ids == sorted(ids) and len(set(ids)) == 3
    bulk.insert_rows(session, table, [
        {"id": account_id, "username": f"bulk{n}", "display_name": "批量", "password_hash": "x",
         "role": Role.ORGANISER, "bureau_code": "330700"} for n, account_id in enumerate(ids)])
    session.expire_all()
    accounts = session.scalars(select(Account).where(Account.id.in_(ids)).order_by(Account.id)).all()
    assert [a.username for a in accounts] == ["bulk0", "bulk1", "bulk2"]
    assert all(a.role == Role.ORGANISER and a.created_at is not None for a in accounts)  # enum in, default given
    later = bulk.reserve_ids(session, table, 1)
    assert later[0] > ids[-1]
    session.rollback()


def test_a_refused_row_raises_integrity_error_and_the_savepoint_undoes_the_batch(ctx):
    session = db.session
    before = session.scalar(select(func.count()).select_from(AuditEvent))
    table = Account.__table__
    rows = [{"username": name, "display_name": name, "password_hash": "x", "role": Role.ORGANISER,
             "bureau_code": "330700"} for name in ("twin", "twin")]
    with pytest.raises(IntegrityError), session.begin_nested():
        bulk.insert_rows(session, table, rows)
    assert session.scalar(select(func.count()).select_from(Account).where(Account.username == "twin")) == 0
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == before
    session.rollback()
