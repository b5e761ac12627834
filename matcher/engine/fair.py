"""Job fairs (issue 5): an interview plan for one day of booths and time blocks.

Each candidate gets at most `k` interviews, each with a different booth and in a different block (never two places at
once), only in blocks where the candidate is available; each booth holds at most `capacity[b, t]` interviews in
block `t`. Interviews already held or kept (`fixed`) are never moved and count towards all of these limits. The plan
is breadth first (lexicographic): it first gives as many candidates as possible at least one interview, then
maximises the sum of the values (expected stays x priority weight) of the (candidate, booth) pairs interviewed.
Nobody gets a second interview in a place that could have given someone else their first.

Breadth first (stage 0): with one interview each, timing is no constraint of its own, so the largest number of
candidates that can have an interview is a max-flow source -> candidate (1) -> (booth, block) where both are free
(1) -> sink (the seats left in the block). Among the maximum flows the min-cost one gives the first interviews the
largest value. These first interviews are then kept (`fixed`) while the stages below add further interviews, so the
number covered is the largest possible (`covered`). The bound is the timing-relaxed flow below with a bonus on each
candidate's first unit larger than every value (lexicographic); it bounds every plan of maximum coverage whenever
that relaxation covers no more candidates than stage 0 did (otherwise the plain flow's bound is used).

Method for the value (two stages, then a fill):

1. Choose the pairs: a min-cost flow (OR-Tools) source -> candidate (capacity: interviews left, at most the free
   available blocks) -> booth (one unit per eligible pair that has at least one block where both are free) -> sink
   (capacity: the booth's seats left summed over the blocks). This relaxes only the timing, so its optimum is an
   upper bound on every plan (`bound`); the network matrix makes the flow integral.
2. Time the chosen pairs: greedily (hardest pairs first), then, if some pair is left untimed, CP-SAT with one
   boolean per (pair, usable block) maximising the value of the timed pairs, the greedy timing as its hint, for at
   most a fifth of the time limit (on the bench fair it rarely beats greedy plus the fill; the flow's bound says
   how far the result can be from the best). With uniform per-block capacities and full availability every
   chosen pair can be timed (a bipartite graph of maximum degree T is T-edge-colourable); pairs that cannot be timed
   are dropped.
3. Fill: unused eligible pairs, best first, go into whatever (block, booth seat) is still free.

The gap `(bound - objective) / bound` is reported; it is 0 (status "optimal") when every pair of stage 1 was timed,
since the plan then reaches the bound of the rounded flow. Flow costs are integers (values x `scale`, rounded); the
bound adds the rounding error, so it is valid for the true values.

`replan` keeps everything before `from_block` (and whatever else is passed as kept) and re-plans the rest of the day,
e.g. after walk-ins (appended as new candidates) and cancellations (marked unavailable).

Pure: numpy, ortools and the standard library only.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np

from matcher.engine.validation import count, edges, int_array

__all__ = ["FairPlan", "FairProblem", "REASONS", "check_plan", "plan_fair", "replan"]

REASONS = ("no_eligible_booth", "capacity", "not_available")
_COST_SCALE = 1e9  # the largest value becomes this many integer cost units


@dataclass(frozen=True)
class FairProblem:
    """One fair: `e` eligible (candidate, booth) pairs with a value each, booth capacities per block, k.

    Candidates, booths and blocks are row indices into the caller's tables. Arrays are coerced and checked on
    construction; a bad shape, an index out of range, a negative capacity, a NaN value or an inconsistent set of
    fixed interviews raises ValueError. A pair given twice counts once, with its larger value; pairs with a value
    <= 0 are never planned. Fixed interviews need not be eligible pairs nor lie in available blocks (they have
    already been held or promised); they must not overlap (same candidate twice in a block or twice at a booth),
    exceed k for a candidate, or exceed a booth's capacity in a block.
    """

    n_candidates: int
    n_booths: int
    n_blocks: int
    edge_candidate: np.ndarray  # int32 [e]
    edge_booth: np.ndarray  # int32 [e]
    edge_value: np.ndarray  # float64 [e]: expected stays x priority weight, > 0
    booth_capacity: np.ndarray  # int32 [n_booths, n_blocks]: interviews per block per booth (0 = closed)
    max_interviews: int  # k per candidate
    candidate_available: np.ndarray | None = None  # bool [n_candidates, n_blocks]; None = always available
    fixed: tuple[tuple[int, int, int], ...] = ()  # (candidate, booth, block) interviews never moved

    def __post_init__(self) -> None:
        n_c = count("n_candidates", self.n_candidates)
        n_b = count("n_booths", self.n_booths)
        n_t = count("n_blocks", self.n_blocks)
        k = count("max_interviews", self.max_interviews)
        cand, booth, value = edges(n_c, n_b, self.edge_candidate, self.edge_booth, self.edge_value,
                                   other_name="edge_booth", other_count_name="n_booths")
        cap = int_array("booth_capacity", self.booth_capacity, ndim=2)
        if cap.shape != (n_b, n_t):
            raise ValueError(f"booth_capacity must have shape (n_booths={n_b}, n_blocks={n_t}), got {cap.shape}")
        if cap.size and cap.min() < 0:
            raise ValueError("booth_capacity must be >= 0")
        avail = self.candidate_available
        if avail is not None:
            avail = np.asarray(avail)
            if avail.shape != (n_c, n_t):
                raise ValueError(f"candidate_available must have shape (n_candidates={n_c}, n_blocks={n_t}), "
                                 f"got {avail.shape}")
            if avail.dtype != bool:
                if not np.all(np.isin(avail, (0, 1))):
                    raise ValueError("candidate_available must hold booleans")
                avail = avail.astype(bool)
        fixed = []
        for row in self.fixed:
            if len(row) != 3:
                raise ValueError(f"each fixed interview must be (candidate, booth, block), got {row!r}")
            c, b, t = (int(x) for x in row)
            if not (0 <= c < n_c and 0 <= b < n_b and 0 <= t < n_t):
                raise ValueError(f"fixed interview {(c, b, t)} out of range (n_candidates={n_c}, n_booths={n_b}, "
                                 f"n_blocks={n_t})")
            fixed.append((c, b, t))
        fixed = tuple(dict.fromkeys(fixed))  # the same interview given twice counts once
        seen_ct, seen_cb, per_c, per_bt = set(), set(), {}, {}
        for c, b, t in fixed:
            if (c, t) in seen_ct:
                raise ValueError(f"fixed interviews put candidate {c} in two places in block {t}")
            if (c, b) in seen_cb:
                raise ValueError(f"fixed interviews put candidate {c} twice at booth {b}")
            seen_ct.add((c, t))
            seen_cb.add((c, b))
            per_c[c] = per_c.get(c, 0) + 1
            per_bt[b, t] = per_bt.get((b, t), 0) + 1
            if per_c[c] > k:
                raise ValueError(f"fixed interviews give candidate {c} more than max_interviews={k}")
            if per_bt[b, t] > cap[b, t]:
                raise ValueError(f"fixed interviews exceed booth {b}'s capacity {cap[b, t]} in block {t}")
        object.__setattr__(self, "n_candidates", n_c)
        object.__setattr__(self, "n_booths", n_b)
        object.__setattr__(self, "n_blocks", n_t)
        object.__setattr__(self, "max_interviews", k)
        object.__setattr__(self, "edge_candidate", cand)
        object.__setattr__(self, "edge_booth", booth)
        object.__setattr__(self, "edge_value", value)
        object.__setattr__(self, "booth_capacity", cap)
        object.__setattr__(self, "candidate_available", avail)
        object.__setattr__(self, "fixed", fixed)

    def available(self) -> np.ndarray:
        """bool [n_candidates, n_blocks]."""
        if self.candidate_available is None:
            return np.ones((self.n_candidates, self.n_blocks), dtype=bool)
        return self.candidate_available.copy()

    def pair_values(self) -> dict[tuple[int, int], float]:
        """(candidate, booth) -> value, duplicates resolved to the larger value."""
        out: dict[tuple[int, int], float] = {}
        for c, b, v in zip(self.edge_candidate.tolist(), self.edge_booth.tolist(), self.edge_value.tolist(),
                           strict=True):
            if v > out.get((c, b), -np.inf):
                out[c, b] = v
        return out


@dataclass(frozen=True)
class FairPlan:
    """A draft interview plan. `interviews` rows are (candidate, booth, block), fixed ones included, sorted.
    `unplaced` explains every candidate without any interview: "no_eligible_booth" (no pair with a value > 0),
    "not_available" (no free block in which one of their booths is open) or "capacity" (booths full)."""

    interviews: np.ndarray  # int32 [p, 3]
    objective: float
    bound: float
    gap: float
    status: str  # "optimal" | "feasible"
    seconds: float
    unplaced: dict[int, str]
    covered: int = 0  # candidates with at least one interview (the most any plan can give)
    coverable: int = 0  # candidates who could have one on their own: covered + those left out for "capacity"


def _unique_edges(problem: FairProblem) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(candidate, booth, value) of the pairs with value > 0, one per pair (its largest value)."""
    keep = problem.edge_value > 0
    c, b, v = problem.edge_candidate[keep], problem.edge_booth[keep], problem.edge_value[keep]
    if len(c) == 0:
        return c.astype(np.int64), b.astype(np.int64), v
    key = c.astype(np.int64) * max(problem.n_booths, 1) + b
    order = np.lexsort((-v, key))
    first = np.ones(len(order), dtype=bool)
    first[1:] = key[order][1:] != key[order][:-1]
    sel = order[first]
    return c[sel].astype(np.int64), b[sel].astype(np.int64), v[sel]


