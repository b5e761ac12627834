"""Rolling-horizon planning: holding a scarce seat for a better fit arriving, the rules of who may arrive where, the
expected gain, and the year of weekly arrivals the bench runs on (a small one here)."""

from __future__ import annotations

import numpy as np
import pytest

from matcher.engine.arrivals import greedy_first_come, hindsight, make_year, myopic_batch, rolling_horizon
from matcher.engine.assignment import AssignmentProblem, solve
from matcher.engine.horizon import HorizonProblem, plan_week
from matcher.engine.synthetic import make_world

TODAY = 100


def one_seat(*, arrival_day=105, start=110, arrival_value=0.9, present_value=0.3, certainty=1.0, seats=1):
    """Person 0 is here now, person 1 is released on `arrival_day`; one slot starting on `start`."""
    return HorizonProblem(n_people=2, n_slots=1, edge_person=np.array([0, 1]), edge_slot=np.array([0, 0]),
                          edge_value=np.array([present_value, arrival_value]), edge_start=np.array([start, start]),
                          slot_seats=np.array([seats]), person_available=np.array([TODAY - 20, arrival_day]),
                          person_certainty=np.array([1.0, certainty]))


def test_a_scarce_seat_is_held_for_a_better_fit_arriving_before_the_start():
    week = plan_week(one_seat(), today=TODAY)
    assert week.holding and week.hold_requested
    assert week.committed.tolist() == [] and week.held.tolist() == [1]
    assert week.value_with_holding == pytest.approx(0.9)
    assert week.value_without_holding == pytest.approx(0.3)  # the present person takes it; the arrival finds none
    assert week.gain == pytest.approx(0.6) and week.stays_gain == pytest.approx(0.6)
    assert (week.n_present, week.n_arriving) == (1, 1)


def test_without_holding_the_present_person_is_referred_and_the_gain_is_still_told():
    week = plan_week(one_seat(), today=TODAY, hold_seats=False)
    assert not week.holding and week.committed.tolist() == [0] and week.held.tolist() == []
    assert week.gain == pytest.approx(0.6)


def test_a_second_seat_serves_both_so_nothing_needs_holding():
    week = plan_week(one_seat(seats=2), today=TODAY)
    assert week.committed.tolist() == [0]
    assert week.gain == pytest.approx(0.0, abs=1e-9) and not week.holding


@pytest.mark.parametrize("case", [
    {"arrival_day": 111},  # released after the slot starts
    {"arrival_day": TODAY + 91},  # beyond the 90-day horizon
    {"certainty": 0.3},  # 0.9 x 0.3 = 0.27 < 0.3: not worth the wait
])
def test_no_hold_when_the_arrival_cannot_or_should_not_take_the_seat(case):
    week = plan_week(one_seat(**case), today=TODAY)
    assert not week.holding and week.committed.tolist() == [0] and week.held.tolist() == []


def test_the_grace_lets_a_person_released_just_after_the_start_count():
    assert plan_week(one_seat(arrival_day=112), today=TODAY, grace_days=3).held.tolist() == [1]


def test_a_present_pair_starting_later_is_planned_and_left_for_a_later_week():
    # The arrival takes slot 0 (start 110); the present person's pair is slot 1, starting on 130: nothing needs
    # holding (the plan routes the present person away), and their referral waits for a later week's plan.
    problem = HorizonProblem(n_people=2, n_slots=2, edge_person=np.array([0, 1, 0]), edge_slot=np.array([0, 0, 1]),
                             edge_value=np.array([0.3, 0.9, 0.2]), edge_start=np.array([110, 110, 130]),
                             slot_seats=np.array([1, 1]), person_available=np.array([TODAY - 20, 105]))
    soon = plan_week(problem, today=TODAY, commit_within_days=14)
    assert not soon.holding and soon.committed.tolist() == [] and soon.deferred.tolist() == [2]
    later = plan_week(problem, today=TODAY, commit_within_days=30)
    assert later.committed.tolist() == [2] and later.deferred.tolist() == []
    assert plan_week(problem, today=TODAY, hold_seats=False, commit_within_days=14).committed.tolist() == [2]


def test_holding_only_when_the_gain_exceeds_the_threshold():
    assert not plan_week(one_seat(), today=TODAY, min_gain=0.7).holding
    assert plan_week(one_seat(), today=TODAY, min_gain=0.5).holding


