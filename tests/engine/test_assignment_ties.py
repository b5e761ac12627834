"""Batch assignment: ties broken on purpose (wished course, then distance, then waiting), never at the cost of
expected stays."""

from __future__ import annotations

import numpy as np
import pytest

from matcher.engine.assignment import AssignmentProblem, plan_summary, solve

SCALE = 1_000_000


def two_slots(values, **ties) -> AssignmentProblem:
    """One candidate, two slots of one seat each."""
    return AssignmentProblem(n_candidates=1, n_slots=2, edge_candidate=[0, 0], edge_slot=[0, 1], edge_value=values,
                             slot_seats=[1, 1], **ties)


def test_equal_stays_the_wished_course_wins_over_a_shorter_trip():
    plan = solve(two_slots([0.5, 0.5], edge_wish_rank=[0, 1], edge_distance_km=[1.0, 40.0],
                           candidate_waiting_days=[30.0]))
    assert plan.candidate_slot.tolist() == [1]


def test_the_first_wish_beats_the_second():
    plan = solve(two_slots([0.5, 0.5], edge_wish_rank=[2, 1]))
    assert plan.candidate_slot.tolist() == [1]
    plan = solve(two_slots([0.5, 0.5], edge_wish_rank=[1, 2]))
    assert plan.candidate_slot.tolist() == [0]


@pytest.mark.parametrize("distance, expected", [([12.0, 3.5], 1), ([3.5, 12.0], 0), ([np.nan, 30.0], 1)])
def test_equal_stays_and_no_wish_the_shorter_distance_wins(distance, expected):
    # An unknown distance counts as far as the farthest: a known 30 km is not worse than it.
    plan = solve(two_slots([0.5, 0.5], edge_wish_rank=[0, 0], edge_distance_km=distance))
    if np.isnan(distance[0]):
        assert plan.tie_levels["distance"] == 1  # one known distance: nothing to tell apart
    else:
        assert plan.candidate_slot.tolist() == [expected]


def test_equal_distance_the_person_who_waited_longer_gets_the_seat():
    for waiting, winner in (([10.0, 400.0], 1), ([400.0, 10.0], 0)):
        problem = AssignmentProblem(n_candidates=2, n_slots=1, edge_candidate=[0, 1], edge_slot=[0, 0],
                                    edge_value=[0.4, 0.4], slot_seats=[1], edge_wish_rank=[0, 0],
                                    edge_distance_km=[5.0, 5.0], candidate_waiting_days=waiting)
        plan = solve(problem)
        assert plan.candidate_slot[winner] == 0 and plan.candidate_slot[1 - winner] == -1


def test_a_shorter_trip_beats_a_longer_wait():
    problem = AssignmentProblem(n_candidates=2, n_slots=1, edge_candidate=[0, 1], edge_slot=[0, 0],
                                edge_value=[0.4, 0.4], slot_seats=[1], edge_distance_km=[2.0, 20.0],
                                candidate_waiting_days=[10.0, 900.0])
    assert solve(problem).candidate_slot.tolist() == [0, -1]


def test_a_wish_never_beats_a_slightly_higher_expected_stay():
    # One unit of the solver's resolution (1e-6) more on the slot that is neither wished nor near.
    plan = solve(two_slots([0.500001, 0.5], edge_wish_rank=[0, 1], edge_distance_km=[50.0, 0.5],
                           candidate_waiting_days=[100.0]))
    assert plan.candidate_slot.tolist() == [0]


