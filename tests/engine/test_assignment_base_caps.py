"""A base's monthly referrals as a group capacity: the exact plan and greedy keep to what is left of each base's
month (matcher.bases.answers), a base with none left gets nobody, and a base with no cap (-1) is free."""

from __future__ import annotations

import itertools

import numpy as np

from matcher.engine.assignment import AssignmentProblem, greedy, solve


def _brute_force(problem: AssignmentProblem) -> float:
    """The best objective over every assignment (tiny problems only)."""
    best = 0.0
    n_c = problem.n_candidates
    options = [[-1] + [int(problem.edge_slot[e]) for e in np.flatnonzero(problem.edge_candidate == c)]
               for c in range(n_c)]
    value = {(int(c), int(s)): float(v) for c, s, v in
             zip(problem.edge_candidate, problem.edge_slot, problem.edge_value, strict=True)}
    for choice in itertools.product(*options):
        used = np.bincount([s for s in choice if s >= 0], minlength=problem.n_slots)
        if np.any(used > problem.slot_seats):
            continue
        groups = problem.slot_group[[s for s in choice if s >= 0]]
        per_group = np.bincount(groups[groups >= 0], minlength=problem.n_groups)
        if np.any(per_group > problem.group_caps):
            continue
        best = max(best, sum(value[(c, s)] for c, s in enumerate(choice) if s >= 0))
    return best


def test_what_is_left_of_each_bases_month_caps_the_plan():
    # Slots 0, 1 at base 0 (one referral left this month), slot 2 at base 1 (none left), slot 3 uncapped.
    rng = np.random.default_rng(7)
    n_c, n_s = 5, 4
    cand, slot = np.meshgrid(np.arange(n_c), np.arange(n_s), indexing="ij")
    value = rng.uniform(0.1, 0.9, size=n_c * n_s)
    value[slot.ravel() == 2] += 1.0  # the base with nothing left has the best pairs: still nobody goes there
    problem = AssignmentProblem(n_c, n_s, cand.ravel(), slot.ravel(), value, np.array([3, 3, 3, 1]),
                                slot_group=np.array([0, 0, 1, -1]), group_caps=np.array([1, 0]))
    for plan in (solve(problem), greedy(problem)):
        chosen = problem.edge_slot[plan.chosen_edges]
        assert np.sum(np.isin(chosen, [0, 1])) <= 1, plan.method
        assert not np.any(chosen == 2), plan.method
        assert np.sum(chosen == 3) <= 1, plan.method
    assert solve(problem).objective == _brute_force(problem)
    assert len(solve(problem).chosen_edges) == 2  # one at base 0, one at the uncapped slot


def test_base_caps_from_standings():
    from types import SimpleNamespace

    from matcher.matching.service.assignment import _base_caps

    standing = {10: SimpleNamespace(month_left=2), 20: SimpleNamespace(month_left=0),
                30: SimpleNamespace(month_left=None)}  # 30: size not recorded, no cap
    group, caps, capped = _base_caps(np.array([20, 10, 30, 10, 40]), standing, None)
    assert group.tolist() == [1, 0, 2, 0, 3] and capped == 2
    assert caps[:2].tolist() == [2, 0] and caps[2] == caps[3] == np.iinfo(np.int32).max
    _group, caps, _capped = _base_caps(np.array([20, 10, 30]), standing, 1)  # the planner's own cap on top
    assert caps.tolist() == [1, 0, 1]
    assert _base_caps(np.array([30, 40]), standing, None)[:2] == (None, None)
