"""A placement keeps the furthest milestone it reached when it ends, and the outcome labels read it: a person who
left after 90 days stayed 90 days."""

from __future__ import annotations

import datetime as dt

from matcher import clock
from matcher.matching.adapters import training_world
from matcher.referrals.lifecycle import EndReason, Milestone
from matcher.referrals.lifecycle import ReferralStatus as S
from matcher.referrals.service import create_referral, transition


def test_leaving_after_90_days_keeps_the_milestone_and_counts_as_staying(world, session, time_machine):
    admin = world.accounts["admin"]
    start = clock.today()
    referral = create_referral(session=session, actor=admin, candidate_id=world.cand_a.id, slot_id=world.slot_a.id,
                               send=True)
    for step in (S.OFFERED, S.STARTED):
        transition(session=session, actor=admin, referral_id=referral.id, to=step, on_date=start)
    assert referral.milestone == Milestone.STARTED
    for days, step in ((31, S.STAYED_30), (95, S.STAYED_90)):
        time_machine.move_to(clock.china_midnight(start + dt.timedelta(days=days)) + dt.timedelta(hours=10),
                             tick=False)
        transition(session=session, actor=admin, referral_id=referral.id, to=step)
    left_on = start + dt.timedelta(days=140)
    time_machine.move_to(clock.china_midnight(left_on) + dt.timedelta(hours=10), tick=False)
    transition(session=session, actor=admin, referral_id=referral.id, to=S.LEFT, reason_code=EndReason.PERSONAL)
    session.commit()
    assert (referral.status, referral.milestone, referral.ended_on) == (S.LEFT, Milestone.STAYED_90, left_on)

    known = training_world(session, horizon_days=90, as_of=left_on)
    assert known.referral_ids.tolist() == [referral.id]
    assert known.history.stayed.tolist() == [True]  # stayed 90 days, left in month 5
    assert training_world(session, horizon_days=180, as_of=left_on + dt.timedelta(days=60)).history.stayed.tolist() \
        == [False]


def test_a_stay_confirmed_for_a_past_placement_takes_no_seat(world, session):
    """History imported as stayed_30 in an intake that has finished holds no seat; confirming its next stay later
    takes none either (only entering the seat-holding statuses does), even on a full slot."""
    from matcher.referrals.models import Referral, ReferralEvent
    from matcher.slots.models import Slot

    admin = world.accounts["admin"]
    started = clock.today() - dt.timedelta(days=120)
    referral = Referral(candidate_id=world.cand_b.id, slot_id=world.slot_a.id, status=S.STAYED_30, holds_seat=False,
                        started_on=started, milestone=Milestone.STAYED_30)
    referral.events = [ReferralEvent(from_status=None, to_status=S.STAYED_30, on_date=started + dt.timedelta(days=30),
                                     actor_id=admin.id)]
    session.add(referral)
    slot = session.get(Slot, world.slot_a.id)
    slot.seats_taken = slot.seats  # full today
    session.commit()
    transition(session=session, actor=admin, referral_id=referral.id, to=S.STAYED_90)
    session.commit()
    session.refresh(slot)
    assert (referral.status, referral.holds_seat, slot.seats_taken) == (S.STAYED_90, False, slot.seats)
