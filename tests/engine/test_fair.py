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


def milp_optimum(problem: FairProblem, *, breadth_first: bool = True) -> float:
    return milp_solution(problem, breadth_first=breadth_first)[1]


def milp_solution(problem: FairProblem, *, breadth_first: bool = True) -> tuple[int, float]:
    """Exact optimum of the full timed problem: x[c, b, t] over eligible pairs. Breadth first: the largest value
    among the plans that give the most candidates at least one interview (y[c] <= their interviews)."""
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
        return 0, 0.0
    cands = sorted({c for c, *_ in var})
    n_x, n_y = len(var), len(cands)
    rows: dict[tuple, int] = {}
    entries = []
    for j, (c, b, t, _v) in enumerate(var):
        for key in (("c", c), ("cb", c, b), ("ct", c, t), ("bt", b, t)):
            entries.append((rows.setdefault(key, len(rows)), j, 1.0))
        entries.append((rows.setdefault(("y", c), len(rows)), j, -1.0))
    for i, c in enumerate(cands):
        entries.append((rows[("y", c)], n_x + i, 1.0))
    a = lil_matrix((len(rows) + 1, n_x + n_y))
    for i, j, w in entries:
        a[i, j] = w
    ub = np.empty(len(rows) + 1)
    for key, i in rows.items():
        ub[i] = {"c": problem.max_interviews, "cb": 1, "ct": 1, "y": 0}.get(key[0], 0)
        if key[0] == "bt":
            ub[i] = problem.booth_capacity[key[1], key[2]]
    lo = np.array([1.0 if (c, b, t) in fixed else 0.0 for c, b, t, _ in var] + [0.0] * n_y)
    a[len(rows), n_x:] = -1.0  # -(covered) <= -(the most that can be covered)
    ub[len(rows)] = 0.0
    bounds, integrality = Bounds(lo, np.ones(n_x + n_y)), np.ones(n_x + n_y)
    if breadth_first:
        res = milp(np.r_[np.zeros(n_x), -np.ones(n_y)], constraints=LinearConstraint(a.tocsr(), -np.inf, ub),
                   integrality=integrality, bounds=bounds)
        assert res.success
        ub[len(rows)] = res.fun + 0.5
    res = milp(-np.r_[[v for *_, v in var], np.zeros(n_y)], constraints=LinearConstraint(a.tocsr(), -np.inf, ub),
               integrality=integrality, bounds=bounds)
    assert res.success
    return round(res.x[n_x:].sum()), -res.fun


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
    most_covered, best = milp_solution(problem)
    assert plan.covered == most_covered  # breadth first: exactly as many people as can have an interview
    assert plan.objective <= best + 1e-6
    assert plan.bound >= best - 1e-6
    assert plan.objective >= best * (1 - 1e-6) - 1e-9 or plan.status == "feasible"
    # The first interviews are kept where stage 0 put them; on 4 blocks that costs up to about a tenth.
    assert plan.objective >= 0.85 * best - 1e-9


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


def demo_like_fair(seed: int = 1, n_c: int = 250, n_b: int = 12, n_t: int = 8, k: int = 3) -> FairProblem:
    """Like the demo city's fair: 250 confirmed, 12 booths of 2 or 3 interviews a block, 8 blocks, k = 3, each
    candidate eligible at 2 to 5 booths, some booths more wanted than others, priority weights."""
    rng = np.random.default_rng(seed)
    popularity = rng.dirichlet(np.full(n_b, 3.0))
    per = rng.integers(2, 6, n_c)
    cand = np.repeat(np.arange(n_c), per)
    booth = np.concatenate([rng.choice(n_b, p, replace=False, p=popularity) for p in per])
    weight = rng.choice([1.0, 1.0, 1.5, 2.0], n_c)
    value = rng.uniform(0.05, 0.6, len(cand)) * weight[cand]
    cap = np.repeat(rng.choice([2, 2, 3], n_b)[:, None], n_t, axis=1)
    return FairProblem(n_c, n_b, n_t, cand, booth, value, cap, k)


