"""No sequence of referral events breaks the lifecycle, the seat counts or the follow-up checks.

A hypothesis state machine drives random sequences over a few candidates and small slots: referring (by the
right and the wrong people), every move to every status by every role (send, interview, offer, accept,
start, stays with dates, decline, withdraw, leave), completing follow-up checks, visits that record the
employment state, and time passing. Each move's answer is predicted from the rules (who sees the referral,
TRANSITIONS, reasons, stay dates, free seats) and compared; after every step the invariants are checked:

- every status is one of the lifecycle's, and every recorded event's (from, to) is in TRANSITIONS, in date order;
- per slot, seats_taken equals the seat-holding referrals and never exceeds the seats;
- at most one live referral per candidate and slot;
- a started placement has exactly its three checks (30/90/180 days after the start); a referral that never
  started has none; an ended one has no open check; a running one has done exactly the checks its stays reached;
- a candidate is placed exactly while one of their placements runs.
"""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select, text, update

from matcher import uow
from matcher.auth.models import Role
from matcher.bases import answers
from matcher.candidates.models import Candidate, CandidateStatus
from matcher.clock import today
from matcher.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from matcher.followup.models import CHECK_DAYS, FollowUpTask, TaskStatus
from matcher.referrals.lifecycle import (
    END_REASONS,
    ENDED,
    SEAT_HOLDING,
    STAY_DAYS,
    TRANSITIONS,
    EndReason,
    ReferralStatus,
)
from matcher.referrals.models import Referral, ReferralEvent
from matcher.referrals.service import MOVER
from matcher.slots.models import Slot

