"""The job-fair services: setting up, inviting, planning, the day, outcomes and the report."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from matcher import clock
from matcher.engine.fair import check_plan, plan_fair
from matcher.errors import Conflict, Invalid, NotFound
from matcher.fairs import service
from matcher.fairs.models import InterviewStatus, InvitationStatus
from matcher.referrals.lifecycle import ReferralStatus
from matcher.referrals.models import Referral
from tests.fair_support import to_the_fair_day


def tomorrow() -> dt.date:
    """Asked when needed, not when the module loads: the suite may run across midnight in China."""
    return clock.today() + dt.timedelta(days=1)




@pytest.fixture
def fair(world, session, time_machine):
    """Tomorrow's fair with two booths; the clock then at 08:00 on its day."""
    org = world.accounts["org"]
    fair = service.create_fair(session=session, actor=org, data=dict(
        name="春风行动招聘会", held_on=tomorrow(), venue="义乌市人力资源市场", starts_at=dt.time(9, 0),
        block_minutes=30, n_blocks=4, max_interviews=2))
    service.add_booth(session=session, actor=org, fair_id=fair.id, data=dict(
        company_id=world.company_a.id, slot_ids=[world.slot_a.id], interviews_per_block=1))
    service.add_booth(session=session, actor=org, fair_id=fair.id, data=dict(
        company_id=world.company_b.id, slot_ids=[world.slot_b.id], interviews_per_block=1))
    to_the_fair_day(time_machine, fair.held_on)
    return fair


def _invite_and_confirm(world, session, fair):
    org = world.accounts["org"]
    ids = [world.cand_a.public_id, world.cand_b.public_id, world.cand_dual.public_id]
    result = service.invite(session=session, actor=org, fair_id=fair.id, data={"public_ids": ids})
    assert result == {"invited": 3, "already_invited": 0, "dry_run": False}
    for inv in session.scalars(service.list_invitations(session=session, actor=world.accounts["cw_a"],
                                                        filters={"fair_id": fair.id})):
        if inv.candidate.office_id == world.office_a.id:
            service.answer_invitation(session=session, actor=world.accounts["cw_a"], invitation_id=inv.id,
                                      attending=True)
    for inv in session.scalars(service.list_invitations(session=session, actor=world.accounts["cw_b"],
                                                        filters={"fair_id": fair.id})):
        service.answer_invitation(session=session, actor=world.accounts["cw_b"], invitation_id=inv.id,
                                  attending=True)


def test_plan_respects_eligibility_and_capacity(world, session, fair):
    _invite_and_confirm(world, session, fair)
    run = service.make_plan(session=session, actor=world.accounts["org"], fair_id=fair.id)
    model = service.build_problem(session, fair, 0)
    rows = service.schedule(session=session, actor=world.accounts["org"], fair_id=fair.id)
    summary = json.loads(run.summary_json)
    assert summary["interviews"] == len(rows) > 0
    assert run.objective <= run.bound + 1e-9 and 0 <= run.gap <= 0.01
    # The cooking candidates go to the cooking booth only (the auto-repair slot needs engine repair).
    for iv in rows:
        assert iv.slot_id == world.slot_a.id
    assert len({(iv.booth_id, iv.block) for iv in rows}) == len(rows)  # capacity 1 per block
    assert len({(iv.invitation_id, iv.block) for iv in rows}) == len(rows)
    # The same problem through the engine gives a feasible plan.
    assert check_plan(model.problem, plan_fair(model.problem)) == []


def test_caseworker_answers_only_for_own_office(world, session, fair):
    org = world.accounts["org"]
    service.invite(session=session, actor=org, fair_id=fair.id, data={"public_ids": [world.cand_dual.public_id]})
    inv = session.scalars(service.list_invitations(session=session, actor=org, filters={"fair_id": fair.id})).one()
    # Office A reads the dual-registered file but the residence office (B) answers.
    with pytest.raises(NotFound):
        service.answer_invitation(session=session, actor=world.accounts["cw_a"], invitation_id=inv.id,
                                  attending=True)
    service.answer_invitation(session=session, actor=world.accounts["cw_b"], invitation_id=inv.id, attending=True)
    assert inv.status == InvitationStatus.CONFIRMED


def test_outcome_offer_creates_offered_referral(world, session, fair):
    _invite_and_confirm(world, session, fair)
    service.make_plan(session=session, actor=world.accounts["org"], fair_id=fair.id)
    iv = service.schedule(session=session, actor=world.accounts["org"], fair_id=fair.id)[0]
    done = service.record_outcome(session=session, actor=world.accounts["emp_a"], interview_id=iv.id,
                                  outcome="offer")
    assert done.status == InterviewStatus.HELD and done.referral_id
    referral = session.get(Referral, done.referral_id)
    assert referral.status == ReferralStatus.OFFERED
    assert [e.to_status for e in referral.events] == [ReferralStatus.PROPOSED, ReferralStatus.SENT,
                                                      ReferralStatus.INTERVIEW, ReferralStatus.OFFERED]
    with pytest.raises(Conflict):
        service.record_outcome(session=session, actor=world.accounts["org"], interview_id=iv.id, outcome="no")
    # Another base's employer cannot see it.
    with pytest.raises(NotFound):
        service.record_outcome(session=session, actor=world.accounts["emp_b"], interview_id=iv.id, outcome="no")