def _flow(n_c: int, n_b: int, ec, eb, ev, cand_cap, booth_cap, first: np.ndarray | None = None
          ) -> tuple[np.ndarray, float, int]:
    """Max-value pair selection (the timing relaxed). Returns (mask of chosen edges, upper bound on the value,
    the number of `first` candidates covered).
    With `first` (bool per candidate: not yet covered), each such candidate's first unit earns a bonus larger than
    any sum of values, so the flow covers as many of them as it can before it counts value (lexicographic)."""
    from ortools.graph.python import min_cost_flow

    if len(ec) == 0:
        return np.zeros(0, dtype=bool), 0.0, 0
    # OR-Tools multiplies costs by the number of nodes: with the bonus the costs must stay far below 2**63.
    scale = (_COST_SCALE if first is None else 1e7) / float(ev.max())
    cost = np.rint(ev * scale).astype(np.int64)
    src, sink = n_c + n_b, n_c + n_b + 1
    supply = int(cand_cap.sum())
    smcf = min_cost_flow.SimpleMinCostFlow()
    cs = np.arange(n_c, dtype=np.int64)
    bs = np.arange(n_b, dtype=np.int64)
    if first is None:
        src_tails, src_heads, src_caps = np.full(n_c, src), cs, cand_cap
        src_costs = np.zeros(n_c, dtype=np.int64)
    else:
        bonus = int(cand_cap.sum()) * int(cost.max()) + 1  # more than the value of any flow
        firsts = cs[first & (cand_cap > 0)]
        src_tails = np.concatenate([np.full(n_c, src), np.full(len(firsts), src)])
        src_heads = np.concatenate([cs, firsts])
        src_caps = np.concatenate([cand_cap - (first & (cand_cap > 0)), np.ones(len(firsts), dtype=np.int64)])
        src_costs = np.concatenate([np.zeros(n_c, dtype=np.int64), np.full(len(firsts), -bonus, dtype=np.int64)])
    tails = np.concatenate([src_tails, ec, n_c + bs, [src]])
    heads = np.concatenate([src_heads, n_c + eb, np.full(n_b, sink), [sink]])
    caps = np.concatenate([src_caps, np.ones(len(ec), dtype=np.int64), booth_cap, [supply]])
    costs = np.concatenate([src_costs, -cost, np.zeros(n_b + 1, dtype=np.int64)])
    smcf.add_arcs_with_capacity_and_unit_cost(tails.astype(np.int32), heads.astype(np.int32),
                                              caps.astype(np.int64), costs)
    supplies = np.zeros(n_c + n_b + 2, dtype=np.int64)
    supplies[src], supplies[sink] = supply, -supply
    smcf.set_nodes_supplies(np.arange(n_c + n_b + 2, dtype=np.int32), supplies)
    status = smcf.solve()
    if status != smcf.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed with status {status}")
    n_src = len(src_tails)
    flows = smcf.flows(np.arange(n_src, n_src + len(ec), dtype=np.int32))
    chosen = flows > 0
    # Any plan of m new pairs has true value <= (rounded cost + m / 2) / scale, m <= supply.
    value_cost = -int(np.dot(flows.astype(np.int64), cost)) if first is not None else smcf.optimal_cost()
    bound = (-value_cost + 0.5 * supply) / scale
    covered = int(smcf.flows(np.arange(n_c, n_src, dtype=np.int32)).sum()) if first is not None else 0
    return chosen, float(bound), covered


