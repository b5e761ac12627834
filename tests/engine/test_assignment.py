"""Batch assignment: exactness against independent references, feasibility, greedy, edge cases, blocking."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, linear_sum_assignment, milp

from matcher.engine.assignment import (
    AssignmentPlan,
    AssignmentProblem,
    candidate_blocking,
    compare,
    greedy,
    plan_summary,
    priority_weights,
    solve,
)

REL = 1e-6


# -- helpers ---------------------------------------------------------------------------------------------------


def random_problem(seed: int, *, caps: bool, duplicates: bool = True, nonpositive: bool = True):
    rng = np.random.default_rng(seed)
    n_c = int(rng.integers(8, 31))
    n_s = int(rng.integers(3, 11))
    density = rng.uniform(0.15, 0.9)
    mask = rng.random((n_c, n_s)) < density
    cand, slot = np.nonzero(mask)
    value = rng.random(len(cand))
    if duplicates and len(cand):
        extra = rng.choice(len(cand), size=max(1, len(cand) // 10))
        cand = np.concatenate([cand, cand[extra]])
        slot = np.concatenate([slot, slot[extra]])
        value = np.concatenate([value, rng.random(len(extra))])
    if nonpositive and len(value):
        bad = rng.random(len(value)) < 0.05
        value[bad] = -rng.random(int(bad.sum())) * (rng.random(int(bad.sum())) < 0.7)
    perm = rng.permutation(len(cand))
    cand, slot, value = cand[perm], slot[perm], value[perm]
    seats = rng.integers(1, 4, size=n_s)
    if rng.random() < 0.3:
        seats[rng.integers(0, n_s)] = 0
    group = group_caps = None
    if caps:
        n_g = int(rng.integers(1, 4))
        group = rng.integers(-1, n_g, size=n_s)  # -1: a slot outside every group
        group_caps = rng.integers(0, 5, size=n_g)
    return AssignmentProblem(n_candidates=n_c, n_slots=n_s, edge_candidate=cand, edge_slot=slot, edge_value=value,
                             slot_seats=seats, slot_group=group, group_caps=group_caps)


def best_pairs(problem: AssignmentProblem) -> dict[tuple[int, int], float]:
    """(candidate, slot) -> the largest positive value given for the pair."""
    best: dict[tuple[int, int], float] = {}
    for c, s, v in zip(problem.edge_candidate.tolist(), problem.edge_slot.tolist(), problem.edge_value.tolist(),
                       strict=True):
        if v > 0 and v > best.get((c, s), 0.0):
            best[(c, s)] = v
    return best


def lsa_optimum(problem: AssignmentProblem) -> float:
    """Optimum without caps: linear_sum_assignment on the candidate x seat matrix (0 = not assigned)."""
    seat_slot = np.repeat(np.arange(problem.n_slots), problem.slot_seats)
    if len(seat_slot) == 0 or problem.n_candidates == 0:
        return 0.0
    matrix = np.zeros((problem.n_candidates, problem.n_slots))
    for (c, s), v in best_pairs(problem).items():
        matrix[c, s] = v
    expanded = matrix[:, seat_slot]
    rows, cols = linear_sum_assignment(expanded, maximize=True)
    return float(expanded[rows, cols].sum())


def milp_optimum(problem: AssignmentProblem) -> float:
    """Optimum with caps: a 0/1 integer programme solved by HiGHS through scipy.optimize.milp."""
    pairs = best_pairs(problem)
    if not pairs:
        return 0.0
    keys = list(pairs)
    values = np.array([pairs[k] for k in keys])
    n = len(keys)
    rows, bounds = [], []
    for c in range(problem.n_candidates):
        rows.append([1.0 if k[0] == c else 0.0 for k in keys])
        bounds.append(1)
    for s in range(problem.n_slots):
        rows.append([1.0 if k[1] == s else 0.0 for k in keys])
        bounds.append(int(problem.slot_seats[s]))
    if problem.slot_group is not None:
        for g in range(problem.n_groups):
            rows.append([1.0 if problem.slot_group[k[1]] == g else 0.0 for k in keys])
            bounds.append(int(problem.group_caps[g]))
    result = milp(-values, integrality=np.ones(n), bounds=Bounds(0, 1),
                  constraints=LinearConstraint(np.array(rows), -np.inf, np.array(bounds, dtype=float)),
                  options={"mip_rel_gap": 0.0})
    assert result.success
    return float(-result.fun)


def brute_force_optimum(problem: AssignmentProblem) -> float:
    pairs = best_pairs(problem)
    options = [[None] + [s for (c, s) in pairs if c == i] for i in range(problem.n_candidates)]
    best = 0.0
    for choice in itertools.product(*options):
        used = np.zeros(problem.n_slots, dtype=int)
        for s in choice:
            if s is not None:
                used[s] += 1
        if np.any(used > problem.slot_seats):
            continue
        if problem.slot_group is not None:
            per_group = np.zeros(problem.n_groups, dtype=int)
            for s in range(problem.n_slots):
                if problem.slot_group[s] >= 0:
                    per_group[problem.slot_group[s]] += used[s]
            if np.any(per_group > problem.group_caps):
                continue
        best = max(best, sum(pairs[(c, s)] for c, s in enumerate(choice) if s is not None))
    return best


def assert_feasible(problem: AssignmentProblem, plan: AssignmentPlan) -> None:
    chosen = plan.chosen_edges
    assert chosen.dtype == np.int64 and plan.candidate_slot.dtype == np.int32
    assert plan.candidate_slot.shape == (problem.n_candidates,)
    assert np.all(np.diff(chosen) > 0), "chosen edges are distinct and ascending"
    cands, slots = problem.edge_candidate[chosen], problem.edge_slot[chosen]
    assert len(np.unique(cands)) == len(cands), "a candidate holds at most one slot"
    assert np.all(problem.edge_value[chosen] > 0), "never a non-positive value"
    used = np.bincount(slots, minlength=problem.n_slots)
    assert np.all(used <= problem.slot_seats), "seats respected"
    if problem.slot_group is not None:
        g = problem.slot_group[slots]
        assert np.all(np.bincount(g[g >= 0], minlength=problem.n_groups) <= problem.group_caps), "caps respected"
    expected = np.full(problem.n_candidates, -1)
    expected[cands] = slots
    np.testing.assert_array_equal(plan.candidate_slot, expected)
    assert plan.objective == pytest.approx(float(problem.edge_value[chosen].sum()), rel=1e-12, abs=1e-12)


# -- exactness -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(60))
def test_solve_equals_linear_sum_assignment_without_caps(seed):
    problem = random_problem(seed, caps=False)
    plan = solve(problem)
    assert_feasible(problem, plan)
    assert plan.method == "min_cost_flow" and plan.optimal
    optimum = lsa_optimum(problem)
    assert plan.objective == pytest.approx(optimum, rel=REL, abs=1e-9)
    base = greedy(problem)
    assert_feasible(problem, base)
    assert base.objective <= optimum + 1e-9
    assert base.method == "greedy" and not base.optimal


@pytest.mark.parametrize("seed", range(60))
def test_solve_equals_milp_with_caps(seed):
    problem = random_problem(1000 + seed, caps=True)
    plan = solve(problem)
    assert_feasible(problem, plan)
    optimum = milp_optimum(problem)
    assert plan.objective == pytest.approx(optimum, rel=REL, abs=1e-9)
    base = greedy(problem)
    assert_feasible(problem, base)
    assert base.objective <= optimum + 1e-9


@pytest.mark.parametrize("seed", range(15))
def test_solve_equals_brute_force_on_tiny_instances(seed):
    rng = np.random.default_rng(5000 + seed)
    n_c, n_s = int(rng.integers(2, 7)), int(rng.integers(1, 4))
    cand, slot = np.nonzero(rng.random((n_c, n_s)) < 0.7)
    caps = seed % 2 == 0
    problem = AssignmentProblem(n_c, n_s, cand, slot, rng.random(len(cand)), rng.integers(0, 3, size=n_s),
                                slot_group=rng.integers(0, 2, size=n_s) if caps else None,
                                group_caps=rng.integers(0, 3, size=2) if caps else None)
    assert solve(problem).objective == pytest.approx(brute_force_optimum(problem), rel=REL, abs=1e-9)


def test_pruning_keeps_the_optimum_with_ties_and_crowded_slots():
    # 40 candidates all wanting the same 2 slots (3 seats in all): every slot has far more pairs than seats.
    rng = np.random.default_rng(3)
    cand = np.repeat(np.arange(40), 2)
    slot = np.tile([0, 1], 40)
    for value in (np.ones(80), np.round(rng.random(80), 1), rng.random(80)):
        problem = AssignmentProblem(40, 2, cand, slot, value, np.array([2, 1]))
        plan = solve(problem)
        assert_feasible(problem, plan)
        assert plan.objective == pytest.approx(lsa_optimum(problem), rel=REL)
        assert len(plan.chosen_edges) == 3


def test_rounding_stays_within_the_documented_bound():
    # Values that differ below 1 / scale: the plan may pick either, but loses at most 2 * |plan| / scale.
    rng = np.random.default_rng(11)
    problem = random_problem(11, caps=False)
    nudged = AssignmentProblem(problem.n_candidates, problem.n_slots, problem.edge_candidate, problem.edge_slot,
                               np.round(problem.edge_value, 3) + rng.random(problem.n_edges) * 1e-8,
                               problem.slot_seats)
    optimum = lsa_optimum(nudged)
    for scale in (1_000, 1_000_000, 10**9):
        plan = solve(nudged, scale=scale)
        assert_feasible(nudged, plan)
        assert optimum - plan.objective <= 2 * len(plan.chosen_edges) / scale + 1e-12


# -- greedy ----------------------------------------------------------------------------------------------------


def test_greedy_strictly_worse_on_a_crafted_instance():
    # A is best at X (10) but also good at Y (9); B can only go to X (8). Greedy gives A X and leaves B out.
    problem = AssignmentProblem(2, 2, np.array([0, 0, 1]), np.array([0, 1, 0]), np.array([10.0, 9.0, 8.0]),
                                np.array([1, 1]))
    exact, base = solve(problem), greedy(problem)
    assert exact.objective == 17.0 and list(exact.candidate_slot) == [1, 0]
    assert base.objective == 10.0 and list(base.candidate_slot) == [0, -1]
    result = compare(problem)
    assert result["optimal_objective"] == 17.0 and result["greedy_objective"] == 10.0
    assert result["gain"] == 7.0 and result["relative_gain"] == pytest.approx(0.7)
    assert result["optimal_assigned"] == 2 and result["greedy_assigned"] == 1


def test_greedy_tie_break_is_candidate_then_slot():
    problem = AssignmentProblem(3, 2, np.array([2, 1, 1, 0]), np.array([0, 1, 0, 1]), np.full(4, 0.5),
                                np.array([1, 1]))
    # Order taken: (0, 1), (1, 0), then (1, 1) and (2, 0) are blocked.
    assert list(greedy(problem).candidate_slot) == [1, 0, -1]


def test_greedy_respects_caps():
    problem = AssignmentProblem(3, 2, np.array([0, 1, 2]), np.array([0, 1, 1]), np.array([0.9, 0.8, 0.7]),
                                np.array([1, 5]), slot_group=np.array([0, 0]), group_caps=np.array([2]))
    plan = greedy(problem)
    assert_feasible(problem, plan)
    assert list(plan.candidate_slot) == [0, 1, -1]


# -- determinism -----------------------------------------------------------------------------------------------


def test_solve_and_greedy_are_deterministic():
    rng = np.random.default_rng(8)
    cand, slot = np.nonzero(rng.random((200, 20)) < 0.5)
    value = np.round(rng.random(len(cand)), 1)  # many ties
    problem = AssignmentProblem(200, 20, cand, slot, value, rng.integers(1, 4, size=20),
                                slot_group=rng.integers(0, 4, size=20), group_caps=np.array([5, 6, 7, 8]))
    first, second = solve(problem), solve(problem)
    np.testing.assert_array_equal(first.chosen_edges, second.chosen_edges)
    np.testing.assert_array_equal(first.candidate_slot, second.candidate_slot)
    assert first.objective == second.objective
    np.testing.assert_array_equal(greedy(problem).chosen_edges, greedy(problem).chosen_edges)
    assert_feasible(problem, first)


# -- edge cases ------------------------------------------------------------------------------------------------


def empty_int():
    return np.zeros(0, dtype=np.int32)


def test_no_edges_no_candidates_no_slots():
    for problem in (AssignmentProblem(5, 3, empty_int(), empty_int(), np.zeros(0), np.array([1, 2, 3])),
                    AssignmentProblem(0, 0, empty_int(), empty_int(), np.zeros(0), empty_int()),
                    AssignmentProblem(0, 2, [], [], [], [1, 1], slot_group=[0, 0], group_caps=[1])):
        for plan in (solve(problem), greedy(problem)):
            assert plan.objective == 0.0 and len(plan.chosen_edges) == 0
            assert np.all(plan.candidate_slot == -1) and len(plan.candidate_slot) == problem.n_candidates
        assert plan_summary(problem, solve(problem))["assigned"] == 0


def test_zero_seats_and_zero_caps_assign_nobody():
    problem = AssignmentProblem(2, 2, np.array([0, 1]), np.array([0, 1]), np.array([0.5, 0.6]), np.array([0, 0]))
    assert len(solve(problem).chosen_edges) == 0 and len(greedy(problem).chosen_edges) == 0
    capped = AssignmentProblem(2, 2, np.array([0, 1]), np.array([0, 1]), np.array([0.5, 0.6]), np.array([3, 3]),
                               slot_group=np.array([0, 0]), group_caps=np.array([0]))
    assert len(solve(capped).chosen_edges) == 0 and len(greedy(capped).chosen_edges) == 0


def test_duplicate_edges_keep_the_largest_value():
    problem = AssignmentProblem(1, 1, np.array([0, 0, 0]), np.array([0, 0, 0]), np.array([0.2, 0.7, 0.4]),
                                np.array([1]))
    for plan in (solve(problem), greedy(problem)):
        assert list(plan.chosen_edges) == [1] and plan.objective == 0.7


def test_non_positive_values_are_never_assigned():
    problem = AssignmentProblem(3, 1, np.array([0, 1, 2]), np.array([0, 0, 0]), np.array([0.0, -1.0, 1e-9]),
                                np.array([3]))
    for plan in (solve(problem), greedy(problem)):
        assert list(plan.chosen_edges) == [2]  # even a tiny positive value beats leaving the candidate out
        assert list(plan.candidate_slot) == [-1, -1, 0]


def test_caps_smaller_than_seats_bind():
    # Base 0 has 6 seats over two slots but a cap of 2; slot 2 is outside every group.
    cand = np.array([0, 1, 2, 3, 4, 4])
    slot = np.array([0, 0, 1, 1, 2, 0])
    value = np.array([0.9, 0.8, 0.7, 0.6, 0.1, 0.85])
    problem = AssignmentProblem(5, 3, cand, slot, value, np.array([3, 3, 1]), slot_group=np.array([0, 0, -1]),
                                group_caps=np.array([2]))
    plan = solve(problem)
    assert_feasible(problem, plan)
    assert plan.objective == pytest.approx(milp_optimum(problem))
    assert plan.objective == pytest.approx(0.9 + 0.8 + 0.1)
    summary = plan_summary(problem, plan)
    assert summary["groups"] == {0: {"assigned": 2, "cap": 2}}
    assert summary["assigned"] == 3 and summary["seats_used"] == 3 and summary["seats_free"] == 7


def test_plan_summary_fields():
    problem = random_problem(4, caps=True)
    plan = solve(problem)
    summary = plan_summary(problem, plan)
    assert summary["method"] == "min_cost_flow" and summary["optimal"] is True
    assert summary["objective"] == plan.objective
    assert summary["assigned"] == len(plan.chosen_edges) == summary["seats_used"]
    assert summary["n_edges"] == problem.n_edges
    assert sum(g["assigned"] for g in summary["groups"].values()) <= summary["assigned"]


def test_inputs_are_coerced_to_the_documented_dtypes():
    problem = AssignmentProblem(2, 1, [0, 1], [0, 0], [1, 2], [1], slot_group=[0], group_caps=[1])
    assert problem.edge_candidate.dtype == np.int32 and problem.edge_slot.dtype == np.int32
    assert problem.edge_value.dtype == np.float64 and problem.slot_seats.dtype == np.int32
    assert problem.slot_group.dtype == np.int32 and problem.group_caps.dtype == np.int32
    assert solve(problem).objective == 2.0


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"edge_slot": [0]}, "same length"),
    ({"edge_candidate": [0, 5]}, "edge_candidate must lie in"),
    ({"edge_candidate": [0, -1]}, "edge_candidate must lie in"),
    ({"edge_slot": [0, 2]}, "edge_slot must lie in"),
    ({"edge_value": [0.5, np.nan]}, "finite"),
    ({"edge_value": [[0.5, 0.5]]}, "1-dimensional"),
    ({"edge_candidate": [0.5, 1]}, "must hold integers"),
    ({"slot_seats": [1]}, "slot_seats must have n_slots=2"),
    ({"slot_seats": [1, -1]}, "slot_seats must be >= 0"),
    ({"slot_group": [0, 0]}, "given together"),
    ({"group_caps": [1]}, "given together"),
    ({"slot_group": [0, 3], "group_caps": [1]}, "slot_group must lie in"),
    ({"slot_group": [0, -2], "group_caps": [1]}, "slot_group must lie in"),
    ({"slot_group": [0], "group_caps": [1]}, "slot_group must have n_slots=2"),
    ({"slot_group": [0, 0], "group_caps": [-1]}, "group_caps must be >= 0"),
    ({"n_candidates": -1}, "n_candidates must be a non-negative integer"),
    ({"n_slots": 2.0}, "n_slots must be a non-negative integer"),
])
def test_bad_input_raises_a_clear_value_error(kwargs, message):
    base = {"n_candidates": 3, "n_slots": 2, "edge_candidate": [0, 1], "edge_slot": [0, 1],
            "edge_value": [0.5, 0.4], "slot_seats": [1, 1]}
    with pytest.raises(ValueError, match=message):
        AssignmentProblem(**{**base, **kwargs})


def test_bad_scale_raises():
    problem = AssignmentProblem(1, 1, [0], [0], [0.5], [1])
    with pytest.raises(ValueError, match="scale must be a positive integer"):
        solve(problem, scale=0)
    with pytest.raises(ValueError, match="too large"):
        solve(problem, scale=10**19)


# -- priority weights ------------------------------------------------------------------------------------------


def test_priority_weights():
    key = np.array([False, True, False, True, False])
    days = np.array([0, 0, 730.5, 3652.5, -30])
    np.testing.assert_allclose(priority_weights(key, days), [1, 2, 1, 2, 1])
    np.testing.assert_allclose(priority_weights(key, days, key_subject_weight=0.5, waiting_weight_per_year=0.25),
                               [1, 1.5, 1.5, 3.0, 1])  # 1 + 0.5 + 0.25 * 10 = 4 is clipped to 3
    np.testing.assert_allclose(priority_weights(key, days, key_subject_weight=0.0), np.ones(5))
    np.testing.assert_allclose(priority_weights(key, days, waiting_weight_per_year=1.0, max_weight=10.0)[3], 10.0)


@pytest.mark.parametrize(("args", "kwargs", "message"), [
    (([True], [1, 2]), {}, "same length"),
    (([True], [np.nan]), {}, "finite"),
    (([True], [1]), {"key_subject_weight": -1.0}, "key_subject_weight"),
    (([True], [1]), {"waiting_weight_per_year": float("inf")}, "waiting_weight_per_year"),
    (([True], [1]), {"max_weight": 0.5}, "max_weight"),
])
def test_priority_weights_bad_input(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        priority_weights(np.asarray(args[0]), np.asarray(args[1]), **kwargs)


def test_priority_weights_move_the_plan():
    # One seat, two candidates: the key subject's slightly lower probability wins once weighted.
    weight = priority_weights(np.array([False, True]), np.array([0, 0]))
    prob = np.array([0.6, 0.4])
    problem = AssignmentProblem(2, 1, [0, 1], [0, 0], prob * weight, [1])
    assert list(solve(problem).candidate_slot) == [-1, 0]


# -- blocking --------------------------------------------------------------------------------------------------


def haversine_km(lat1, lng1, lat2, lng2):
    lat1, lng1, lat2, lng2 = map(np.radians, (lat1, lng1, lat2, lng2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lng2 - lng1) / 2) ** 2
    return 2 * 6371.0088 * np.arcsin(np.sqrt(a))


@pytest.mark.parametrize(("max_km", "k"), [(30.0, 5), (80.0, 12), (500.0, 1000), (5.0, 3)])
def test_candidate_blocking_keeps_the_k_nearest_within_max_km(max_km, k):
    rng = np.random.default_rng(int(max_km))
    c_lat, c_lng = 23 + rng.random(300), 113 + rng.random(300) * 1.2
    s_lat, s_lng = 23 + rng.random(80), 113 + rng.random(80) * 1.2
    c_lat[0], c_lng[0] = 40.0, 100.0  # far from every slot
    cand, slot, dist = candidate_blocking(c_lat, c_lng, s_lat, s_lng, max_km, k, return_distance=True)
    assert cand.dtype == np.int32 and slot.dtype == np.int32
    full = haversine_km(c_lat[:, None], c_lng[:, None], s_lat[None, :], s_lng[None, :])
    np.testing.assert_allclose(dist, full[cand, slot], atol=1e-6)
    assert np.all(dist <= max_km + 1e-9)
    assert np.all(np.bincount(cand, minlength=300) <= k)
    assert 0 not in cand
    for i in range(300):
        within = np.flatnonzero(full[i] <= max_km)
        expected = within[np.argsort(full[i, within], kind="stable")][:k]
        got = slot[cand == i]
        assert set(got.tolist()) == set(expected.tolist())
        assert np.all(np.diff(full[i, got]) >= 0), "ordered by distance within a candidate"
    assert np.all(np.diff(cand) >= 0), "ordered by candidate"
    plain = candidate_blocking(c_lat, c_lng, s_lat, s_lng, max_km, k)
    assert len(plain) == 2
    np.testing.assert_array_equal(plain[0], cand)
    np.testing.assert_array_equal(plain[1], slot)


def test_candidate_blocking_then_solve():
    rng = np.random.default_rng(2)
    c_lat, c_lng = 23 + rng.random(200) * 0.5, 113 + rng.random(200) * 0.5
    s_lat, s_lng = 23 + rng.random(30) * 0.5, 113 + rng.random(30) * 0.5
    cand, slot, dist = candidate_blocking(c_lat, c_lng, s_lat, s_lng, max_km=20.0, k=5, return_distance=True)
    problem = AssignmentProblem(200, 30, cand, slot, np.exp(-dist / 10), rng.integers(1, 4, size=30))
    plan = solve(problem)
    assert_feasible(problem, plan)
    assert plan.objective == pytest.approx(lsa_optimum(problem), rel=REL)


def test_candidate_blocking_edge_cases_and_errors():
    none = candidate_blocking(np.array([23.0]), np.array([113.0]), np.zeros(0), np.zeros(0), 10.0, 3)
    assert len(none[0]) == 0 and len(none[1]) == 0
    nan = candidate_blocking(np.array([np.nan, 23.0]), np.array([113.0, 113.0]), np.array([23.0, np.nan]),
                             np.array([113.0, 113.0]), 10.0, 3)
    assert nan[0].tolist() == [1] and nan[1].tolist() == [0]
    single = candidate_blocking(np.array([23.0, 23.5]), np.array([113.0, 113.0]), np.array([23.01, 23.49]),
                                np.array([113.0, 113.0]), 100.0, 1)
    assert single[0].tolist() == [0, 1] and single[1].tolist() == [0, 1]
    with pytest.raises(ValueError, match="max_km"):
        candidate_blocking([23.0], [113.0], [23.0], [113.0], 0.0, 3)
    with pytest.raises(ValueError, match="k must be a positive integer"):
        candidate_blocking([23.0], [113.0], [23.0], [113.0], 10.0, 0)
    with pytest.raises(ValueError, match="candidate_lat and candidate_lng"):
        candidate_blocking([23.0, 24.0], [113.0], [23.0], [113.0], 10.0, 3)
    with pytest.raises(ValueError, match="slot_lat and slot_lng"):
        candidate_blocking([23.0], [113.0], [23.0], [113.0, 114.0], 10.0, 3)