def test_full_replan_keeps_earlier_blocks(world, session, fair):
    _invite_and_confirm(world, session, fair)
    org = world.accounts["org"]
    service.make_plan(session=session, actor=org, fair_id=fair.id)
    before = {(iv.invitation_id, iv.booth_id, iv.block) for iv in
              service.schedule(session=session, actor=org, fair_id=fair.id) if iv.block < 2}
    run = service.make_plan(session=session, actor=org, fair_id=fair.id, from_block=2, keep_planned=False)
    after = {(iv.invitation_id, iv.booth_id, iv.block) for iv in
             service.schedule(session=session, actor=org, fair_id=fair.id)}
    assert before <= after
    assert json.loads(run.summary_json)["kept"] == len(before)
    assert all(iv.block >= 2 for iv in service.schedule(session=session, actor=org, fair_id=fair.id)
               if (iv.invitation_id, iv.booth_id, iv.block) not in before)


def test_walk_in_fills_free_places_without_moving_anyone(world, session, fair):
    from tests.conftest import CHOUCHENG, new_candidate

    org = world.accounts["org"]
    _invite_and_confirm(world, session, fair)
    booth_a = next(b for b in fair.booths if b.company_id == world.company_a.id)
    service.update_booth(session=session, actor=org, fair_id=fair.id, booth_id=booth_a.id,
                         data={"interviews_per_block": 2})
    service.make_plan(session=session, actor=org, fair_id=fair.id)
    before = {(iv.id, iv.invitation_id, iv.booth_id, iv.block)
              for iv in service.schedule(session=session, actor=org, fair_id=fair.id)}
    walker = new_candidate(session, world.accounts["cw_a"], residence=CHOUCHENG, seq=31)
    invitation = service.add_walk_in(session=session, actor=org, fair_id=fair.id, public_id=walker.public_id,
                                     consent=True, arrives_block=1)
    assert invitation.checked_in_at is not None and invitation.source == "walk_in"
    run = service.make_plan(session=session, actor=org, fair_id=fair.id, from_block=1)
    after = service.schedule(session=session, actor=org, fair_id=fair.id)
    assert before <= {(iv.id, iv.invitation_id, iv.booth_id, iv.block) for iv in after}
    walker_rows = [iv for iv in after if iv.invitation_id == invitation.id]
    assert walker_rows and all(iv.block >= 1 for iv in walker_rows)
    assert json.loads(run.summary_json)["moved_or_dropped"] == 0


def test_withdrawn_booth_gets_no_interviews(world, session, fair):
    _invite_and_confirm(world, session, fair)
    org = world.accounts["org"]
    service.make_plan(session=session, actor=org, fair_id=fair.id)
    booth_a = next(b for b in fair.booths if b.company_id == world.company_a.id)
    service.withdraw_booth(session=session, actor=org, fair_id=fair.id, booth_id=booth_a.id, from_block=0,
                           reason="老板生病")
    run = service.make_plan(session=session, actor=org, fair_id=fair.id)
    assert service.schedule(session=session, actor=org, fair_id=fair.id) == []
    reasons = json.loads(run.summary_json)["unplaced"]
    assert set(reasons.values()) == {"withdrawn"} and len(reasons) == 3  # their only booth has gone


def test_bad_input(world, session, fair):
    org = world.accounts["org"]
    with pytest.raises(Invalid) as err:
        service.invite(session=session, actor=org, fair_id=fair.id, data={"public_ids": ["NOPE"]})
    assert "public_ids.0" in err.value.errors
    with pytest.raises(NotFound):
        service.get_fair(session=session, actor=world.accounts["emp_a"], fair_id=fair.id + 99)
    with pytest.raises(Invalid):
        service.create_fair(session=session, actor=org, data=dict(
            name="x", held_on=clock.today() - dt.timedelta(days=1), venue="v", starts_at=dt.time(9)))
    with pytest.raises(Invalid) as err:
        service.update_fair(session=session, actor=org, fair_id=fair.id, data={"n_blocks": 0})
    assert "n_blocks" in err.value.errors
    booth = fair.booths[0]
    with pytest.raises(Invalid) as err:
        service.update_booth(session=session, actor=org, fair_id=fair.id, booth_id=booth.id,
                             data={"interviews_per_block": 21})
    assert "interviews_per_block" in err.value.errors
    with pytest.raises(Invalid) as err:
        service.update_booth(session=session, actor=org, fair_id=fair.id, booth_id=booth.id, data={"label": " "})
    assert "label" in err.value.errors


def test_only_the_residence_office_cancels(world, session, fair):
    org = world.accounts["org"]
    service.invite(session=session, actor=org, fair_id=fair.id, data={"public_ids": [world.cand_dual.public_id]})
    inv = session.scalars(service.list_invitations(session=session, actor=org, filters={"fair_id": fair.id})).one()
    with pytest.raises(NotFound):
        service.cancel_invitation(session=session, actor=world.accounts["cw_a"], invitation_id=inv.id)
    service.cancel_invitation(session=session, actor=world.accounts["cw_b"], invitation_id=inv.id, reason="生病")
    assert inv.status == InvitationStatus.CANCELLED