def _cover(n_b: int, n_t: int, ec, eb, ev, free_c, free_b, uncovered, preferred) -> list[tuple[int, int, int]]:
    """Stage 0: the most candidates of `uncovered` that can have one interview each: (candidate, booth, block)
    rows. Exact, since one interview each needs no timing beyond a free (booth, block) seat that the candidate is
    free in. Among those assignments: the most `preferred` pairs (those of the best coverage-first relaxed plan,
    so that the first interviews are ones a good full plan would hold too), then the largest value."""
    from ortools.graph.python import min_cost_flow

    keep = uncovered[ec]
    ec, eb, ev, preferred = ec[keep], eb[keep], ev[keep], preferred[keep]
    if len(ec) == 0:
        return []
    usable = free_c[ec] & (free_b[eb] > 0)  # [edges, blocks]
    ei, ti = np.nonzero(usable)
    if len(ei) == 0:
        return []
    cands = np.unique(ec[ei])
    c_node = np.full(len(uncovered), -1, dtype=np.int64)
    c_node[cands] = np.arange(len(cands))
    n_cn = len(cands)
    bt_node = n_cn + eb[ei] * n_t + ti  # (booth, block) nodes
    used_bt = np.unique(bt_node)
    src, sink = n_cn + n_b * n_t, n_cn + n_b * n_t + 1
    scale = 1e6 / float(ev.max())
    cost = np.rint(ev[ei] * scale).astype(np.int64) + preferred[ei] * (int(1e6) * n_cn + 1)
    bt_b, bt_t = (used_bt - n_cn) // n_t, (used_bt - n_cn) % n_t
    tails = np.concatenate([np.full(n_cn, src), c_node[ec[ei]], used_bt])
    heads = np.concatenate([np.arange(n_cn), bt_node, np.full(len(used_bt), sink)])
    caps = np.concatenate([np.ones(n_cn, dtype=np.int64), np.ones(len(ei), dtype=np.int64),
                           free_b[bt_b, bt_t].clip(min=0).astype(np.int64)])
    costs = np.concatenate([np.zeros(n_cn, dtype=np.int64), -cost, np.zeros(len(used_bt), dtype=np.int64)])
    smcf = min_cost_flow.SimpleMinCostFlow()
    smcf.add_arcs_with_capacity_and_unit_cost(tails.astype(np.int32), heads.astype(np.int32), caps, costs)
    smcf.set_node_supply(src, n_cn)  # as much as can flow of this: the maximum flow, at its least cost
    smcf.set_node_supply(sink, -n_cn)
    status = smcf.solve_max_flow_with_min_cost()
    if status != smcf.OPTIMAL:
        raise RuntimeError(f"min-cost max-flow failed with status {status}")
    flows = smcf.flows(np.arange(n_cn, n_cn + len(ei), dtype=np.int32))
    picked = np.flatnonzero(flows > 0)
    return [(int(ec[ei[j]]), int(eb[ei[j]]), int(ti[j])) for j in picked]