def test_many_ties_together_never_beat_one_unit_of_the_primary():
    """A ring: candidate i takes slot i (no wish, far) or slot i+1 mod k (first wish, near); all or none move. The
    turned plan grants every wish; the straight one has one unit (1e-6) more expected stays and must win."""
    k = 60
    cand = np.repeat(np.arange(k), 2)
    slot = np.column_stack([np.arange(k), (np.arange(k) + 1) % k]).ravel()
    value = np.full(2 * k, 0.5)
    value[0] = 0.500001
    wish = np.tile([0, 1], k)
    distance = np.tile([80.0, 0.1], k)
    waiting = np.linspace(0, 2000, k)
    problem = AssignmentProblem(n_candidates=k, n_slots=k, edge_candidate=cand, edge_slot=slot,
                                edge_value=value, slot_seats=np.ones(k), edge_wish_rank=wish,
                                edge_distance_km=distance, candidate_waiting_days=waiting)
    plan = solve(problem)
    assert plan.candidate_slot.tolist() == list(range(k))
    value[0] = 0.5  # now equal: every wish is granted
    problem = AssignmentProblem(n_candidates=k, n_slots=k, edge_candidate=cand, edge_slot=slot,
                                edge_value=value, slot_seats=np.ones(k), edge_wish_rank=wish,
                                edge_distance_km=distance, candidate_waiting_days=waiting)
    assert solve(problem).candidate_slot.tolist() == [(i + 1) % k for i in range(k)]


def random_tied_problem(seed: int, *, with_ties: bool) -> AssignmentProblem:
    """Values on a coarse grid (as calibrated scores are), so that many plans tie; caps sometimes."""
    rng = np.random.default_rng(seed)
    n_c, n_s = int(rng.integers(5, 40)), int(rng.integers(2, 12))
    cand, slot = np.nonzero(rng.random((n_c, n_s)) < rng.uniform(0.2, 0.9))
    value = rng.integers(1, 8, size=len(cand)) / 10 * rng.choice([1.0, 1.5, 2.0], size=n_c)[cand]
    seats = rng.integers(0, 4, size=n_s)
    group = caps = None
    if rng.random() < 0.5:
        n_g = int(rng.integers(1, 4))
        group, caps = rng.integers(-1, n_g, size=n_s), rng.integers(0, 6, size=n_g)
    ties = {}
    if with_ties:
        distance = rng.uniform(0, 60, size=len(cand))
        distance[rng.random(len(cand)) < 0.1] = np.nan
        ties = {"edge_wish_rank": rng.integers(0, 4, size=len(cand)) * (rng.random(len(cand)) < 0.4),
                "edge_distance_km": distance, "candidate_waiting_days": rng.integers(-30, 1500, size=n_c) * 1.0}
    return AssignmentProblem(n_candidates=n_c, n_slots=n_s, edge_candidate=cand, edge_slot=slot, edge_value=value,
                             slot_seats=seats, slot_group=group, group_caps=caps, **ties)


def rounded_total(problem: AssignmentProblem, chosen: np.ndarray) -> int:
    return int(np.maximum(np.rint(problem.edge_value[chosen] * SCALE), 1).sum())


@pytest.mark.parametrize("seed", range(120))
def test_the_primary_objective_is_unchanged_by_the_tie_breaks(seed):
    plain = solve(random_tied_problem(seed, with_ties=False))
    problem = random_tied_problem(seed, with_ties=True)
    tied = solve(problem)
    assert rounded_total(problem, tied.chosen_edges) == rounded_total(problem, plain.chosen_edges)
    assert tied.objective == pytest.approx(plain.objective, abs=1e-9)
    # Still a feasible plan: one slot per person, seats and caps kept.
    assert len(set(problem.edge_candidate[tied.chosen_edges].tolist())) == len(tied.chosen_edges)
    used = np.bincount(problem.edge_slot[tied.chosen_edges], minlength=problem.n_slots)
    assert np.all(used <= problem.slot_seats)
    if problem.slot_group is not None:
        g = problem.slot_group[problem.edge_slot[tied.chosen_edges]]
        assert np.all(np.bincount(g[g >= 0], minlength=problem.n_groups) <= problem.group_caps)


