"""Batch work is one transaction: confirming an assignment plan or importing a file, killed halfway (by an error or
by the process dying), leaves no half plan and no seat taken; running it again completes it."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os

import pytest
from sqlalchemy import func, select

import matcher.matching.service as matching_service
import matcher.matching.service.assignment as assignment
import matcher.transfer.kinds as transfer_kinds
from matcher import clock
from matcher.extensions import db
from matcher.matching.models import AssignmentDraft, DraftStatus
from matcher.referrals.models import Referral, ReferralEvent
from matcher.slots.models import Slot
from matcher.uow import unit_of_work
from tests.conftest import CHOUCHENG, new_candidate

KILLED_EXIT = 9


class WorkerKilled(BaseException):
    """Stands for the worker being stopped (SIGTERM, KeyboardInterrupt): not an error the code could handle."""


def _dies_on_second_call(function, *, how: str):
    calls = 0

    def dying(*args, **kwargs):
        nonlocal calls
        calls += 1
        if calls == 2:
            if how == "kill":
                os._exit(KILLED_EXIT)  # the process ends here: no rollback, no cleanup, no flush
            raise WorkerKilled
        return function(*args, **kwargs)

    return dying


def _run_and_die(app, monkeypatch, how: str, target, obj, name: str) -> None:
    """Run `target()` with `obj.name` dying on its second call: in this process (an exception) or in a forked
    child process that exits on the spot."""
    monkeypatch.setattr(obj, name, _dies_on_second_call(getattr(obj, name), how=how))
    db.session.commit()  # what the test set up is a unit of work of its own
    if how == "raise":
        with pytest.raises(WorkerKilled):
            target()
        db.session.remove()
        monkeypatch.undo()
        return
    db.session.remove()

    def child():
        with app.app_context():
            db.engine.dispose(close=False)  # the parent's connections are not the child's to use
            target()
        os._exit(0)

    process = multiprocessing.get_context("fork").Process(target=child)
    process.start()
    process.join(timeout=120)
    monkeypatch.undo()
    assert process.exitcode == KILLED_EXIT


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _seats_taken() -> int:
    return db.session.scalar(select(func.sum(Slot.seats_taken)))


@pytest.mark.parametrize("how", ["raise", "kill"])
def test_a_plan_confirmation_killed_halfway_writes_nothing_and_can_be_run_again(app, world, session, how,
                                                                                monkeypatch):
    for n in range(4):
        new_candidate(session, world.accounts["cw_a"], residence=CHOUCHENG, seq=400 + n)
    admin_id = world.accounts["admin"].id
    draft = matching_service.plan_assignment(session=session, actor=world.accounts["admin"], params={})
    draft_id, pairs = draft.id, len(draft.items)
    assert pairs >= 2
    seats_before = _seats_taken()

    def confirm():
        from matcher.auth.models import Account

        with unit_of_work():  # as the request or job that confirms
            matching_service.confirm_draft(session=db.session, actor=db.session.get(Account, admin_id),
                                           draft_id=draft_id)

    _run_and_die(app, monkeypatch, how, confirm, assignment, "exists")  # called once per pair

    assert _count(Referral) == 0 and _count(ReferralEvent) == 0
    assert db.session.get(AssignmentDraft, draft_id).status == DraftStatus.DRAFT
    assert _seats_taken() == seats_before
    confirm()
    db.session.remove()
    assert db.session.get(AssignmentDraft, draft_id).status == DraftStatus.CONFIRMED
    assert _count(Referral) == pairs
    confirm()  # once more: a confirmed plan answers as it is
    assert _count(Referral) == pairs


@pytest.mark.parametrize("how", ["raise", "kill"])
def test_an_import_killed_halfway_takes_no_seat_and_can_be_run_again(app, world, session, how, monkeypatch):
    from matcher.transfer.service import import_file

    cw = world.accounts["cw_a"]
    people = [new_candidate(session, cw, residence=CHOUCHENG, seq=500 + n).public_id for n in range(3)]
    slot_id, admin_id = world.slot_a.id, world.accounts["admin"].id
    day = (clock.today() - dt.timedelta(days=10)).isoformat()
    lines = ["candidate,slot_id,status,created_on,started_on,ended_on,end_code"]
    lines += [f"{public_id},{slot_id},accepted,{day},,," for public_id in people]  # each takes a seat
    content = ("\n".join(lines) + "\n").encode()
    seats_before = _seats_taken()

    def run_import():
        from matcher.auth.models import Account

        with app.test_request_context(), unit_of_work():  # as the request that imports
            return import_file(session=db.session, actor=db.session.get(Account, admin_id), kind="referrals",
                               data=content, filename="history.csv")

    # Dies while the write phase builds its rows (the second), after every row was checked.
    _run_and_die(app, monkeypatch, how, run_import, transfer_kinds.ReferralImporter, "_history")

    assert _count(Referral) == 0
    assert _seats_taken() == seats_before
    assert db.session.get(Slot, slot_id).seats_taken == 0
    report = run_import()
    db.session.remove()
    assert report.created == len(people)
    assert db.session.get(Slot, slot_id).seats_taken == len(people)
    assert _count(Referral) == len(people)