def _greedy_time(pc, pb, pv, order, free_c, free_b) -> np.ndarray:
    """Block of each pair (-1 = not timed), pairs in `order`; free_c [c, t] bool and free_b [b, t] int updated."""
    block = np.full(len(pc), -1, dtype=np.int64)
    for i in order.tolist():
        c, b = pc[i], pb[i]
        ok = np.flatnonzero(free_c[c] & (free_b[b] > 0))
        if len(ok):
            t = ok[np.argmax(free_b[b, ok])]  # the block where the booth has the most room left
            block[i] = t
            free_c[c, t] = False
            free_b[b, t] -= 1
    return block


def _cpsat_time(pc, pb, pv, free_c, free_b, hint, deadline: float, workers: int, gap_limit: float,
                enough: float) -> np.ndarray | None:
    """Optimal (within the time limit) timing of the chosen pairs; None if CP-SAT found nothing. The search stops
    early once the timed value reaches `enough` (the value at which the whole plan is within the gap limit of
    the flow's bound)."""
    from ortools.sat.python import cp_model

    n_t = free_c.shape[1]
    usable = free_c[pc] & (free_b[pb] > 0)  # [p, t]
    pi, ti = np.nonzero(usable)
    if len(pi) == 0:
        return np.full(len(pc), -1, dtype=np.int64)
    scale = 1e6 / float(pv.max())
    w = np.maximum(1, np.rint(pv * scale)).astype(np.int64)
    model = cp_model.CpModel()
    xs = [model.new_bool_var("") for _ in range(len(pi))]
    by_pair: dict[int, list] = {}
    by_ct: dict[tuple[int, int], list] = {}
    by_bt: dict[tuple[int, int], list] = {}
    for j, (p, t) in enumerate(zip(pi.tolist(), ti.tolist(), strict=True)):
        x = xs[j]
        by_pair.setdefault(p, []).append(x)
        by_ct.setdefault((int(pc[p]), t), []).append(x)
        by_bt.setdefault((int(pb[p]), t), []).append(x)
        if hint[p] == t:
            model.add_hint(x, True)
        else:
            model.add_hint(x, False)
    for group in by_pair.values():
        if len(group) > 1:
            model.add_at_most_one(group)
    for group in by_ct.values():
        if len(group) > 1:
            model.add_at_most_one(group)
    for (b, t), group in by_bt.items():
        if len(group) > free_b[b, t]:
            model.add(sum(group) <= int(free_b[b, t]))
    model.maximize(sum(int(w[p]) * xs[j] for j, p in enumerate(pi.tolist())))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.05, deadline - time.perf_counter())
    solver.parameters.num_workers = max(1, workers)
    # Stop once the timing is provably within gap_limit of the best timing of these pairs.
    solver.parameters.relative_gap_limit = gap_limit
    # Presolve loses the greedy hint on these models (measured: its first solutions were worse than the hint).
    solver.parameters.cp_model_presolve = False
    target = enough * scale

    class _StopWhenEnough(cp_model.CpSolverSolutionCallback):
        def on_solution_callback(self) -> None:
            if self.objective_value >= target:
                self.stop_search()

    status = solver.solve(model, _StopWhenEnough())
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    block = np.full(len(pc), -1, dtype=np.int64)
    vals = np.array([solver.boolean_value(x) for x in xs], dtype=bool)
    block[pi[vals]] = ti[vals]
    del n_t
    return block


