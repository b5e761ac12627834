"""The unit of work (matcher.uow): one transaction per request, command and job, ended once by its edge."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from matcher import clock, uow
from matcher.audit.models import AuditEvent
from matcher.audit.service import record
from matcher.auth.models import Account, Role
from matcher.errors import RACED, Conflict
from matcher.extensions import db


def _accounts(username: str) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Account).where(Account.username == username))


def _account(username: str) -> Account:
    return Account(username=username, display_name=username, password_hash="x", role=Role.ORGANISER,
                   bureau_code="330700")


def test_a_unit_commits_when_it_ends_and_rolls_back_when_it_raises(ctx):
    with uow.unit_of_work():
        db.session.add(_account("kept"))
    with pytest.raises(RuntimeError), uow.unit_of_work():
        db.session.add(_account("dropped"))
        db.session.flush()
        raise RuntimeError("the command failed")
    assert (_accounts("kept"), _accounts("dropped")) == (1, 0)


def test_a_constraint_broken_at_commit_is_a_conflict_and_kept_writes_still_stand(ctx):
    with uow.unit_of_work():
        db.session.add(_account("taken"))
    uow.keep(lambda session: session.add(_account("kept-after-failure")))
    db.session.add(_account("taken"))  # unique username: only the commit finds out
    with pytest.raises(Conflict) as caught:
        uow.commit()
    assert caught.value.message == RACED
    assert (_accounts("taken"), _accounts("kept-after-failure")) == (1, 1)


def test_a_savepoint_rolled_back_forgets_its_changes_and_its_audit_events(ctx):
    with uow.unit_of_work():
        record(db.session, actor=None, action="outside", object_type="account")
        with pytest.raises(RuntimeError), uow.savepoint():
            db.session.add(_account("attempted"))
            record(db.session, actor=None, action="inside", object_type="account")
            raise RuntimeError("the form was refused")
        db.session.add(_account("after"))
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert "outside" in actions and "inside" not in actions
    assert (_accounts("attempted"), _accounts("after")) == (0, 1)


def test_a_request_that_fails_rolls_back_and_its_refusals_are_still_audited(api, world, session):
    """A caseworker asks for another office's file: 404, nothing of the request kept but the refusal."""
    other = world.cand_b.id
    before = session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "refused"))
    response = api.get(f"/api/v1/candidates/{other}", headers=world.h("cw_a"))
    assert response.status_code == 404
    session.expire_all()
    refusals = session.scalars(select(AuditEvent).where(AuditEvent.action == "refused")).all()
    assert len(refusals) == before + 1
    assert (refusals[-1].object_type, refusals[-1].object_id) == ("candidate", other)


def test_a_successful_request_commits_what_it_did(api, world, session):
    response = api.post("/api/v1/slots", json={
        "kind": "job", "title": "新岗位", "course_code": "cooking", "seats": 2, "place": {"code": "330782001"},
        "starts_on": (clock.today() + dt.timedelta(days=30)).isoformat()}, headers=world.h("emp_a"))
    assert response.status_code == 201, response.json
    db.session.remove()  # a fresh session sees only what was committed
    from matcher.slots.models import Slot

    assert db.session.get(Slot, response.json["id"]).title == "新岗位"
