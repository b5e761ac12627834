"""Seats are never over-filled, also when many people take the last seats at the same moment."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from matcher.extensions import db
from matcher.referrals.lifecycle import ReferralStatus
from matcher.referrals.models import Referral
from matcher.referrals.service import create_referral, transition
from matcher.uow import unit_of_work
from tests.conftest import CHOUCHENG, new_candidate, new_slot

ATTEMPTS, SEATS = 50, 5


def test_fifty_parallel_accepts_fill_exactly_five_seats(app, world, session):
    cw, emp = world.accounts["cw_a"], world.accounts["emp_a"]
    slot = new_slot(session, emp, title="最后的座位", seats=SEATS)
    referral_ids = []
    for seq in range(ATTEMPTS):
        candidate = new_candidate(session, cw, residence=CHOUCHENG, seq=200 + seq)
        referral = create_referral(session=session, actor=cw, candidate_id=candidate.id, slot_id=slot.id, send=True)
        transition(session=session, actor=emp, referral_id=referral.id, to=ReferralStatus.OFFERED)
        referral_ids.append(referral.id)
    slot_id = slot.id
    db.session.commit()
    # The actor travels detached into each thread: no thread touches the database before the barrier.
    db.session.refresh(cw)
    assert cw.office is not None  # loaded now, read later without a session
    db.session.expunge(cw)
    db.session.remove()

    barrier = threading.Barrier(ATTEMPTS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def accept(referral_id: int) -> None:
        with app.app_context():
            from matcher.errors import Conflict

            barrier.wait()
            try:
                with unit_of_work():
                    transition(session=db.session, actor=cw, referral_id=referral_id, to=ReferralStatus.ACCEPTED)
                result = "accepted"
            except Conflict:
                result = "full"
            finally:
                db.session.remove()
            with lock:
                outcomes.append(result)

    threads = [threading.Thread(target=accept, args=(rid,)) for rid in referral_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert len(outcomes) == ATTEMPTS
    assert outcomes.count("accepted") == SEATS
    with app.app_context():
        from matcher.slots.models import Slot

        assert db.session.get(Slot, slot_id).seats_taken == SEATS
        holding = db.session.scalar(select(func.count()).where(Referral.slot_id == slot_id,
                                                               Referral.holds_seat.is_(True)))
        assert holding == SEATS
