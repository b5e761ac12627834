"""Cutting a slot's seats while accepts take them: a 409 naming the seats taken, never a 500 nor an over-filled slot."""

from __future__ import annotations

from collections import Counter

from bench.bench_races import Crowd, accept_as, offered_referrals, seat_count
from matcher.errors import Conflict
from matcher.extensions import db
from tests.conftest import CHOUCHENG, new_candidate

RACERS, SEATS, CUT_TO, ROUNDS = 12, 6, 3, 6


def test_seats_taken_after_the_slot_was_read_are_counted(api, world, monkeypatch):
    """The edit reads the slot, accepts take two seats, then the edit cuts to one seat: refused with 409 (the
    database's CHECK would refuse it too, as a 500), and the slot keeps its seats."""
    from matcher.slots import service

    read = service.get_slot

    def read_then_two_accepts(*, session, actor, slot_id):
        slot = read(session=session, actor=actor, slot_id=slot_id)
        assert service.take_seat(session, slot_id) and service.take_seat(session, slot_id)  # unseen by `slot`
        return slot

    monkeypatch.setattr(service, "get_slot", read_then_two_accepts)
    path = f"/api/v1/slots/{world.slot_a.id}"
    refused = api.patch(path, json={"seats": 1, "title": "改名"}, headers=world.h("emp_a"))
    assert refused.status_code == 409, refused.json
    assert refused.json["errors"]["seats"] == ["2 seats are already taken; seats cannot go below that."]
    monkeypatch.setattr(service, "get_slot", read)
    after = api.get(path, headers=world.h("emp_a")).json
    assert (after["seats"], after["title"]) == (3, "厨师A")  # nothing of the refused edit was kept
    assert api.patch(path, json={"seats": 2}, headers=world.h("emp_a")).json["seats"] == 2


def _cut_seats(employer_id: int):
    def cut(slot_id: int) -> str:
        from matcher.auth.models import Account
        from matcher.slots.service import update_slot

        actor = db.session.get(Account, employer_id)
        try:
            update_slot(session=db.session, actor=actor, slot_id=slot_id, data={"seats": CUT_TO})
            return "cut"
        except Conflict:
            return "refused"

    return cut


def test_a_seat_cut_racing_accepts_never_errs_nor_over_fills(app, world, session):
    """Round after round, one seat cut races accepts on a fresh slot (on PostgreSQL they truly interleave)."""
    cw, emp = world.accounts["cw_a"], world.accounts["emp_a"]
    candidate_ids = [new_candidate(session, cw, residence=CHOUCHENG, seq=700 + n).id for n in range(RACERS - 1)]
    employer_id, caseworker_id = emp.id, cw.id
    session.commit()
    db.session.remove()
    accept, cut = accept_as(employer_id), _cut_seats(employer_id)
    rounds = []
    with Crowd(app, RACERS) as crowd:
        for _ in range(ROUNDS):
            with app.app_context():
                slot_id, referral_ids = offered_referrals(db.session, employer_id=employer_id,
                                                          caseworker_id=caseworker_id, candidate_ids=candidate_ids,
                                                          seats=SEATS)
                db.session.remove()
            jobs = [(cut, slot_id)] + [(accept, referral_id) for referral_id in referral_ids]
            outcomes = crowd.run(lambda job: job[0](job[1]), jobs)
            with app.app_context():
                taken, holding = seat_count(db.session, slot_id)
                from matcher.slots.models import Slot

                seats = db.session.get(Slot, slot_id).seats
                db.session.remove()
            rounds.append((Counter(o if isinstance(o, str) else repr(o) for o in outcomes), seats, taken, holding))
    for counts, seats, taken, holding in rounds:
        assert set(counts) <= {"cut", "refused", "placed", "full"}, rounds
        assert counts["placed"] == taken == holding <= seats, rounds
        assert seats == (CUT_TO if counts["cut"] else SEATS), rounds
