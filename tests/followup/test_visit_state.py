"""Visits that record the employment state: working confirms the stays whose days have passed (each a
recorded move), left ends the placement; all in one transaction with the visit."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, update

from matcher.candidates.models import Visit
from matcher.clock import today
from matcher.followup.models import FollowUpTask, TaskStatus
from matcher.referrals.lifecycle import ReferralStatus
from matcher.referrals.models import Referral, ReferralEvent


def _ago(days: int) -> str:
    return (today() - dt.timedelta(days=days)).isoformat()


def _start(session, world, *, days_ago: int, candidate=None, slot=None, cw="cw_a") -> Referral:
    from matcher.referrals.service import create_referral, transition

    candidate, slot = candidate or world.cand_a, slot or world.slot_a
    employer = world.accounts["emp_a" if slot.company_id == world.company_a.id else "emp_b"]
    referral = create_referral(session=session, actor=world.accounts[cw], candidate_id=candidate.id,
                               slot_id=slot.id, send=True)
    session.execute(update(ReferralEvent).where(ReferralEvent.referral_id == referral.id)
                    .values(on_date=today() - dt.timedelta(days=days_ago + 1)))
    session.commit()
    for step in (ReferralStatus.OFFERED, ReferralStatus.STARTED):
        transition(session=session, actor=employer, referral_id=referral.id, to=step,
                   on_date=today() - dt.timedelta(days=days_ago))
    return referral


def _visit(api, world, candidate_id, who="cw_a", **body):
    payload = {"visited_on": today().isoformat(), "kind": "workplace", **body}
    return api.post(f"/api/v1/candidates/{candidate_id}/visits", json=payload, headers=world.h(who))


def _moves(session, referral_id: int) -> list[tuple[str | None, str, str]]:
    session.expire_all()
    return [(e.from_status and e.from_status.value, e.to_status.value, e.on_date.isoformat())
            for e in session.scalars(select(ReferralEvent).where(ReferralEvent.referral_id == referral_id)
                                     .order_by(ReferralEvent.id))]


def _visits(session) -> int:
    return session.scalar(select(func.count(Visit.id)))


def _referral(session, referral_id: int) -> Referral:
    session.expire_all()
    return session.get(Referral, referral_id)


def test_working_confirms_every_stay_whose_days_have_passed_in_order(api, world, session):
    referral = _start(session, world, days_ago=100)
    response = _visit(api, world, world.cand_a.id, referral_id=referral.id, employment_state="working",
                      visited_on=_ago(5), note="在岗，表现稳定")
    assert response.status_code == 201, response.json
    assert (response.json["referral_id"], response.json["employment_state"]) == (referral.id, "working")
    assert _moves(session, referral.id)[-2:] == [("started", "stayed_30", _ago(5)), ("stayed_30", "stayed_90", _ago(5))]
    assert _referral(session, referral.id).status == ReferralStatus.STAYED_90
    tasks = {t.days: t.status for t in session.scalars(select(FollowUpTask).where(
        FollowUpTask.referral_id == referral.id))}
    assert tasks == {30: TaskStatus.DONE, 90: TaskStatus.DONE, 180: TaskStatus.OPEN}


def test_working_before_any_stay_is_due_records_only_the_visit(api, world, session):
    referral = _start(session, world, days_ago=10)
    before = _moves(session, referral.id)
    response = _visit(api, world, world.cand_a.id, referral_id=referral.id, employment_state="working")
    assert response.status_code == 201, response.json
    assert _moves(session, referral.id) == before
    assert _referral(session, referral.id).status == ReferralStatus.STARTED


def test_the_visit_date_decides_which_stays_have_passed(api, world, session):
    referral = _start(session, world, days_ago=40)
    # Visited on day 25: the 30-day stay had not passed yet, even though it has today.
    _visit(api, world, world.cand_a.id, referral_id=referral.id, employment_state="working", visited_on=_ago(15))
    assert _referral(session, referral.id).status == ReferralStatus.STARTED
    _visit(api, world, world.cand_a.id, referral_id=referral.id, employment_state="working", visited_on=_ago(9))
    assert _referral(session, referral.id).status == ReferralStatus.STAYED_30


def test_left_ends_the_placement_with_the_reason_code_and_never_the_note(api, world, session):
    referral = _start(session, world, days_ago=40)
    response = _visit(api, world, world.cand_a.id, referral_id=referral.id, employment_state="left",
                      end_code="health", note="精神病复发住院")
    assert response.status_code == 201, response.json
    ended = _referral(session, referral.id)
    assert (ended.status, ended.end_code, ended.holds_seat) == (ReferralStatus.LEFT, "health", False)
    # The visit's note is the office's: it is on the visit, and nowhere a base reads.
    assert all("精神病" not in (event.internal_note or "") + (event.shared_note or "") for event in ended.events)
    seen = api.get(f"/api/v1/referrals/{referral.id}", headers=world.h("emp_a"))
    assert seen.status_code == 200 and "精神病" not in seen.get_data(as_text=True)
    assert seen.json["end_code"] == "health"
    assert ended.slot.seats_taken == 0
    open_tasks = session.scalar(select(func.count(FollowUpTask.id)).where(
        FollowUpTask.referral_id == referral.id, FollowUpTask.status == TaskStatus.OPEN))
    assert open_tasks == 0

    other = _start(session, world, days_ago=3, slot=world.slot_b)
    # Only a state: the candidate's one running placement is meant.
    response = _visit(api, world, world.cand_a.id, kind="phone", employment_state="left")
    assert response.status_code == 201, response.json
    assert response.json["referral_id"] == other.id
    assert _referral(session, other.id).end_code == "other"  # no reason given: other


def test_a_state_without_a_placement_needs_exactly_one_running(api, world, session):
    refused = _visit(api, world, world.cand_a.id, employment_state="working")
    assert refused.status_code == 422 and "referral_id" in refused.json["errors"]
    _start(session, world, days_ago=3)
    _start(session, world, days_ago=3, slot=world.slot_b)
    refused = _visit(api, world, world.cand_a.id, employment_state="working")
    assert refused.status_code == 422 and "referral_id" in refused.json["errors"]
    assert _visits(session) == 0


def test_the_placement_must_be_a_running_one_of_this_candidate(api, world, session):
    from matcher.referrals.service import create_referral

    started_b = _start(session, world, days_ago=40, candidate=world.cand_b, cw="cw_b")
    sent = create_referral(session=session, actor=world.accounts["cw_a"], candidate_id=world.cand_a.id,
                           slot_id=world.slot_a.id, send=True)
    for referral_id in (started_b.id, sent.id, 999999):
        refused = _visit(api, world, world.cand_a.id, referral_id=referral_id, employment_state="working")
        assert refused.status_code == 422, referral_id
        assert "referral_id" in refused.json["errors"]
    assert _visits(session) == 0
    # A visit may name the placement without saying anything about work (its note says what it found).
    referral = _start(session, world, days_ago=3, slot=world.slot_b)
    linked = _visit(api, world, world.cand_a.id, referral_id=referral.id, note="到岗位看望")
    assert linked.status_code == 201 and linked.json["employment_state"] is None
    assert _referral(session, referral.id).status == ReferralStatus.STARTED


def test_a_refused_move_records_no_visit_either(api, world, session):
    referral = _start(session, world, days_ago=40)
    # The visit is dated before the start: the move is refused, and the whole visit with it.
    refused = _visit(api, world, world.cand_a.id, referral_id=referral.id, employment_state="left",
                     visited_on=_ago(45))
    assert refused.status_code == 422, refused.json
    assert "visited_on" in refused.json["errors"]
    assert _visits(session) == 0
    assert _referral(session, referral.id).status == ReferralStatus.STARTED


def test_only_the_keeping_office_records_a_visit_that_moves_a_placement(api, world, session):
    referral = _start(session, world, days_ago=40, candidate=world.cand_dual, cw="cw_b")
    assert _visit(api, world, world.cand_dual.id, "cw_a", referral_id=referral.id,
                  employment_state="working").status_code == 403
    assert _visit(api, world, world.cand_dual.id, "emp_a", referral_id=referral.id,
                  employment_state="working").status_code == 404
    assert _visit(api, world, world.cand_dual.id, "admin", referral_id=referral.id,
                  employment_state="working").status_code == 201
    assert _referral(session, referral.id).status == ReferralStatus.STAYED_30


def test_a_visit_without_placement_still_works_as_before(api, world):
    response = _visit(api, world, world.cand_a.id, note="家访")
    assert response.status_code == 201
    assert (response.json["referral_id"], response.json["employment_state"]) == (None, None)
    assert _visit(api, world, world.cand_a.id, employment_state="fired").status_code == 422
