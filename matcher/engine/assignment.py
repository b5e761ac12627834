"""Batch assignment: place a set of candidates on open slots so that the expected number of placements that
stay is as large as possible.

The problem is a bipartite *b*-matching with an extra layer of caps::

    maximise    sum_e  value[e] * x[e]
    subject to  sum_{e at candidate i} x[e] <= 1             (one slot per candidate)
                sum_{e at slot j}      x[e] <= seats[j]      (free seats)
                sum_{e at a slot of group g} x[e] <= caps[g] (e.g. at most this many per base)
                x[e] in {0, 1}

`value[e]` is the scorer's probability that the placement starts and stays, times the candidate's priority weight
(`priority_weights`). Only eligible pairs are edges: the caller applies the hard eligibility rules first and scores
only what remains (for a province, also only what `candidate_blocking` keeps).

Ties are broken on purpose, never at random. Among the plans with the largest (rounded) objective, `solve` prefers,
in this order: (1) the person's wished course (a pair whose slot is a training course the candidate wished for;
the first wish best), (2) the shorter distance, (3) the person who has waited longer (released earlier). These
secondary objectives are lexicographically below the primary one: they are bounded integer terms whose total over
any plan is below one unit of the primary's resolution, so they can never buy a plan with fewer expected stays.
See `solve` for how finely they are told apart.

`solve` is exact: the constraint matrix is that of a network, so the min-cost flow below has an integral optimum
that is the optimum of the integer programme. OR-Tools' min-cost flow needs integer costs; values are multiplied by
`scale` and rounded (see `solve` for the bound this puts on the error). `greedy` is the baseline a spreadsheet would
give: best pair first. `compare` reports the two side by side.

Pure: numpy, scipy, ortools and the standard library only.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from matcher.engine.validation import count, edges, int_array

__all__ = [
    "AssignmentPlan",
    "AssignmentProblem",
    "candidate_blocking",
    "compare",
    "greedy",
    "plan_summary",
    "priority_weights",
    "solve",
]

EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True)
class AssignmentProblem:
    """One batch: `e` eligible (candidate, slot) pairs with a value each, the slots' free seats and optional caps.

    Candidates and slots are row indices (0..n-1) into the caller's tables. Arrays are coerced to the dtypes below
    and checked on construction; a bad shape, an index out of range, a negative seat or cap or a NaN value raises
    ValueError. Pairs with a value <= 0 are allowed in the input but never assigned; a pair given twice counts once,
    with its larger value. `slot_group` may be -1 for a slot outside every group (no cap applies to it).
    """

    n_candidates: int
    n_slots: int
    edge_candidate: np.ndarray  # int32 [e]: the candidate of each eligible pair
    edge_slot: np.ndarray  # int32 [e]
    edge_value: np.ndarray  # float64 [e]: expected stays (probability) x priority weight, > 0
    slot_seats: np.ndarray  # int32 [n_slots]: free seats
    slot_group: np.ndarray | None = None  # int32 [n_slots]: e.g. the base of each slot, for caps
    group_caps: np.ndarray | None = None  # int32 [n_groups]: at most this many assigned per group
    # Tie-breaks (all optional; see the module's docstring): which of the candidate's wishes the pair's course is
    # (1 = first wish, 0 = not a wished course or not a course), the pair's distance in km (NaN = unknown, counted
    # as far as the farthest) and each candidate's days waited since release (negative counts as 0).
    edge_wish_rank: np.ndarray | None = None  # int32 [e], >= 0
    edge_distance_km: np.ndarray | None = None  # float64 [e], >= 0 or NaN
    candidate_waiting_days: np.ndarray | None = None  # float64 [n_candidates], finite

    def __post_init__(self) -> None:
        n_c, n_s = self.n_candidates, self.n_slots
        count("n_candidates", n_c)
        count("n_slots", n_s)
        cand, slot, value = edges(n_c, n_s, self.edge_candidate, self.edge_slot, self.edge_value,
                                  other_name="edge_slot", other_count_name="n_slots")
        seats = int_array("slot_seats", self.slot_seats)
        if len(seats) != n_s:
            raise ValueError(f"slot_seats must have n_slots={n_s} entries, got {len(seats)}")
        if len(seats) and seats.min() < 0:
            raise ValueError("slot_seats must be >= 0")
        group, caps = self.slot_group, self.group_caps
        if (group is None) != (caps is None):
            raise ValueError("slot_group and group_caps must be given together (or both left None)")
        if group is not None:
            group = int_array("slot_group", group)
            caps = int_array("group_caps", caps)
            if len(group) != n_s:
                raise ValueError(f"slot_group must have n_slots={n_s} entries, got {len(group)}")
            if len(group) and (group.min() < -1 or group.max() >= len(caps)):
                raise ValueError(f"slot_group must lie in [0, n_groups={len(caps)}) or be -1 (no group), "
                                 f"got [{group.min()}, {group.max()}]")
            if len(caps) and caps.min() < 0:
                raise ValueError("group_caps must be >= 0")
        wish, distance, waiting = self.edge_wish_rank, self.edge_distance_km, self.candidate_waiting_days
        if wish is not None:
            wish = int_array("edge_wish_rank", wish)
            if len(wish) != len(value):
                raise ValueError(f"edge_wish_rank must have one entry per edge ({len(value)}), got {len(wish)}")
            if len(wish) and wish.min() < 0:
                raise ValueError("edge_wish_rank must be >= 0")
        if distance is not None:
            distance = np.asarray(distance, dtype=np.float64)
            if distance.shape != value.shape:
                raise ValueError(f"edge_distance_km must have one entry per edge ({len(value)}), "
                                 f"got shape {distance.shape}")
            if np.any(distance < 0) or np.any(np.isinf(distance)):
                raise ValueError("edge_distance_km must be >= 0 and finite, or NaN (unknown)")
        if waiting is not None:
            waiting = np.asarray(waiting, dtype=np.float64)
            if waiting.shape != (n_c,):
                raise ValueError(f"candidate_waiting_days must have n_candidates={n_c} entries, "
                                 f"got shape {waiting.shape}")
            if not np.all(np.isfinite(waiting)):
                raise ValueError("candidate_waiting_days must be finite")
        object.__setattr__(self, "n_candidates", int(n_c))
        object.__setattr__(self, "n_slots", int(n_s))
        object.__setattr__(self, "edge_candidate", cand)
        object.__setattr__(self, "edge_slot", slot)
        object.__setattr__(self, "edge_value", value)
        object.__setattr__(self, "slot_seats", seats)
        object.__setattr__(self, "slot_group", group)
        object.__setattr__(self, "group_caps", caps)
        object.__setattr__(self, "edge_wish_rank", wish)
        object.__setattr__(self, "edge_distance_km", distance)
        object.__setattr__(self, "candidate_waiting_days", waiting)

    @property
    def n_edges(self) -> int:
        return len(self.edge_value)

    @property
    def n_groups(self) -> int:
        return 0 if self.group_caps is None else len(self.group_caps)


@dataclass(frozen=True)
class AssignmentPlan:
    """A draft plan: `candidate_slot[i]` is the slot of candidate i or -1; `chosen_edges` the indices (ascending)
    of the problem's edges that make it up. A plan is a draft until a person confirms it."""

    candidate_slot: np.ndarray  # int32 [n_candidates], -1 = unassigned
    chosen_edges: np.ndarray  # int64 indices into the problem's edges
    objective: float  # sum of edge_value over chosen edges
    method: str  # "min_cost_flow" | "greedy" | ...
    seconds: float
    optimal: bool
    # How many levels each tie-break told apart (1 = that rule did not act); None where no tie-break applies.
    tie_levels: dict[str, int] | None = None