def most_people_with_an_interview(problem: FairProblem) -> int:
    """Independent of the planner: a maximum bipartite matching of candidates to (booth, block, seat)."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import maximum_bipartite_matching

    seats = [(b, t, s) for b in range(problem.n_booths) for t in range(problem.n_blocks)
             for s in range(int(problem.booth_capacity[b, t]))]
    avail = problem.available()
    rows, cols = [], []
    for j, (b, t, _s) in enumerate(seats):
        for c in problem.edge_candidate[problem.edge_booth == b].tolist():
            if avail[c, t]:
                rows.append(c)
                cols.append(j)
    graph = csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(problem.n_candidates, len(seats)))
    return int((maximum_bipartite_matching(graph, perm_type="column") >= 0).sum())


def second_interviews_taken_from_someone_with_none(problem: FairProblem, plan: FairPlan) -> list[tuple]:
    """(candidate without an interview, booth, block) where a seat they could take is free or held by someone
    with two or more interviews: a breadth-first plan has none."""
    n = np.bincount(plan.interviews[:, 0], minlength=problem.n_candidates)
    avail = problem.available()
    found = []
    for c, b in zip(problem.edge_candidate.tolist(), problem.edge_booth.tolist(), strict=True):
        for t in np.flatnonzero(avail[c]).tolist() if n[c] == 0 else ():
            there = plan.interviews[(plan.interviews[:, 1] == b) & (plan.interviews[:, 2] == t), 0]
            if len(there) < problem.booth_capacity[b, t] or (n[there] >= 2).any():
                found.append((c, b, t))
    return found


def test_breadth_first_everyone_who_can_get_one_interview_gets_one_first():
    problem = demo_like_fair()
    # Today's objective alone (value only) leaves many with nothing while others get two or three.
    value_only = plan_fair(problem, time_limit_s=3, breadth_first=False)
    counts = np.bincount(value_only.interviews[:, 0], minlength=problem.n_candidates)
    assert (counts == 0).sum() >= 90 and (counts >= 2).sum() >= 60
    assert second_interviews_taken_from_someone_with_none(problem, value_only)

    plan = plan_fair(problem, time_limit_s=3)
    assert_feasible(problem, plan)
    counts = np.bincount(plan.interviews[:, 0], minlength=problem.n_candidates)
    most = most_people_with_an_interview(problem)
    assert plan.covered == (counts > 0).sum() == most
    assert most > value_only.covered + 80
    assert second_interviews_taken_from_someone_with_none(problem, plan) == []
    assert plan.coverable == plan.covered + sum(r == "capacity" for r in plan.unplaced.values())
    # Then the value: close to the best of the plans that reach everyone they can.
    assert plan.gap <= 0.01


def test_breadth_first_replan_gives_walk_ins_a_first_interview_before_seconds():
    problem = demo_like_fair(seed=3, n_c=120)
    plan = plan_fair(problem, time_limit_s=2)
    done = [tuple(r) for r in plan.interviews.tolist() if r[2] < 4]
    avail = np.vstack([problem.available(), np.ones((10, problem.n_blocks), dtype=bool)])
    avail[problem.n_candidates:, :4] = False
    n_c = problem.n_candidates + 10
    walk_c = np.repeat(np.arange(problem.n_candidates, n_c), 2)
    walk_b = np.tile([0, 1], 10)
    grown = FairProblem(n_c, problem.n_booths, problem.n_blocks, np.r_[problem.edge_candidate, walk_c],
                        np.r_[problem.edge_booth, walk_b], np.r_[problem.edge_value, np.full(20, 0.01)],
                        problem.booth_capacity, problem.max_interviews, candidate_available=avail)
    re = replan(grown, done, 4)
    kept = FairProblem(n_c, grown.n_booths, grown.n_blocks, grown.edge_candidate, grown.edge_booth,
                       grown.edge_value, grown.booth_capacity, grown.max_interviews, candidate_available=avail,
                       fixed=tuple(done))
    assert check_plan(kept, re) == []
    assert second_interviews_taken_from_someone_with_none(kept, re) == []