def plan_fair(problem: FairProblem, *, time_limit_s: float = 10.0, workers: int = 2, gap_limit: float = 1e-4,
              breadth_first: bool = True) -> FairPlan:
    """Plan the fair (see the module docstring). Never returns a plan that breaks a constraint. The timing search
    stops at `time_limit_s` or once it is within `gap_limit` (relative) of the best timing of the chosen pairs.
    `breadth_first=False` maximises the value alone (some may then get three interviews while others get none)."""
    if not time_limit_s > 0:
        raise ValueError(f"time_limit_s must be > 0, got {time_limit_s!r}")
    start = time.perf_counter()
    if not breadth_first or problem.max_interviews == 0:
        return _with_coverage(_plan_values(problem, time_limit_s, workers, gap_limit, start))
    n_c, n_b, n_t, k = problem.n_candidates, problem.n_booths, problem.n_blocks, problem.max_interviews
    free_b = problem.booth_capacity.astype(np.int64).copy()
    free_c = problem.available()
    left_c = np.full(n_c, k, dtype=np.int64)
    fixed_pairs = set()
    for c, b, t in problem.fixed:
        free_b[b, t] -= 1
        free_c[c, t] = False
        left_c[c] -= 1
        fixed_pairs.add((c, b))
    uncovered = left_c == k
    ec, eb, ev = _unique_edges(problem)

    # The bound for plans of maximum coverage: the timing-relaxed flow, coverage first.
    values = problem.pair_values()
    fixed_value = sum(max(values.get((c, b), 0.0), 0.0) for c, b, _t in problem.fixed)
    if len(ec):
        not_fixed = np.array([(c, b) not in fixed_pairs for c, b in zip(ec.tolist(), eb.tolist(), strict=True)],
                             dtype=bool)
        live = not_fixed & (free_c[ec] & (free_b[eb] > 0)).any(axis=1) & (left_c[ec] > 0)
    else:
        live = np.zeros(0, dtype=bool)
    lc, lb, lv = ec[live], eb[live], ev[live]
    usable = free_c[lc] & (free_b[lb] > 0)
    cand_blocks = np.zeros((n_c, n_t), dtype=bool)
    booth_blocks = np.zeros((n_b, n_t), dtype=bool)
    np.logical_or.at(cand_blocks, lc, usable)
    np.logical_or.at(booth_blocks, lb, usable)
    cand_cap = np.minimum(left_c, cand_blocks.sum(axis=1)).clip(min=0)
    booth_cap = (free_b.clip(min=0) * booth_blocks).sum(axis=1)
    chosen, lexi_bound, relaxed_new = _flow(n_c, n_b, lc, lb, lv, cand_cap, booth_cap, first=uncovered)
    preferred = np.zeros(len(ec), dtype=bool)
    preferred[np.flatnonzero(live)[chosen]] = True
    firsts = _cover(n_b, n_t, ec, eb, ev, free_c, free_b, uncovered, preferred)
    if relaxed_new == len(firsts):
        bound = fixed_value + lexi_bound
    else:  # the relaxation covers more than any timed plan can: only the plain bound holds
        bound = fixed_value + _flow(n_c, n_b, lc, lb, lv, cand_cap, booth_cap)[1]

    spent = time.perf_counter() - start
    inner = replace(problem, fixed=tuple(problem.fixed) + tuple(firsts))
    plan = _plan_values(inner, max(0.2, time_limit_s - spent), workers, gap_limit, time.perf_counter())
    bound = max(bound, plan.objective)
    gap = (bound - plan.objective) / bound if bound > 0 else 0.0
    status = "optimal" if gap <= 1e-6 else "feasible"  # within the bound's rounding
    plan = replace(plan, bound=float(bound), gap=0.0 if status == "optimal" else float(gap), status=status,
                   seconds=time.perf_counter() - start)
    return _with_coverage(plan)  # its `covered` is stage 0's: no plan keeping those first interviews covers more


