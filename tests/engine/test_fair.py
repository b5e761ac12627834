"""Job-fair planner: feasibility on random instances, optimality against a MILP, gap, edge cases, replan."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import lil_matrix

from matcher.engine.fair import FairPlan, FairProblem, check_plan, plan_fair, replan


def random_problem(seed: int, n_c: int = 12, n_b: int = 4, n_t: int = 4, k: int = 2, p: float = 0.5,
                   avail_p: float = 0.8, cap_hi: int = 3) -> FairProblem:
    rng = np.random.default_rng(seed)
    mask = rng.random((n_c, n_b)) < p
    c, b = np.nonzero(mask)
    value = rng.uniform(0.05, 1.0, len(c)).round(3)
    cap = rng.integers(0, cap_hi, (n_b, n_t))
    avail = rng.random((n_c, n_t)) < avail_p
    return FairProblem(n_candidates=n_c, n_booths=n_b, n_blocks=n_t, edge_candidate=c, edge_booth=b,
                       edge_value=value, booth_capacity=cap, max_interviews=k, candidate_available=avail)


def milp_optimum(problem: FairProblem) -> float:
    """Exact optimum of the full timed problem: x[c, b, t] over eligible pairs."""
    values = problem.pair_values()
    avail = problem.available()
    fixed = set(problem.fixed)
    var = []
    for (c, b), v in values.items():
        for t in range(problem.n_blocks):
            if (avail[c, t] and problem.booth_capacity[b, t] > 0) or (c, b, t) in fixed:
                var.append((c, b, t, v))
    for c, b, t in fixed:
        if (c, b) not in values:
            var.append((c, b, t, 0.0))
    if not var:
        return 0.0
    rows: dict[tuple, int] = {}
    entries = []
    for j, (c, b, t, _v) in enumerate(var):
        for key in (("c", c), ("cb", c, b), ("ct", c, t), ("bt", b, t)):
            entries.append((rows.setdefault(key, len(rows)), j))
    a = lil_matrix((len(rows), len(var)))
    for i, j in entries:
        a[i, j] = 1
    ub = np.empty(len(rows))
    for key, i in rows.items():
        ub[i] = {"c": problem.max_interviews, "cb": 1, "ct": 1}.get(key[0], 0)
        if key[0] == "bt":
            ub[i] = problem.booth_capacity[key[1], key[2]]
    lo = np.array([1.0 if (c, b, t) in fixed else 0.0 for c, b, t, _ in var])
    res = milp(-np.array([v for *_, v in var]), constraints=LinearConstraint(a.tocsr(), -np.inf, ub),
               integrality=np.ones(len(var)), bounds=Bounds(lo, np.ones(len(var))))
    assert res.success
    return -res.fun


def assert_feasible(problem: FairProblem, plan: FairPlan) -> None:
    assert check_plan(problem, plan) == []
    assert plan.bound >= plan.objective - 1e-9
    assert 0.0 <= plan.gap <= 1.0
    assert plan.status in ("optimal", "feasible")


@pytest.mark.parametrize("seed", range(25))
def test_random_plans_are_feasible_and_optimal_on_tiny_instances(seed):
    problem = random_problem(seed, k=1 + seed % 3)
    plan = plan_fair(problem, time_limit_s=5)
    assert_feasible(problem, plan)
    best = milp_optimum(problem)
    assert plan.objective <= best + 1e-6
    assert plan.bound >= best - 1e-6
    assert plan.objective >= best * (1 - 1e-6) - 1e-9 or plan.status == "feasible"
    assert plan.objective >= 0.95 * best - 1e-9


@pytest.mark.parametrize("seed", range(6))
def test_medium_instances_report_a_small_gap(seed):
    problem = random_problem(100 + seed, n_c=300, n_b=20, n_t=8, k=3, p=0.2, avail_p=0.9, cap_hi=4)
    plan = plan_fair(problem, time_limit_s=3)
    assert_feasible(problem, plan)
    assert plan.gap <= 0.01
    assert plan.bound > 0


def test_full_availability_uniform_capacity_is_optimal():
    rng = np.random.default_rng(7)
    n_c, n_b, n_t = 200, 10, 6
    c, b = np.nonzero(rng.random((n_c, n_b)) < 0.4)
    problem = FairProblem(n_c, n_b, n_t, c, b, rng.uniform(0.1, 1, len(c)), np.full((n_b, n_t), 2), 3)
    plan = plan_fair(problem, time_limit_s=5)
    assert_feasible(problem, plan)
    assert plan.gap <= 1e-6


def test_withdrawn_booth_gets_no_interviews():
    problem = random_problem(3, n_c=30, n_b=5, n_t=4, k=2, p=0.6, avail_p=1.0, cap_hi=3)
    cap = problem.booth_capacity.copy()
    cap[2] = 0
    problem = FairProblem(problem.n_candidates, problem.n_booths, problem.n_blocks, problem.edge_candidate,
                          problem.edge_booth, problem.edge_value, cap, 2)
    plan = plan_fair(problem)
    assert_feasible(problem, plan)
    assert not np.any(plan.interviews[:, 1] == 2)
    # A candidate whose only booth withdrew cannot be placed: capacity.
    only = FairProblem(2, 2, 2, [0, 1], [0, 1], [1.0, 1.0], [[0, 0], [1, 1]], 1)
    plan = plan_fair(only)
    assert plan.unplaced == {0: "capacity"}
    assert plan.objective == pytest.approx(1.0)


def test_more_demand_than_capacity():
    n_c, n_b, n_t = 50, 2, 2
    c = np.repeat(np.arange(n_c), n_b)
    b = np.tile(np.arange(n_b), n_c)
    value = np.linspace(1, 2, len(c))
    problem = FairProblem(n_c, n_b, n_t, c, b, value, np.ones((n_b, n_t)), 2)
    plan = plan_fair(problem)
    assert_feasible(problem, plan)
    assert len(plan.interviews) == 4
    assert plan.objective == pytest.approx(milp_optimum(problem))
    assert sum(r == "capacity" for r in plan.unplaced.values()) == n_c - len(set(plan.interviews[:, 0].tolist()))


def test_unplaced_reasons():
    avail = np.array([[True, True], [True, True], [False, False], [True, False]])
    problem = FairProblem(4, 2, 2, [0, 2, 3], [0, 0, 1], [1.0, 1.0, 1.0], [[1, 1], [0, 1]], 2,
                          candidate_available=avail)
    plan = plan_fair(problem)
    assert_feasible(problem, plan)
    assert plan.unplaced == {1: "no_eligible_booth", 2: "not_available", 3: "not_available"}
    assert plan.interviews.tolist() in ([[0, 0, 0]], [[0, 0, 1]])


def test_fixed_interviews_are_kept_and_counted():
    problem = random_problem(11, n_c=20, n_b=4, n_t=4, k=2, p=0.6, avail_p=1.0, cap_hi=3)
    values = problem.pair_values()
    (c0, b0), _ = next(iter(values.items()))
    t0 = int(np.flatnonzero(problem.booth_capacity[b0] > 0)[0])
    fixed = ((c0, b0, t0),)
    pf = FairProblem(problem.n_candidates, problem.n_booths, problem.n_blocks, problem.edge_candidate,
                     problem.edge_booth, problem.edge_value, problem.booth_capacity, 2, fixed=fixed)
    plan = plan_fair(pf)
    assert_feasible(pf, plan)
    assert (c0, b0, t0) in {tuple(r) for r in plan.interviews.tolist()}
    assert plan.objective == pytest.approx(milp_optimum(pf), rel=0.05)


def test_replan_keeps_done_and_respects_from_block():
    for seed in range(5):
        problem = random_problem(200 + seed, n_c=60, n_b=6, n_t=6, k=3, p=0.4, avail_p=0.9, cap_hi=4)
        plan = plan_fair(problem)
        from_block = 3
        done = [tuple(r) for r in plan.interviews.tolist() if r[2] < from_block]
        # Walk-ins: 5 new candidates available from block 3; cancellations: candidate 0 gone.
        n_c = problem.n_candidates + 5
        rng = np.random.default_rng(seed)
        wc = np.repeat(np.arange(problem.n_candidates, n_c), 3)
        wb = np.concatenate([rng.choice(6, 3, replace=False) for _ in range(5)])
        avail = np.vstack([problem.available(), np.ones((5, 6), dtype=bool)])
        avail[problem.n_candidates:, :from_block] = False
        avail[0, from_block:] = False
        grown = FairProblem(n_c, 6, 6, np.concatenate([problem.edge_candidate, wc]),
                            np.concatenate([problem.edge_booth, wb]),
                            np.concatenate([problem.edge_value, rng.uniform(0.1, 1, 15)]),
                            problem.booth_capacity, 3, candidate_available=avail)
        re = replan(grown, done, from_block)
        rows = {tuple(r) for r in re.interviews.tolist()}
        assert set(done) <= rows
        assert {r for r in rows if r[2] < from_block} == set(done)
        assert not any(r[0] == 0 and r[2] >= from_block for r in rows)
        kept = FairProblem(n_c, 6, 6, grown.edge_candidate, grown.edge_booth, grown.edge_value,
                           grown.booth_capacity, 3, candidate_available=avail, fixed=tuple(done))
        assert check_plan(kept, re) == []


def test_validation():
    with pytest.raises(ValueError, match="edge_booth"):
        FairProblem(2, 2, 2, [0], [5], [1.0], np.ones((2, 2)), 1)
    with pytest.raises(ValueError, match="booth_capacity"):
        FairProblem(2, 2, 2, [0], [0], [1.0], np.ones((2, 3)), 1)
    with pytest.raises(ValueError, match="finite"):
        FairProblem(2, 2, 2, [0], [0], [np.nan], np.ones((2, 2)), 1)
    with pytest.raises(ValueError, match="two places"):
        FairProblem(2, 2, 2, [0], [0], [1.0], np.ones((2, 2)), 2, fixed=((0, 0, 0), (0, 1, 0)))
    with pytest.raises(ValueError, match="capacity"):
        FairProblem(2, 2, 2, [0], [0], [1.0], np.ones((2, 2)), 2, fixed=((0, 0, 0), (1, 0, 0)))
    with pytest.raises(ValueError, match="from_block"):
        replan(FairProblem(2, 2, 2, [0], [0], [1.0], np.ones((2, 2)), 1), [], 3)
