"""The demo city: deterministic for a seed, internally consistent (seats, dates, statuses), at the
proportions the bureaus report, and buildable from the command line."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from sqlalchemy import func, select

from matcher.bases.models import Company, certified_in_date
from matcher.candidates.models import Candidate, CandidateStatus
from matcher.clock import add_years, today
from matcher.referrals.lifecycle import ENDED, ReferralStatus
from matcher.referrals.models import Referral, ReferralEvent
from matcher.referrals.service import SEAT_HOLDING, STAY_DAYS
from matcher.slots.models import Slot, SlotStatus
from tests.db_support import empty_tables, restored

REFERENCE_TABLES = {"places", "courses", "skills", "occupations", "judicial_offices", "alembic_version"}
SMALL = dict(candidates=300, open_slots=30, certified_bases=6)


def _empty(session) -> None:
    """What the suite's clean-up does after each test, needed here between two builds in one test."""
    empty_tables(session)


def _build(session, seed: int = 2026) -> str:
    from matcher.demo.generator import DemoSpec, build_demo

    return build_demo(session, DemoSpec(seed=seed, **SMALL), echo=lambda _line: None)


def _fingerprint(session) -> dict:
    return {
        "candidates": session.execute(select(Candidate.public_id, Candidate.name, Candidate.id_number_hash,
                                             Candidate.residence_code, Candidate.release_date)
                                      .order_by(Candidate.id)).all(),
        "companies": session.execute(select(Company.name, Company.credit_code).order_by(Company.id)).all(),
        "slots": session.execute(select(Slot.title, Slot.seats, Slot.seats_taken, Slot.status)
                                 .order_by(Slot.id)).all(),
        "referrals": session.execute(select(Referral.candidate_id, Referral.slot_id, Referral.status)
                                     .order_by(Referral.id)).all(),
    }


@pytest.fixture
def demo(session):
    """The seed-2026 city: built once per worker, then restored from its rows (tests/db_support.py)."""
    return restored(session, ("demo", 2026, tuple(SMALL.items())), lambda: _build(session))


def test_the_same_seed_builds_the_same_city(session):
    _build(session, seed=7)
    first = _fingerprint(session)
    _empty(session)
    _build(session, seed=7)
    assert _fingerprint(session) == first
    _empty(session)
    _build(session, seed=8)
    other = _fingerprint(session)
    assert other["candidates"] != first["candidates"]
    assert len(other["candidates"]) == len(first["candidates"]) == 300


def test_the_city_has_the_size_asked_for(session, demo):
    assert session.scalar(select(func.count(Candidate.id))) == 300
    assert session.scalar(select(func.count()).where(Slot.status == SlotStatus.OPEN)) == 30
    assert session.scalar(select(func.count()).select_from(Company).where(certified_in_date())) == 6
    assert "candidates: 300" in demo
    # Open slots belong to bases that may fill them.
    open_slots = session.scalars(select(Slot).where(Slot.status == SlotStatus.OPEN)).all()
    assert all(slot.company.can_post_and_fill() for slot in open_slots)


def test_seats_taken_match_the_referrals_holding_them(session, demo):
    holding = Counter(session.scalars(select(Referral.slot_id).where(Referral.holds_seat.is_(True))))
    for slot in session.scalars(select(Slot)):
        assert slot.seats_taken == holding.get(slot.id, 0), slot.id
        assert 0 <= slot.seats_taken <= slot.seats
    assert sum(holding.values()) > 0  # the demo has live placements to show
    for referral in session.scalars(select(Referral).where(Referral.holds_seat.is_(True))):
        assert referral.status in SEAT_HOLDING
        assert referral.slot.status == SlotStatus.OPEN


def test_referral_histories_are_coherent_and_never_in_the_future(session, demo):
    events: dict[int, list[ReferralEvent]] = {}
    for event in session.scalars(select(ReferralEvent).order_by(ReferralEvent.referral_id, ReferralEvent.id)):
        events.setdefault(event.referral_id, []).append(event)
    referrals = session.scalars(select(Referral)).all()
    assert len(referrals) > 300
    for referral in referrals:
        history = events[referral.id]
        assert history[0].from_status is None and history[0].to_status == ReferralStatus.PROPOSED
        for before, after in zip(history, history[1:], strict=False):
            assert after.from_status == before.to_status, referral.id
            assert after.on_date >= before.on_date, referral.id
        assert all(event.on_date <= today() for event in history), referral.id
        assert history[-1].to_status == referral.status
        if referral.status in ENDED:
            assert referral.end_code and referral.ended_on == history[-1].on_date
            assert history[-1].reason_code == referral.end_code
        for status, days in STAY_DAYS.items():
            stayed = [e for e in history if e.to_status == status]
            if stayed:
                assert stayed[0].on_date >= referral.started_on + dt.timedelta(days=days), referral.id