def _with_coverage(plan: FairPlan) -> FairPlan:
    covered = len(set(plan.interviews[:, 0].tolist()))
    capacity = sum(1 for reason in plan.unplaced.values() if reason == "capacity")
    return replace(plan, covered=covered, coverable=covered + capacity)


def _plan_values(problem: FairProblem, time_limit_s: float, workers: int, gap_limit: float, start: float
                 ) -> FairPlan:
    """Stages 1 to 3: the plan of largest value, keeping `problem.fixed`."""
    n_c, n_b, n_t, k = problem.n_candidates, problem.n_booths, problem.n_blocks, problem.max_interviews
    avail = problem.available()
    free_b = problem.booth_capacity.astype(np.int64).copy()
    free_c = avail.copy()
    left_c = np.full(n_c, k, dtype=np.int64)
    values = problem.pair_values()
    fixed_pairs = set()
    fixed_value = 0.0
    for c, b, t in problem.fixed:
        free_b[b, t] -= 1
        free_c[c, t] = False
        left_c[c] -= 1
        fixed_pairs.add((c, b))
        fixed_value += max(values.get((c, b), 0.0), 0.0)
    busy_c = np.zeros((n_c, n_t), dtype=bool)
    for c, _b, t in problem.fixed:
        busy_c[c, t] = True

    ec, eb, ev = _unique_edges(problem)
    # Edges that could still be planned: not a fixed pair, and some block free for both.
    if len(ec):
        not_fixed = np.array([(c, b) not in fixed_pairs for c, b in zip(ec.tolist(), eb.tolist(), strict=True)],
                             dtype=bool) if fixed_pairs else np.ones(len(ec), dtype=bool)
        timeable = (free_c[ec] & (free_b[eb] > 0)).any(axis=1)
        live = not_fixed & timeable & (left_c[ec] > 0)
    else:
        live = np.zeros(0, dtype=bool)
    lc, lb, lv = ec[live], eb[live], ev[live]
    # Capacities count only blocks a pair could use: a candidate's free blocks in which one of their booths has
    # room, a booth's seats in blocks in which one of its candidates is free. Seats nobody can reach (blocks
    # before a re-plan starts) would otherwise loosen the bound.
    usable = free_c[lc] & (free_b[lb] > 0)  # [live edges, blocks]
    cand_blocks = np.zeros((n_c, n_t), dtype=bool)
    booth_blocks = np.zeros((n_b, n_t), dtype=bool)
    np.logical_or.at(cand_blocks, lc, usable)
    np.logical_or.at(booth_blocks, lb, usable)
    cand_cap = np.minimum(left_c, cand_blocks.sum(axis=1)).clip(min=0)
    booth_cap = (free_b.clip(min=0) * booth_blocks).sum(axis=1)
    chosen, flow_bound, _ = _flow(n_c, n_b, lc, lb, lv, cand_cap, booth_cap)
    bound = fixed_value + flow_bound

    # Stage 2: time the chosen pairs.
    pc, pb, pv = lc[chosen], lb[chosen], lv[chosen]
    g_free_c, g_free_b = free_c.copy(), free_b.copy()
    # Hardest pairs first: fewest usable blocks, then the larger value.
    n_usable = (free_c[pc] & (free_b[pb] > 0)).sum(axis=1) if len(pc) else np.zeros(0, dtype=np.int64)
    order = np.lexsort((-pv, n_usable)) if len(pc) else np.zeros(0, dtype=np.int64)
    block = _greedy_time(pc, pb, pv, order, g_free_c, g_free_b)
    if len(pc) and (block < 0).any():
        # CP-SAT rarely improves much on the greedy timing plus the fill (measured on the bench fair), so it gets
        # a fifth of the time; the rest is left for the fill and the reasons.
        deadline = min(start + time_limit_s - 0.15, time.perf_counter() + max(0.3, 0.2 * time_limit_s))
        if deadline - time.perf_counter() > 0.1:
            # Timed value at which objective >= (1 - gap_limit) x bound; the rounding of w is below 1e-6.
            enough = (1 - gap_limit) * bound - fixed_value
            exact = _cpsat_time(pc, pb, pv, free_c, free_b, block, deadline, workers, gap_limit, enough)
            if exact is not None and pv[exact >= 0].sum() > pv[block >= 0].sum():
                block = exact
    all_timed = bool(len(pc) == 0 or (block >= 0).all())
    timed = block >= 0
    rows = [list(f) for f in problem.fixed]
    rows += np.column_stack([pc[timed], pb[timed], block[timed]]).tolist()
    objective = fixed_value + float(pv[timed].sum())

    if not all_timed:
        # Stage 3: fill whatever is still free with unused pairs, best first.
        f_c, f_b = free_c.copy(), free_b.copy()
        count = left_c.copy()
        used = set(fixed_pairs)
        for c, b, t in zip(pc[timed].tolist(), pb[timed].tolist(), block[timed].tolist(), strict=True):
            f_c[c, t] = False
            f_b[b, t] -= 1
            count[c] -= 1
            used.add((c, b))
        for i in np.argsort(-lv, kind="stable").tolist():
            c, b = int(lc[i]), int(lb[i])
            if count[c] <= 0 or (c, b) in used:
                continue
            ok = np.flatnonzero(f_c[c] & (f_b[b] > 0))
            if len(ok):
                t = int(ok[np.argmax(f_b[b, ok])])
                f_c[c, t] = False
                f_b[b, t] -= 1
                count[c] -= 1
                used.add((c, b))
                rows.append([c, b, t])
                objective += float(lv[i])

    interviews = np.array(sorted(map(tuple, rows)), dtype=np.int32).reshape(-1, 3)
    if all_timed:
        status, gap, bound = "optimal", 0.0, max(bound, objective)
    else:
        bound = max(bound, objective)
        gap = (bound - objective) / bound if bound > 0 else 0.0
        status = "optimal" if gap <= 1e-9 else "feasible"
        gap = 0.0 if status == "optimal" else float(gap)

    # Why candidates got nothing.
    placed = np.zeros(n_c, dtype=bool)
    placed[interviews[:, 0]] = True
    has_edge = np.zeros(n_c, dtype=bool)
    has_edge[ec] = True
    could_time = np.zeros(n_c, dtype=bool)  # some free available block in which one of their booths is open
    booth_open = np.zeros(n_c, dtype=bool)  # one of their booths is open at some point of the day
    free_any = (avail & ~busy_c).any(axis=1)
    if len(ec):
        open_b = problem.booth_capacity > 0
        could_time[ec[(avail[ec] & ~busy_c[ec] & open_b[eb]).any(axis=1)]] = True
        booth_open[ec[open_b[eb].any(axis=1)]] = True
    unplaced: dict[int, str] = {}
    for c in np.flatnonzero(~placed).tolist():
        if not has_edge[c]:
            unplaced[c] = "no_eligible_booth"
        elif k > 0 and (not free_any[c] or (booth_open[c] and not could_time[c])):
            unplaced[c] = "not_available"
        else:
            unplaced[c] = "capacity"
    return FairPlan(interviews=interviews, objective=float(objective), bound=float(bound), gap=gap, status=status,
                    seconds=time.perf_counter() - start, unplaced=unplaced)