@pytest.mark.parametrize("seed", range(40))
def test_among_plans_equal_in_stays_the_wishes_granted_are_most(seed):
    """With only wishes as tie-break (one level each), the plan grants as many as any primary-optimal plan: checked
    against a solve whose values carry the wish as a small bonus inside the primary's own resolution."""
    problem = random_tied_problem(seed, with_ties=True)
    wish = (problem.edge_wish_rank > 0).astype(np.int32)
    only_wish = AssignmentProblem(n_candidates=problem.n_candidates, n_slots=problem.n_slots,
                                  edge_candidate=problem.edge_candidate, edge_slot=problem.edge_slot,
                                  edge_value=problem.edge_value, slot_seats=problem.slot_seats,
                                  slot_group=problem.slot_group, group_caps=problem.group_caps, edge_wish_rank=wish)
    plan = solve(only_wish)
    # Reference: values on a grid of 0.05, a wish worth 1e-4 (at most 40 people: 4e-3 < 0.05 in all).
    bonus = problem.edge_value + 1e-4 * wish
    reference = solve(AssignmentProblem(n_candidates=problem.n_candidates, n_slots=problem.n_slots,
                                        edge_candidate=problem.edge_candidate, edge_slot=problem.edge_slot,
                                        edge_value=bonus, slot_seats=problem.slot_seats,
                                        slot_group=problem.slot_group, group_caps=problem.group_caps))
    assert plan.objective == pytest.approx(reference.objective - 1e-4 * wish[reference.chosen_edges].sum(), abs=1e-9)
    assert wish[plan.chosen_edges].sum() == wish[reference.chosen_edges].sum()


def test_levels_shrink_with_the_room_int64_leaves_and_the_plan_stays_exact():
    rng = np.random.default_rng(3)
    problem = AssignmentProblem(n_candidates=50, n_slots=5, edge_candidate=np.repeat(np.arange(50), 5),
                                edge_slot=np.tile(np.arange(5), 50), edge_value=rng.integers(1, 4, 250) / 4,
                                slot_seats=[10] * 5, edge_wish_rank=rng.integers(0, 4, 250),
                                edge_distance_km=rng.uniform(0, 30, 250),
                                candidate_waiting_days=rng.uniform(0, 900, 50))
    fine = solve(problem)
    assert fine.tie_levels == {"wish": 4, "distance": 1000, "waiting": 1000}
    coarse = solve(problem, scale=10**11)  # little room left: fewer levels, never an overflow
    assert coarse.tie_levels["distance"] * coarse.tie_levels["waiting"] < 1000 * 1000
    assert coarse.objective == pytest.approx(fine.objective, abs=1e-9)
    none = solve(problem, scale=10**15)  # no room at all: the plan is still exact, ties unbroken
    assert none.tie_levels == {"wish": 1, "distance": 1, "waiting": 1}
    assert none.objective == pytest.approx(fine.objective, abs=1e-9)
    assert plan_summary(problem, fine)["tie_levels"] == fine.tie_levels


def test_without_tie_data_the_plan_says_no_levels():
    plan = solve(two_slots([0.5, 0.25]))
    assert plan.tie_levels is None and plan.candidate_slot.tolist() == [0]


@pytest.mark.parametrize("ties, message", [
    ({"edge_wish_rank": [0]}, "edge_wish_rank must have one entry per edge"),
    ({"edge_wish_rank": [0, -1]}, "edge_wish_rank must be >= 0"),
    ({"edge_distance_km": [1.0, -2.0]}, "edge_distance_km must be >= 0"),
    ({"edge_distance_km": [1.0, np.inf]}, "edge_distance_km must be >= 0"),
    ({"edge_distance_km": [1.0]}, "edge_distance_km must have one entry per edge"),
    ({"candidate_waiting_days": [1.0, 2.0]}, "candidate_waiting_days must have n_candidates=1"),
    ({"candidate_waiting_days": [np.nan]}, "candidate_waiting_days must be finite"),
])
def test_bad_tie_data_is_refused(ties, message):
    with pytest.raises(ValueError, match=message):
        two_slots([0.5, 0.5], **ties)