def test_the_certainty_discounts_the_value_with_holding():
    week = plan_week(one_seat(certainty=0.5), today=TODAY)
    assert week.holding and week.value_with_holding == pytest.approx(0.45)


@pytest.mark.parametrize("seed", range(6))
def test_random_weeks_are_feasible_and_the_horizon_plan_is_the_joint_optimum(seed):
    rng = np.random.default_rng(seed)
    n, m = 40, 8
    mask = rng.random((n, m)) < 0.5
    person, slot = np.nonzero(mask)
    start = TODAY + rng.integers(0, 60, size=m)
    available = TODAY + rng.integers(-60, 90, size=n)
    seats = rng.integers(0, 4, size=m)
    value = rng.random(len(person))
    problem = HorizonProblem(n_people=n, n_slots=m, edge_person=person, edge_slot=slot, edge_value=value,
                             edge_start=start[slot], slot_seats=seats, person_available=available)
    week = plan_week(problem, today=TODAY, horizon_days=60)
    present = available <= TODAY
    assert present[person[week.committed]].all() and not present[person[week.held]].any()
    both = np.concatenate([week.committed, week.held])
    assert len(set(person[both].tolist())) == len(both)  # one slot a person
    assert (np.bincount(slot[both], minlength=m) <= seats).all()
    assert (available[person[week.held]] <= start[slot[week.held]]).all()
    assert week.gain >= -1e-5
    # With holding, the plan is the exact optimum over the present and the arrivals that may come in time.
    arriving = (available > TODAY) & (available <= TODAY + 60)
    allowed = present[person] | (arriving[person] & (available[person] <= start[slot]))
    joint = solve(AssignmentProblem(n_candidates=n, n_slots=m, edge_candidate=person[allowed],
                                    edge_slot=slot[allowed], edge_value=value[allowed], slot_seats=seats))
    assert week.value_with_holding == pytest.approx(joint.objective, abs=1e-4)
    # Without holding, no seat is left empty that a present person without a pair could take.
    no_hold = plan_week(problem, today=TODAY, horizon_days=60, hold_seats=False)
    used = np.bincount(slot[no_hold.committed], minlength=m)
    free = present.copy()
    free[person[no_hold.committed]] = False
    assert not (free[person] & (used[slot] < seats[slot])).any()
    assert len(no_hold.held) == 0


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="edge_start"):
        HorizonProblem(n_people=1, n_slots=1, edge_person=[0], edge_slot=[0], edge_value=[0.5], edge_start=[1.5],
                       slot_seats=[1], person_available=np.array([0]))
    with pytest.raises(ValueError, match="person_certainty"):
        HorizonProblem(n_people=1, n_slots=1, edge_person=[0], edge_slot=[0], edge_value=[0.5],
                       edge_start=np.array([1]), slot_seats=[1], person_available=np.array([0]),
                       person_certainty=[1.5])
    with pytest.raises(ValueError, match="horizon_days"):
        plan_week(one_seat(), today=TODAY, horizon_days=-1)


@pytest.fixture(scope="module")
def year():
    return make_year(make_world(3, n_candidates=160, n_slots=30, n_history=0), seed=3)


def test_the_year_policies_place_feasibly_and_never_beat_hindsight(year):
    best = hindsight(year)
    for outcome in (greedy_first_come(year), myopic_batch(year), rolling_horizon(year, hold_seats=False),
                    rolling_horizon(year)):
        placed = outcome.placed
        person, slot = year.edge_person[placed], year.edge_slot[placed]
        assert len(np.unique(person)) == len(placed), outcome.policy
        assert (np.bincount(slot, minlength=year.n_slots) <= year.slot_seats).all(), outcome.policy
        gap = year.slot_start[slot] - year.release_day[person]
        assert ((gap >= 0) & (gap <= year.patience_days)).all(), outcome.policy
        assert outcome.stays <= best.stays + 1e-6, outcome.policy
        assert outcome.solve_seconds, outcome.policy


def test_the_year_lists_people_ahead_and_some_are_late(year):
    assert (year.listed_day == year.forecast_day - 90).all()
    assert (year.release_day >= year.forecast_day).all() and (year.release_day > year.forecast_day).any()
    assert (year.forecast_day % 7 == 0).all()  # weekly batches