def replan(problem: FairProblem, done_or_kept: list[tuple[int, int, int]], from_block: int, *,
           time_limit_s: float = 2.0, workers: int = 2, gap_limit: float = 1e-4) -> FairPlan:
    """Re-plan the rest of the day: interviews in `done_or_kept` (and the problem's own `fixed`) stay as they are;
    no new interview goes before `from_block`. Walk-ins are new candidates appended to `problem` (with their
    availability); cancellations are candidates marked unavailable from now on."""
    from_block = count("from_block", from_block)
    if from_block > problem.n_blocks:
        raise ValueError(f"from_block must be <= n_blocks={problem.n_blocks}, got {from_block}")
    avail = problem.available()
    avail[:, :from_block] = False
    fixed = tuple(problem.fixed) + tuple(tuple(int(x) for x in row) for row in done_or_kept)
    return plan_fair(replace(problem, candidate_available=avail, fixed=fixed), time_limit_s=time_limit_s,
                     workers=workers, gap_limit=gap_limit)


def check_plan(problem: FairProblem, plan: FairPlan) -> list[str]:
    """Every broken constraint of `plan` as a message (empty when the plan is feasible)."""
    errors = []
    avail = problem.available()
    values = problem.pair_values()
    fixed = set(problem.fixed)
    rows = [tuple(r) for r in plan.interviews.tolist()]
    per_c: dict[int, int] = {}
    per_bt: dict[tuple[int, int], int] = {}
    seen_cb, seen_ct = set(), set()
    total = 0.0
    for c, b, t in rows:
        per_c[c] = per_c.get(c, 0) + 1
        per_bt[b, t] = per_bt.get((b, t), 0) + 1
        if (c, b) in seen_cb:
            errors.append(f"candidate {c} twice at booth {b}")
        if (c, t) in seen_ct:
            errors.append(f"candidate {c} in two places in block {t}")
        seen_cb.add((c, b))
        seen_ct.add((c, t))
        if (c, b, t) not in fixed:
            if (c, b) not in values or values[c, b] <= 0:
                errors.append(f"candidate {c} at booth {b}: not an eligible pair")
            if not avail[c, t]:
                errors.append(f"candidate {c} not available in block {t}")
        total += max(values.get((c, b), 0.0), 0.0)
    for c, n in per_c.items():
        if n > problem.max_interviews:
            errors.append(f"candidate {c} has {n} interviews > k={problem.max_interviews}")
    for (b, t), n in per_bt.items():
        if n > problem.booth_capacity[b, t]:
            errors.append(f"booth {b} has {n} interviews in block {t} > capacity {problem.booth_capacity[b, t]}")
    missing = fixed - set(rows)
    if missing:
        errors.append(f"fixed interviews moved or dropped: {sorted(missing)}")
    if abs(total - plan.objective) > 1e-6 * max(1.0, abs(total)):
        errors.append(f"objective {plan.objective} != value of the interviews {total}")
    if plan.bound < plan.objective - 1e-6 * max(1.0, abs(plan.objective)):
        errors.append(f"bound {plan.bound} below the objective {plan.objective}")
    for c in set(range(problem.n_candidates)) - set(per_c):
        if plan.unplaced.get(c) not in REASONS:
            errors.append(f"candidate {c} has no interview and no reason")
    return errors