def _usable_edges(problem: AssignmentProblem) -> np.ndarray:
    """Indices of the edges worth considering: value > 0, a slot with a seat, a group with a cap left; and of each
    duplicated (candidate, slot) pair only the one with the largest value (the lowest index among equals).
    Returned in ascending order."""
    value = problem.edge_value
    keep = value > 0
    keep &= problem.slot_seats[problem.edge_slot] > 0
    if problem.slot_group is not None:
        group = problem.slot_group[problem.edge_slot]
        capped = group >= 0
        keep[capped] &= problem.group_caps[group[capped]] > 0
    idx = np.flatnonzero(keep)
    if len(idx) == 0:
        return idx.astype(np.int64)
    key = problem.edge_candidate[idx].astype(np.int64) * max(problem.n_slots, 1) + problem.edge_slot[idx]
    if np.all(key[1:] > key[:-1]):  # already in (candidate, slot) order without repeats: the common case
        return idx
    sorted_key = np.sort(key)
    if np.all(sorted_key[1:] != sorted_key[:-1]):
        return idx
    del sorted_key
    order = np.lexsort((idx, -value[idx], key))
    key_sorted = key[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = key_sorted[1:] != key_sorted[:-1]
    return np.sort(idx[order[first]])


def _plan(problem: AssignmentProblem, chosen: np.ndarray, method: str, seconds: float, optimal: bool,
          tie_levels: dict[str, int] | None = None):
    chosen = np.sort(np.asarray(chosen, dtype=np.int64))
    candidate_slot = np.full(problem.n_candidates, -1, dtype=np.int32)
    candidate_slot[problem.edge_candidate[chosen]] = problem.edge_slot[chosen]
    objective = float(np.sum(problem.edge_value[chosen], dtype=np.float64)) if len(chosen) else 0.0
    return AssignmentPlan(candidate_slot=candidate_slot, chosen_edges=chosen, objective=objective, method=method,
                          seconds=seconds, optimal=optimal, tie_levels=tie_levels)


def _compact(index: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(local index of each entry, the distinct values in ascending order): a relabelling to 0..k-1."""
    present = np.bincount(index, minlength=n) > 0
    values = np.flatnonzero(present)
    mapping = np.full(n, -1, dtype=np.int64)
    mapping[values] = np.arange(len(values), dtype=np.int64)
    return mapping[index], values


def _prune(problem: AssignmentProblem, idx: np.ndarray, scale: int) -> tuple[np.ndarray, int]:
    """Drop pairs that no optimal plan needs, keeping the answer exact: at most T candidates are assigned in any
    plan (T = min(candidates with a pair, seats allowed by the caps)), so a slot needs only its T best pairs. If a
    plan put candidate c on slot j while c is not among j's T best, one of those T is unassigned (at most T - 1 of
    them are assigned elsewhere) and can take c's seat for at least the same value, caps unchanged. Values are
    compared as the solver sees them (rounded at `scale`), so pairs that tie there all stay for the tie-breaks to
    choose from. Returns (the kept indices, T)."""
    slot = problem.edge_slot[idx]
    degree = np.bincount(slot, minlength=problem.n_slots)
    seats = problem.slot_seats.astype(np.int64)
    if problem.slot_group is None:
        total = int(seats.sum())
    else:
        grouped = problem.slot_group >= 0
        per_group = np.bincount(problem.slot_group[grouped], weights=seats[grouped], minlength=problem.n_groups)
        total = int(seats[~grouped].sum() + np.minimum(per_group, problem.group_caps).sum())
    limit = min(total, int(np.count_nonzero(np.bincount(problem.edge_candidate[idx]))))
    if degree.max(initial=0) <= limit:
        return idx, limit
    by_slot = np.argsort(slot, kind="stable")
    ends = np.cumsum(degree)
    keep = np.ones(len(idx), dtype=bool)
    for j in np.flatnonzero(degree > limit).tolist():
        members = by_slot[ends[j] - degree[j]:ends[j]]
        values = np.maximum(np.rint(problem.edge_value[idx[members]] * scale), 1.0)
        threshold = np.partition(values, len(values) - limit)[len(values) - limit]
        keep[members[values < threshold]] = False  # ties at the threshold are all kept: still exact
    return idx[keep], limit


MAX_TIE_LEVELS = 1000  # finest split of distance and of waiting time: finer differences are not worth telling apart
INT_LIMIT = 2**60  # the largest cost x nodes OR-Tools' cost scaling may reach inside int64, with room to spare


def _tie_terms(problem: AssignmentProblem, idx: np.ndarray, budget: int) -> tuple[np.ndarray, dict[str, int]]:
    """Per pair of `idx`, an integer in [0, budget] that is larger for the better tie-break, and the number of
    levels each rule got. Within a pair the rules are lexicographic (any better wish outweighs any distance, any
    shorter distance any waiting time); distance and waiting time are cut into equal steps between the shortest and
    the longest of the batch, as many as the budget allows (at most MAX_TIE_LEVELS)."""
    n = len(idx)
    wish_level = None
    n_wish = 1
    if problem.edge_wish_rank is not None and n:
        rank = problem.edge_wish_rank[idx]
        top = int(rank.max())
        if top > 0:
            n_wish = min(top + 1, budget + 1)
            # The first wish scores highest; when the budget is short, the later wishes share the lowest levels.
            wish_level = np.where(rank > 0, top + 1 - rank, 0)
            if n_wish < top + 1:
                np.minimum(wish_level, n_wish - 1, out=wish_level)
        del rank
    rest = (budget + 1) // n_wish
    distance = None if problem.edge_distance_km is None else problem.edge_distance_km[idx]
    known = None if distance is None else np.isfinite(distance)
    has_distance = known is not None and bool(known.any())
    # Waiting is the candidate's: levels per candidate (of those with a pair here), then read per pair.
    waiting = cand = None
    if problem.candidate_waiting_days is not None:
        cand = problem.edge_candidate[idx]
        present = np.zeros(problem.n_candidates, dtype=bool)
        present[cand] = True
        waiting = np.maximum(problem.candidate_waiting_days, 0.0)
        low, high = float(waiting[present].min()), float(waiting[present].max())
    has_waiting = waiting is not None and high > low
    n_dist = n_wait = 1
    if has_distance and has_waiting:
        n_dist = min(MAX_TIE_LEVELS, max(1, math.isqrt(rest)))
        n_wait = min(MAX_TIE_LEVELS, max(1, rest // n_dist))
    elif has_distance:
        n_dist = min(MAX_TIE_LEVELS, max(1, rest))
    elif has_waiting:
        n_wait = min(MAX_TIE_LEVELS, max(1, rest))
    terms = np.zeros(n, dtype=np.int64)
    if wish_level is not None:
        terms += wish_level  # scaled below, with the distance, by what the rules after it can add
    if n_dist > 1:
        far = float(distance[known].max())
        near = float(distance[known].min())
        if far > near:
            distance[~known] = far  # unknown: as far as the farthest (a copy: idx's gather)
            distance -= near
            distance *= (n_dist - 1) / (far - near)
            np.rint(distance, out=distance)
            terms *= n_dist
            terms += (n_dist - 1) - distance.astype(np.int64)
        else:
            n_dist = 1
    del distance, known
    if n_wait > 1:
        level = np.rint((waiting - low) / (high - low) * (n_wait - 1)).astype(np.int64)
        terms *= n_wait
        terms += level[cand]
    return terms, {"wish": n_wish, "distance": n_dist, "waiting": n_wait}


def solve(problem: AssignmentProblem, *, scale: int = 1_000_000) -> AssignmentPlan:
    """The exact plan, by min-cost flow (OR-Tools `SimpleMinCostFlow`).

    Network: source -> candidate (capacity 1, cost 0); candidate -> slot (capacity 1, cost -round(value * scale),
    at least 1 in magnitude so that any positive pair beats leaving the candidate out); slot -> group (capacity
    seats) -> sink (capacity cap), or slot -> sink (capacity seats) for a slot without a group; and a bypass
    candidate -> sink (capacity 1, cost 0) so that all `n` units of supply can flow while any candidate may stay
    unassigned. Candidates without a usable pair are left out of the network. The network matrix is totally
    unimodular, so the integral min-cost flow is an optimal 0/1 assignment.

    Rounding: each pair's integer cost divided by scale is within 0.5 / scale of -value (within 1 / scale for values
    below 0.5 / scale), so the plan returned is optimal for the rounded values and its true objective is below the true
    optimum by at most (|plan| + |optimal plan|) / scale <= 2 * min(n_candidates, seats) / scale. With the default
    scale of 1e6 and values of order 0.1..3 this is a relative error below about 2e-5 in the worst case (only when
    rounded values tie) and far smaller in practice. A larger scale tightens it; the largest cost times the node
    count must stay well inside int64 (ValueError otherwise).

    Ties (the problem's `edge_wish_rank`, `edge_distance_km`, `candidate_waiting_days`, any of them): each pair's
    cost becomes -(rounded value * W + t), with t in [0, top] the pair's tie term (wished course, then shorter
    distance, then longer waiting; see `_tie_terms`) and W = T * top + 1, T the most candidates any plan can
    assign. A plan's tie terms total at most T * top < W, so the plan returned has the largest rounded objective,
    exactly as without tie-breaks, and among those the largest total of tie terms. `top` is as large as int64
    allows for the batch (largest cost x nodes below 2**60): on the benches about 100 steps each of distance and
    waiting for a city (7,500 people, 1,500 seats), 7 for a province (100,000 people, 50,000 seats);
    `AssignmentPlan.tie_levels` says how many. Within a pair the three rules are lexicographic; over a plan their
    terms add up, so two shorter trips can outweigh one wish granted elsewhere, never a single one.
    """
    from ortools.graph.python import min_cost_flow

    started = time.perf_counter()
    if not isinstance(scale, int | np.integer) or scale < 1:
        raise ValueError(f"scale must be a positive integer, got {scale!r}")
    idx = _usable_edges(problem)
    if len(idx) == 0:
        return _plan(problem, idx, "min_cost_flow", time.perf_counter() - started, True)

    idx, most_assigned = _prune(problem, idx, scale)
    cand_local, cands = _compact(problem.edge_candidate[idx], problem.n_candidates)
    slot_local, slots = _compact(problem.edge_slot[idx], problem.n_slots)
    n_c, n_s = len(cands), len(slots)
    seats = np.minimum(problem.slot_seats[slots].astype(np.int64), n_c)

    if problem.slot_group is not None:
        slot_group = problem.slot_group[slots]
        in_group = slot_group >= 0
        groups, group_local = np.unique(slot_group[in_group], return_inverse=True)
        n_g = len(groups)
    else:
        in_group = np.zeros(n_s, dtype=bool)
        groups, group_local, n_g = np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int64), 0

    source = 0
    slot_base = 1 + n_c
    group_base = slot_base + n_s
    sink = group_base + n_g
    n_nodes = sink + 1

    cost = np.maximum(np.rint(problem.edge_value[idx] * scale), 1.0)
    worst = float(cost.max()) * n_nodes
    if not math.isfinite(worst) or worst >= INT_LIMIT:
        raise ValueError(f"scale={scale} is too large for these values (largest cost x nodes = {worst:.3g} "
                         "must stay below 2**60); use a smaller scale")
    cost = cost.astype(np.int64)
    tie_levels = None
    if (problem.edge_wish_rank is not None or problem.edge_distance_km is not None
            or problem.candidate_waiting_days is not None):
        # Lexicographic: a plan's tie terms add up to at most T * top < weight, one unit of the primary, so they
        # only decide between plans whose rounded objectives are equal. The budget `top` is what int64 allows.
        largest = int(cost.max())
        budget = (INT_LIMIT // n_nodes - largest - 1) // (largest * most_assigned + 1)
        terms, tie_levels = _tie_terms(problem, idx, max(0, int(budget)))
        top = tie_levels["wish"] * tie_levels["distance"] * tie_levels["waiting"] - 1
        if top > 0:
            weight = most_assigned * top + 1
            cost *= weight
            cost += terms
        del terms

    # One preallocated block per arc attribute, pairs first (their arc ids are 0..e-1), then the rest.
    n_e, n_free, n_in = len(idx), int(n_s - in_group.sum()), int(in_group.sum())
    n_arcs = n_e + 2 * n_c + n_in + n_g + n_free
    tails = np.empty(n_arcs, dtype=np.int64)
    heads = np.empty(n_arcs, dtype=np.int64)
    caps = np.zeros(n_arcs, dtype=np.int64)
    costs = np.zeros(n_arcs, dtype=np.int64)
    np.add(cand_local, 1, out=tails[:n_e])
    np.add(slot_local, slot_base, out=heads[:n_e])
    np.negative(cost, out=costs[:n_e])
    caps[:n_e] = 1
    del cost, cand_local, slot_local
    at = n_e
    cand_nodes = np.arange(1, 1 + n_c, dtype=np.int64)
    tails[at:at + n_c], heads[at:at + n_c], caps[at:at + n_c] = source, cand_nodes, 1  # source -> candidate
    at += n_c
    tails[at:at + n_c], heads[at:at + n_c], caps[at:at + n_c] = cand_nodes, sink, 1  # bypass: unassigned
    at += n_c
    slot_nodes = np.arange(slot_base, slot_base + n_s, dtype=np.int64)
    if n_g:
        tails[at:at + n_in], heads[at:at + n_in] = slot_nodes[in_group], group_base + group_local
        caps[at:at + n_in] = seats[in_group]
        at += n_in
        tails[at:at + n_g] = np.arange(group_base, group_base + n_g, dtype=np.int64)
        heads[at:at + n_g] = sink
        caps[at:at + n_g] = np.minimum(problem.group_caps[groups].astype(np.int64), n_c)
        at += n_g
    free = ~in_group
    tails[at:at + n_free], heads[at:at + n_free], caps[at:at + n_free] = slot_nodes[free], sink, seats[free]

    smcf = min_cost_flow.SimpleMinCostFlow()
    smcf.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    del tails, heads, caps, costs
    supplies = np.zeros(n_nodes, dtype=np.int64)
    supplies[source], supplies[sink] = n_c, -n_c
    smcf.set_nodes_supplies(np.arange(n_nodes, dtype=np.int64), supplies)
    status = smcf.solve()
    if status != smcf.OPTIMAL:
        raise RuntimeError(f"min-cost flow did not solve to optimality (status {status})")
    flows = smcf.flows(np.arange(n_e, dtype=np.int64))
    chosen = idx[flows > 0]
    return _plan(problem, chosen, "min_cost_flow", time.perf_counter() - started, True, tie_levels)


def greedy(problem: AssignmentProblem) -> AssignmentPlan:
    """The baseline: take pairs best value first (ties: lower candidate index, then lower slot index) while the
    candidate is free, the slot has a seat and its group is under its cap. Never assigns a value <= 0."""
    started = time.perf_counter()
    idx = _usable_edges(problem)
    cand = problem.edge_candidate[idx]
    slot = problem.edge_slot[idx]
    order = np.lexsort((slot, cand, -problem.edge_value[idx]))
    seats_left = problem.slot_seats.astype(np.int64).tolist()
    taken = bytearray(problem.n_candidates)
    chosen: list[int] = []
    n_free_seats = int(problem.slot_seats.sum(dtype=np.int64))
    if problem.slot_group is not None:
        group_of = problem.slot_group.tolist()
        caps_left = problem.group_caps.astype(np.int64).tolist()
    else:
        group_of, caps_left = None, []
    limit = min(problem.n_candidates, n_free_seats)
    for e, c, s in zip(idx[order].tolist(), cand[order].tolist(), slot[order].tolist(), strict=True):
        if taken[c] or seats_left[s] <= 0:
            continue
        if group_of is not None:
            g = group_of[s]
            if g >= 0:
                if caps_left[g] <= 0:
                    continue
                caps_left[g] -= 1
        taken[c] = 1
        seats_left[s] -= 1
        chosen.append(e)
        if len(chosen) >= limit:
            break
    return _plan(problem, np.array(chosen, dtype=np.int64), "greedy", time.perf_counter() - started, False)


def priority_weights(key_subject: np.ndarray, days_waiting: np.ndarray, *, key_subject_weight: float = 1.0,
                     waiting_weight_per_year: float = 0.0, max_weight: float = 3.0) -> np.ndarray:
    """Per-candidate priority weights an organiser can set, to multiply into each pair's value.

    weight = 1 + key_subject_weight * key_subject + waiting_weight_per_year * (days_waiting / 365.25),
    clipped to [1, max_weight]. `key_subject` is truthy for a key subject (重点帮教对象); `days_waiting` is the
    time since release (or since registration) in days, negative values (not yet released) counting as 0.
    With the defaults a key subject counts double and waiting time does not count. A weight of 1 everywhere
    makes the objective the expected number of placements that stay; above 1 a candidate's placement counts more,
    so the solver favours placing them when seats are short, but never at the cost of leaving seats empty that
    another candidate could fill.
    """
    key = np.asarray(key_subject)
    days = np.asarray(days_waiting, dtype=np.float64)
    if key.ndim != 1 or days.ndim != 1 or len(key) != len(days):
        raise ValueError(f"key_subject and days_waiting must be 1-dimensional arrays of the same length, "
                         f"got shapes {key.shape} and {days.shape}")
    if not np.all(np.isfinite(days)):
        raise ValueError("days_waiting must be finite")
    for name, w in (("key_subject_weight", key_subject_weight), ("waiting_weight_per_year", waiting_weight_per_year)):
        if not math.isfinite(w) or w < 0:
            raise ValueError(f"{name} must be a finite number >= 0, got {w!r}")
    if not math.isfinite(max_weight) or max_weight < 1:
        raise ValueError(f"max_weight must be a finite number >= 1, got {max_weight!r}")
    years = np.maximum(days, 0.0) / 365.25
    weight = 1.0 + key_subject_weight * key.astype(bool) + waiting_weight_per_year * years
    return np.clip(weight, 1.0, max_weight)


def _unit_vectors(lat, lng) -> np.ndarray:
    lat_r = np.radians(np.asarray(lat, dtype=np.float64))
    lng_r = np.radians(np.asarray(lng, dtype=np.float64))
    cos_lat = np.cos(lat_r)
    return np.column_stack((cos_lat * np.cos(lng_r), cos_lat * np.sin(lng_r), np.sin(lat_r)))


def candidate_blocking(candidate_lat: np.ndarray, candidate_lng: np.ndarray, slot_lat: np.ndarray,
                       slot_lng: np.ndarray, max_km: float = 50.0, k: int = 50, *, return_distance: bool = False,
                       workers: int = -1):
    """Which pairs to score in a large batch: for each candidate, the `k` nearest slots within `max_km`
    (great-circle distance), found with a k-d tree (scipy cKDTree) on 3-D unit-sphere coordinates.

    Returns (edge_candidate int32, edge_slot int32), ordered by candidate, then by distance; with
    `return_distance=True` also the great-circle distance in km (float64) of each pair, which the scorer can reuse
    as its travel feature. The caller then applies the eligibility rules to only these pairs, scores the ones that
    remain, multiplies in `priority_weights[edge_candidate]`, and builds an `AssignmentProblem` from them: the
    scoring cost grows with n_candidates * k instead of n_candidates * n_slots. Pairs beyond a candidate's own
    travel limit are the eligibility rules' business; `max_km` is the outer bound. Blocking is a restriction: the
    plan is exact for the blocked pairs, not for all pairs. A candidate with no slot within `max_km` gets no pair.
    Non-finite coordinates yield no pairs for that candidate (or slot).
    """
    c_lat = np.asarray(candidate_lat, dtype=np.float64)
    c_lng = np.asarray(candidate_lng, dtype=np.float64)
    s_lat = np.asarray(slot_lat, dtype=np.float64)
    s_lng = np.asarray(slot_lng, dtype=np.float64)
    if c_lat.ndim != 1 or c_lat.shape != c_lng.shape:
        raise ValueError(f"candidate_lat and candidate_lng must be 1-dimensional and of the same length, "
                         f"got shapes {c_lat.shape} and {c_lng.shape}")
    if s_lat.ndim != 1 or s_lat.shape != s_lng.shape:
        raise ValueError(f"slot_lat and slot_lng must be 1-dimensional and of the same length, "
                         f"got shapes {s_lat.shape} and {s_lng.shape}")
    if not math.isfinite(max_km) or max_km <= 0:
        raise ValueError(f"max_km must be a positive number, got {max_km!r}")
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    empty = (np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int32))
    slot_ok = np.flatnonzero(np.isfinite(s_lat) & np.isfinite(s_lng))
    cand_ok = np.flatnonzero(np.isfinite(c_lat) & np.isfinite(c_lng))
    if len(slot_ok) == 0 or len(cand_ok) == 0:
        return (*empty, np.zeros(0)) if return_distance else empty

    from scipy.spatial import cKDTree

    tree = cKDTree(_unit_vectors(s_lat[slot_ok], s_lng[slot_ok]))
    angle = min(max_km / EARTH_RADIUS_KM, math.pi)
    chord = 2.0 * math.sin(angle / 2.0) * (1 + 1e-12)
    kk = int(min(k, len(slot_ok)))
    edge_c_parts, edge_s_parts, dist_parts = [], [], []
    chunk = max(1, 2_000_000 // kk)  # bound the temporary (n x k) arrays
    for start in range(0, len(cand_ok), chunk):
        rows = cand_ok[start:start + chunk]
        dist, pos = tree.query(_unit_vectors(c_lat[rows], c_lng[rows]), k=kk, distance_upper_bound=chord,
                               workers=workers)
        if kk == 1:
            dist, pos = dist[:, None], pos[:, None]
        found = pos < len(slot_ok)
        row_of = np.broadcast_to(rows[:, None], pos.shape)[found]
        edge_c_parts.append(row_of.astype(np.int32))
        edge_s_parts.append(slot_ok[pos[found]].astype(np.int32))
        if return_distance:
            dist_parts.append(2.0 * EARTH_RADIUS_KM * np.arcsin(np.minimum(dist[found] / 2.0, 1.0)))
    edge_c = np.concatenate(edge_c_parts)
    edge_s = np.concatenate(edge_s_parts)
    if return_distance:
        return edge_c, edge_s, np.concatenate(dist_parts)
    return edge_c, edge_s


def plan_summary(problem: AssignmentProblem, plan: AssignmentPlan) -> dict:
    """Figures for a plan: how many assigned, the objective, seats used of seats free, and per-group counts
    (a dict group index -> {"assigned", "cap"}; empty without groups)."""
    chosen = plan.chosen_edges
    slots = problem.edge_slot[chosen]
    per_slot = np.bincount(slots, minlength=problem.n_slots) if problem.n_slots else np.zeros(0, dtype=np.int64)
    groups: dict[int, dict[str, int]] = {}
    if problem.slot_group is not None:
        g = problem.slot_group[slots]
        counts = np.bincount(g[g >= 0], minlength=problem.n_groups)
        groups = {int(i): {"assigned": int(counts[i]), "cap": int(problem.group_caps[i])}
                  for i in range(problem.n_groups)}
    return {
        "method": plan.method,
        "optimal": plan.optimal,
        "seconds": round(plan.seconds, 6),
        "n_candidates": problem.n_candidates,
        "n_slots": problem.n_slots,
        "n_edges": problem.n_edges,
        "assigned": int(len(chosen)),
        "objective": plan.objective,
        "seats_free": int(problem.slot_seats.sum(dtype=np.int64)),
        "seats_used": int(per_slot.sum()),
        "slots_full": int(np.sum((per_slot >= problem.slot_seats) & (problem.slot_seats > 0))),
        "groups": groups,
        "tie_levels": plan.tie_levels,
    }


def compare(problem: AssignmentProblem, *, scale: int = 1_000_000) -> dict:
    """The exact plan against the greedy one: objectives, the gain and the relative gain (gain / greedy)."""
    exact = solve(problem, scale=scale)
    base = greedy(problem)
    gain = exact.objective - base.objective
    return {
        "optimal_objective": exact.objective,
        "greedy_objective": base.objective,
        "gain": gain,
        "relative_gain": gain / base.objective if base.objective > 0 else 0.0,
        "optimal_assigned": int(len(exact.chosen_edges)),
        "greedy_assigned": int(len(base.chosen_edges)),
        "solve_seconds": exact.seconds,
        "greedy_seconds": base.seconds,
    }