def test_follow_up_checks_match_the_placements(session, demo):
    from matcher.followup.models import FollowUpTask, TaskStatus

    tasks: dict[int, dict[int, FollowUpTask]] = {}
    for task in session.scalars(select(FollowUpTask)):
        tasks.setdefault(task.referral_id, {})[task.days] = task
    started = session.scalars(select(Referral).where(Referral.started_on.is_not(None))).all()
    assert started and {r.id for r in started} == set(tasks)
    overdue = 0
    for referral in started:
        reached = {e.to_status for e in referral.events}
        for status, days in STAY_DAYS.items():
            task = tasks[referral.id][days]
            assert task.due_on == referral.started_on + dt.timedelta(days=days)
            if status in reached:
                assert task.status == TaskStatus.DONE, referral.id
            elif referral.status in ENDED:
                assert task.status in (TaskStatus.DONE, TaskStatus.CANCELLED), referral.id
            else:
                assert task.status == TaskStatus.OPEN, referral.id
                overdue += task.due_on < today()
    assert overdue > 0  # the offices have checks to catch up on


def test_started_on_is_the_day_of_the_started_event(session, demo):
    for referral in session.scalars(select(Referral).where(Referral.started_on.is_not(None))):
        started = [e.on_date for e in referral.events if e.to_status == ReferralStatus.STARTED]
        assert started == [referral.started_on], referral.id
        assert referral.started_on <= today(), referral.id


def test_candidate_statuses_follow_release_and_placement(session, demo):
    in_work = [ReferralStatus.STARTED, ReferralStatus.STAYED_30, ReferralStatus.STAYED_90,
               ReferralStatus.STAYED_180]
    placed = set(session.scalars(select(Referral.candidate_id).where(Referral.status.in_(in_work))))
    for candidate in session.scalars(select(Candidate)):
        assert candidate.assistance_ends_on == add_years(candidate.release_date, 5)
        if candidate.release_date > today():
            assert candidate.status == CandidateStatus.PRE_RELEASE, candidate.id
        assert (candidate.status == CandidateStatus.PLACED) == (candidate.id in placed), candidate.id
        assert candidate.id_number_masked[4:16] == "*" * 12


def test_about_nine_percent_are_key_subjects(session, demo):
    key = session.scalar(select(func.count()).where(Candidate.key_subject.is_(True)))
    assert 0.05 <= key / 300 <= 0.14
    grades = Counter(session.scalars(select(Candidate.risk_grade).where(Candidate.key_subject.is_(True))))
    assert sum(grades.values()) == key
    assert grades.most_common(1)[0][0].value != "green"  # key subjects are mostly under closer watch


def test_demo_accounts_can_log_in(client, session, demo):
    from matcher.demo.generator import DEMO_PASSWORD

    for username in ("employer", "cw330782001", "admin2"):
        response = client.post("/api/v1/auth/tokens", json={"username": username, "password": DEMO_PASSWORD})
        assert response.status_code == 201, (username, response.json)


def test_the_demo_refuses_a_database_that_has_candidates(session, demo):
    with pytest.raises(RuntimeError):
        _build(session)


def test_seed_demo_from_the_command_line(app, session):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["seed", "demo", "--candidates", "200"])
    assert result.exit_code == 0, result.output
    assert "candidates: 200" in result.output
    session.expire_all()
    assert session.scalar(select(func.count(Candidate.id))) == 200

    again = runner.invoke(args=["seed", "demo", "--candidates", "200", "--if-empty"])
    assert again.exit_code == 0
    assert "nothing to do" in again.output
    assert session.scalar(select(func.count(Candidate.id))) == 200

    refused = runner.invoke(args=["seed", "demo", "--candidates", "200"])
    assert refused.exit_code != 0
    assert isinstance(refused.exception, RuntimeError)