S = ReferralStatus
PLACED = (S.STARTED, S.STAYED_30, S.STAYED_90, S.STAYED_180)
WHO = ("keeper", "other_cw", "base_emp", "other_emp", "admin", "org")
AIM = st.integers(0, 3)  # 0: anyone; otherwise someone who may refer
# The same examples on every run: the closing "not vacuous" check must not depend on a lucky draw.
SETTINGS = settings(max_examples=30, derandomize=True, stateful_step_count=25, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


@pytest.mark.once_on_postgres  # long: run once per `make test`, on PostgreSQL (row locks are what it is about)
def test_no_sequence_of_referral_events_breaks_the_lifecycle(session, world, kit):
    from matcher.followup.service import add_visit, complete_task
    from matcher.referrals.service import create_referral, transition

    accounts = world.accounts
    numbers = itertools.count(1)

    class Lifecycle(RuleBasedStateMachine):
        @initialize()
        def setup(self):
            session.rollback()
            # A base that leaves referrals unanswered is paused (tests/bases/test_answers.py): the machine's referrals
            # wait for weeks by its clock, and pausing is not the rule under test here.
            answers.set_rules(session=session, actor=accounts["admin"], data={"pause_after": 100})
            self.day = today() - dt.timedelta(days=400)  # the machine's clock: moves are dated on it
            self.slots = [kit.new_slot(session, accounts["emp_a"], title="一座", seats=1),
                          kit.new_slot(session, accounts["emp_a"], title="两座", seats=2),
                          kit.new_slot(session, accounts["emp_b"], title="乙一座", seats=1)]
            self.slot_ids = [s.id for s in self.slots]
            self.base_a = {s.id: s.company_id == world.company_a.id for s in self.slots}
            self.candidate_ids, self.office_a = [], {}
            for residence in (kit.CHOUCHENG, kit.CHOUCHENG, kit.FOTANG):
                n = next(numbers)
                born = (dt.date(1970, 1, 1) + dt.timedelta(days=n)).strftime("%Y%m%d")
                keeper = accounts["cw_a" if residence == kit.CHOUCHENG else "cw_b"]
                candidate = kit.new_candidate(session, keeper, residence=residence, seq=n,
                                              id_number=kit.make_id_number(born=born, seq=n % 900 + 100))
                self.candidate_ids.append(candidate.id)
                self.office_a[candidate.id] = residence == kit.CHOUCHENG
            self.referral_ids: list[int] = []
            # One placement already running from the first day, so that stays, checks and visits have
            # something to act on from the first step.
            running = create_referral(session=session, actor=accounts["cw_a"], candidate_id=self.candidate_ids[0],
                                      slot_id=self.slot_ids[1], send=True)
            self._backdate(running.id)
            for step in (S.OFFERED, S.STARTED):
                transition(session=session, actor=accounts["emp_a"], referral_id=running.id, to=step,
                           on_date=self.day)
            self.referral_ids.append(running.id)

        # ---- who is who, for a referral ----------------------------------------------------------

        def _people(self, candidate_id: int, slot_id: int) -> dict:
            office_a, base_a = self.office_a[candidate_id], self.base_a[slot_id]
            return {"keeper": accounts["cw_a" if office_a else "cw_b"],
                    "other_cw": accounts["cw_b" if office_a else "cw_a"],
                    "base_emp": accounts["emp_a" if base_a else "emp_b"],
                    "other_emp": accounts["emp_b" if base_a else "emp_a"],
                    "admin": accounts["admin"], "org": accounts["org"]}

        def _backdate(self, referral_id: int) -> None:
            """A referral is made today; date its first steps on the machine's clock instead."""
            session.execute(update(ReferralEvent).where(ReferralEvent.referral_id == referral_id)
                            .values(on_date=self.day))
            session.commit()

        # ---- rules -------------------------------------------------------------------------------

        @rule(days=st.sampled_from([1, 7, 29, 30, 60, 100]))
        def time_passes(self, days):
            self.day = min(today(), self.day + dt.timedelta(days=days))

        @rule(c=st.integers(0, 2), s=st.integers(0, 2), send=st.booleans(), aim=AIM, who=st.sampled_from(WHO))
        def refer(self, c, s, send, aim, who):
            session.expire_all()
            candidate_id, slot_id = self.candidate_ids[c], self.slot_ids[s]
            if aim:  # mostly the right person, so that sequences get somewhere
                who = ("keeper", "admin")[aim % 2]
            live = session.scalar(select(func.count(Referral.id)).where(
                Referral.candidate_id == candidate_id, Referral.slot_id == slot_id,
                Referral.status.not_in(ENDED)))
            expected = None if who in ("keeper", "admin") and not live else DomainError
            try:
                with uow.savepoint():
                    referral = create_referral(session=session, actor=self._people(candidate_id, slot_id)[who],
                                               candidate_id=candidate_id, slot_id=slot_id, send=send)
            except DomainError:
                assert expected is DomainError, (who, live)
                return
            assert expected is None, (who, live)
            assert referral.status == (S.SENT if send else S.PROPOSED)
            self.referral_ids.append(referral.id)
            self._backdate(referral.id)

        @precondition(lambda self: self.referral_ids)
        @rule(pick=st.integers(0, 10**6), to=st.sampled_from(list(S)), who=st.sampled_from(WHO),
              reason=st.sampled_from([None, EndReason.OTHER, EndReason.NOT_SUITABLE, EndReason.HEALTH]))
        def move(self, pick, to, who, reason):
            """Anything: any referral, any status, anyone, with or without a reason."""
            session.expire_all()
            self._try_move(session.get(Referral, self.referral_ids[pick % len(self.referral_ids)]), to, who, reason)

        @precondition(lambda self: self.referral_ids)
        @rule(pick=st.integers(0, 10**6), who=st.integers(0, 2), forward=st.booleans(), wait=st.booleans(),
              steps=st.integers(1, 5))
        def move_as_allowed(self, pick, who, forward, wait, steps):
            """Moves the lifecycle has (onward, or ending the referral), by someone it allows, so that sequences
            get somewhere: up to `steps` onward moves of one referral (mostly the most advanced live one), or
            one ending. Before a stay the clock may first move on to the very day it can be confirmed."""
            session.expire_all()
            live = session.scalars(select(Referral).where(Referral.id.in_(self.referral_ids),
                                                          Referral.status.not_in(ENDED))
                                   .order_by(Referral.id)).all()
            if not live:
                return
            order = list(S)
            referral = (max(live, key=lambda r: (order.index(r.status), r.id)) if forward and pick % 3
                        else live[pick % len(live)])
            for step in range(steps if forward else 1):
                moves = [(to, movers) for (frm, to), movers in TRANSITIONS.items()
                         if frm == referral.status and (to not in ENDED) == forward]
                if not moves:
                    return
                to, movers = moves[(pick + step) % len(moves)]
                if to in STAY_DAYS and wait:
                    self.day = max(self.day, min(today(), referral.started_on + dt.timedelta(days=STAY_DAYS[to])))
                allowed = [w for w, role in (("keeper", Role.CASEWORKER), ("base_emp", Role.EMPLOYER))
                           if MOVER[role] in movers]
                if not self._try_move(referral, to, (allowed + ["admin"])[(who + step) % (len(allowed) + 1)],
                                      END_REASONS[to][0] if to in END_REASONS else None):
                    return
                referral = session.get(Referral, referral.id)

        def _try_move(self, referral, to, who, reason):
            """Make the move and check the answer is the one the rules predict; a refused move changes nothing."""
            before = (referral.status, referral.holds_seat, referral.slot.seats_taken)
            actor = self._people(referral.candidate_id, referral.slot_id)[who]
            expected = self._predict(referral, to, who, actor.role, reason)
            try:
                with uow.savepoint():
                    transition(session=session, actor=actor, referral_id=referral.id, to=to, on_date=self.day,
                               reason_code=reason)
            except DomainError as exc:
                assert expected is not None and isinstance(exc, expected), (before, to, who, reason, exc, expected)
                session.expire_all()
                referral = session.get(Referral, referral.id)
                assert (referral.status, referral.holds_seat, referral.slot.seats_taken) == before
                return False
            assert expected is None, (before, to, who, reason, expected)
            session.expire_all()
            assert session.get(Referral, referral.id).status == to
            return True

        def _predict(self, referral, to, who, role, reason):
            """The answer the rules give: None (the move is made) or the error class."""
            status = referral.status
            if not (who in ("keeper", "admin") or (who == "base_emp" and status != S.PROPOSED)):
                return NotFound
            movers = TRANSITIONS.get((status, to))
            if movers is None:
                return Conflict
            if role != Role.ADMINISTRATOR and MOVER[role] not in movers:
                return Forbidden
            if (to in END_REASONS) != (reason is not None) or (to in END_REASONS and reason not in END_REASONS[to]):
                return Invalid
            if to in STAY_DAYS and self.day < referral.started_on + dt.timedelta(days=STAY_DAYS[to]):
                return Invalid
            if to in SEAT_HOLDING and not referral.holds_seat and referral.slot.seats_taken >= referral.slot.seats:
                return Conflict
            return None

        @precondition(lambda self: self.referral_ids)
        @rule(pick=st.integers(0, 10**6), result=st.sampled_from(["staying", "left", "unreachable"]),
              who=st.sampled_from(("keeper", "base_emp", "admin", "other_cw")))
        def complete_a_check(self, pick, result, who):
            session.expire_all()
            open_tasks = session.scalars(select(FollowUpTask).join(Referral).where(
                Referral.id.in_(self.referral_ids), FollowUpTask.status == TaskStatus.OPEN)
                .order_by(FollowUpTask.id)).all()
            if not open_tasks:
                return
            task = open_tasks[pick % len(open_tasks)]
            referral = task.referral
            before = referral.status
            actor = self._people(referral.candidate_id, referral.slot_id)[who]
            try:
                with uow.savepoint():
                    complete_task(session=session, actor=actor, task_id=task.id, result=result, on_date=self.day,
                                  reason_code=EndReason.OTHER_JOB)
            except DomainError:
                session.expire_all()
                assert session.get(Referral, referral.id).status == before
                assert session.get(FollowUpTask, task.id).status == TaskStatus.OPEN
                return
            assert who != "other_cw"
            session.expire_all()
            after, done = session.get(Referral, referral.id).status, session.get(FollowUpTask, task.id)
            if result == "staying":
                assert after in PLACED and STAY_DAYS.get(after, 0) >= task.days
                assert self.day >= referral.started_on + dt.timedelta(days=task.days)
            elif result == "left":
                assert after == S.LEFT
            assert done.status == (TaskStatus.OPEN if result == "unreachable" else TaskStatus.DONE)

        @rule(c=st.integers(0, 2), state=st.sampled_from([None, "working", "left"]))
        def visit(self, c, state):
            session.expire_all()
            candidate_id = self.candidate_ids[c]
            running = session.scalars(select(Referral).where(
                Referral.candidate_id == candidate_id, Referral.status.in_(PLACED)).order_by(Referral.id)).all()
            keeper = accounts["cw_a" if self.office_a[candidate_id] else "cw_b"]
            data = {"visited_on": self.day, "kind": "workplace", "note": "到岗位走访",
                    "employment_state": state, "referral_id": running[0].id if running else None}
            try:
                with uow.savepoint():
                    add_visit(session=session, actor=keeper, candidate_id=candidate_id, data=data)
            except DomainError:
                assert state is not None and not running
                return
            if running and state == "left":
                session.expire_all()
                assert session.get(Referral, running[0].id).status == S.LEFT

        # ---- invariants, over this example's slots (earlier examples' rows stay in the database) -----

        @property
        def _mine(self):
            return Referral.slot_id.in_(self.slot_ids)

        @invariant()
        def statuses_and_events_follow_the_lifecycle(self):
            session.expire_all()
            values = {s.value for s in S}
            # Read as stored text, not through the enum type (which would refuse an unknown value itself).
            stored = session.execute(select(text("status")).select_from(Referral.__table__).where(self._mine))
            assert {row[0] for row in stored} <= values
            events = session.execute(select(ReferralEvent.referral_id, ReferralEvent.from_status,
                                            ReferralEvent.to_status, ReferralEvent.on_date)
                                     .join(Referral, Referral.id == ReferralEvent.referral_id).where(self._mine)
                                     .order_by(ReferralEvent.referral_id, ReferralEvent.id)).all()
            last: dict[int, tuple] = {}
            for referral_id, frm, to, on_date in events:
                previous = last.get(referral_id)
                if previous is None:
                    assert (frm, to) == (None, S.PROPOSED)
                else:
                    assert (frm, to) in TRANSITIONS and frm == previous[0], (referral_id, frm, to)
                    assert on_date >= previous[1]
                last[referral_id] = (to, on_date)
            for referral_id, status in session.execute(select(Referral.id, Referral.status).where(self._mine)):
                assert last[referral_id][0] == status

        @invariant()
        def seats_match_the_seat_holders(self):
            holders = dict(session.execute(select(Referral.slot_id, func.count(Referral.id))
                                           .where(self._mine, Referral.holds_seat.is_(True))
                                           .group_by(Referral.slot_id)).all())
            by_status = dict(session.execute(select(Referral.slot_id, func.count(Referral.id))
                                             .where(self._mine, Referral.status.in_(SEAT_HOLDING))
                                             .group_by(Referral.slot_id)).all())
            for slot_id, seats, taken in session.execute(select(Slot.id, Slot.seats, Slot.seats_taken)
                                                         .where(Slot.id.in_(self.slot_ids))):
                assert 0 <= taken <= seats
                assert taken == holders.get(slot_id, 0) == by_status.get(slot_id, 0), slot_id

        @invariant()
        def one_live_referral_per_candidate_and_slot(self):
            doubled = session.execute(select(Referral.candidate_id, Referral.slot_id)
                                      .where(self._mine, Referral.status.not_in(ENDED))
                                      .group_by(Referral.candidate_id, Referral.slot_id)
                                      .having(func.count(Referral.id) > 1)).all()
            assert doubled == []

        @invariant()
        def follow_up_checks_match_the_placements(self):
            tasks: dict[int, dict[int, tuple]] = {}
            for referral_id, days, due_on, status in session.execute(
                    select(FollowUpTask.referral_id, FollowUpTask.days, FollowUpTask.due_on, FollowUpTask.status)
                    .join(Referral, Referral.id == FollowUpTask.referral_id).where(self._mine)):
                tasks.setdefault(referral_id, {})[days] = (due_on, status)
            for referral_id, status, started_on in session.execute(
                    select(Referral.id, Referral.status, Referral.started_on).where(self._mine)):
                mine = tasks.get(referral_id, {})
                if started_on is None:
                    assert mine == {}, referral_id
                    continue
                assert {days: due for days, (due, _s) in mine.items()} == {
                    days: started_on + dt.timedelta(days=days) for days in CHECK_DAYS}, referral_id
                if status in ENDED:
                    assert all(s != TaskStatus.OPEN for _d, s in mine.values()), referral_id
                else:
                    reached = STAY_DAYS.get(status, 0)
                    for days, (_due, task_status) in mine.items():
                        assert task_status == (TaskStatus.DONE if days <= reached else TaskStatus.OPEN), \
                            (referral_id, status, days, task_status)

        @invariant()
        def a_candidate_is_placed_while_a_placement_runs(self):
            running = set(session.scalars(select(Referral.candidate_id).where(
                Referral.candidate_id.in_(self.candidate_ids), Referral.status.in_(PLACED))))
            placed = set(session.scalars(select(Candidate.id).where(
                Candidate.id.in_(self.candidate_ids), Candidate.status == CandidateStatus.PLACED)))
            assert placed == running

    run_state_machine_as_test(Lifecycle, settings=SETTINGS)
    # Not vacuous: across the run, placements started, stays were confirmed and people left.
    reached = set(session.execute(select(ReferralEvent.from_status, ReferralEvent.to_status).distinct()).all())
    assert {(S.OFFERED, S.STARTED), (S.STARTED, S.STAYED_30)} <= reached
    assert any(to == S.LEFT for _frm, to in reached)
