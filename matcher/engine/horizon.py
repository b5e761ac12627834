"""Rolling-horizon planning: this week's referrals for the people available now, planned together with the people
a pre-release hand-over list (预释放信息对接) says will be released soon, so that a scarce seat can be held for a
better fit who arrives before the slot starts.

One week's decision, on a problem of eligible (person, slot) pairs:

1. **The horizon plan.** One exact assignment (`matcher.engine.assignment.solve`) over the people available now
   and the people forecast to arrive within `horizon_days`. An arriving person may take only a pair whose slot (or
   the slot's fitting intake, 开班日期) starts on or after their release (plus `grace_days`); their values are
   discounted by how sure the forecast is (`person_certainty`: a release may slip, a person may go elsewhere).
2. **Commit only the present.** The pairs of people available now are this week's referrals (with
   `commit_within_days`, only those whose slot starts that soon; the others are planned again next week). The seats
   the plan gives to arriving people are *held*: not offered to anyone this week. Next week the plan is made again
   with what is known then (a rolling horizon), so a hold is never more than a week's promise.
3. **Without holding** (the setting off, or not worth it): the same horizon plan's present pairs, then every seat
   left (the ones the plan meant for arrivals too) is filled from the people available now who are still without a
   pair; arrivals get what remains when they come.

The *expected gain* of holding is the plan's value with holding minus its value without (both counting the
arrivals' later placements, discounted): never negative, since the horizon plan is optimal over both. Seats are
held only when the organiser asks for it and the gain exceeds `min_gain`; otherwise the plan without holding is
the week's plan, and the gain it would have brought is still reported.

Pure: numpy and the engine's assignment solver.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from matcher.engine.assignment import AssignmentProblem, solve
from matcher.engine.validation import count, edges, int_array

__all__ = ["HorizonPlan", "HorizonProblem", "plan_week"]


@dataclass(frozen=True)
class HorizonProblem:
    """Eligible (person, slot) pairs for one planning day, with the days that make the horizon.

    `person_available` is the day (an ordinal: date ordinals, or any day count) each person can start: their
    release or earliest start. People available on or before the planning day are *present*; the others *arrive*.
    `edge_start` is the day each pair's slot starts for that person (the fitting intake of a recurring course).
    `edge_value` is what the plan maximises (the stay probability times the person's priority weight);
    `edge_stay` the unweighted probability, for the expected stays reported (default: the value).
    `person_certainty` (default 1) discounts an arriving person's values: the chance the forecast holds.
    The tie-break arrays are passed on to `AssignmentProblem` (see there).
    """

    n_people: int
    n_slots: int
    edge_person: np.ndarray  # int32 [e]
    edge_slot: np.ndarray  # int32 [e]
    edge_value: np.ndarray  # float64 [e], > 0 to be worth a seat
    edge_start: np.ndarray  # int64 [e]: the day the pair's slot (intake) starts
    slot_seats: np.ndarray  # int32 [n_slots]: free seats
    person_available: np.ndarray  # int64 [n_people]: the day each person can start
    person_certainty: np.ndarray | None = None  # float64 [n_people] in [0, 1]
    edge_stay: np.ndarray | None = None  # float64 [e]
    edge_wish_rank: np.ndarray | None = None
    edge_distance_km: np.ndarray | None = None
    person_waiting_days: np.ndarray | None = None

    def __post_init__(self) -> None:
        n, m = count("n_people", self.n_people), count("n_slots", self.n_slots)
        person, slot, value = edges(n, m, self.edge_person, self.edge_slot, self.edge_value,
                                    other_name="edge_slot", other_count_name="n_slots")
        start = np.asarray(self.edge_start)
        if start.shape != value.shape or (start.size and not np.issubdtype(start.dtype, np.integer)):
            raise ValueError(f"edge_start must hold one whole day per edge ({len(value)}), got shape {start.shape}")
        seats = int_array("slot_seats", self.slot_seats)
        if len(seats) != m or (len(seats) and seats.min() < 0):
            raise ValueError(f"slot_seats must have n_slots={m} entries, each >= 0")
        available = np.asarray(self.person_available)
        if available.shape != (n,) or (n and not np.issubdtype(available.dtype, np.integer)):
            raise ValueError(f"person_available must hold one whole day per person ({n}), got shape {available.shape}")
        certainty = self.person_certainty
        if certainty is not None:
            certainty = np.asarray(certainty, dtype=np.float64)
            if certainty.shape != (n,) or not np.all((certainty >= 0) & (certainty <= 1)):
                raise ValueError(f"person_certainty must hold one value in [0, 1] per person ({n})")
        stay = self.edge_stay
        if stay is not None:
            stay = np.asarray(stay, dtype=np.float64)
            if stay.shape != value.shape or not np.all(np.isfinite(stay)):
                raise ValueError(f"edge_stay must hold one finite value per edge ({len(value)})")
        waiting = self.person_waiting_days
        if waiting is not None:
            waiting = np.asarray(waiting, dtype=np.float64)
            if waiting.shape != (n,):
                raise ValueError(f"person_waiting_days must have one entry per person ({n})")
        for name, arr in (("edge_wish_rank", self.edge_wish_rank), ("edge_distance_km", self.edge_distance_km)):
            if arr is not None and np.shape(arr) != value.shape:
                raise ValueError(f"{name} must have one entry per edge ({len(value)})")
        object.__setattr__(self, "n_people", n)
        object.__setattr__(self, "n_slots", m)
        object.__setattr__(self, "edge_person", person)
        object.__setattr__(self, "edge_slot", slot)
        object.__setattr__(self, "edge_value", value)
        object.__setattr__(self, "edge_start", start.astype(np.int64))
        object.__setattr__(self, "slot_seats", seats)
        object.__setattr__(self, "person_available", available.astype(np.int64))
        object.__setattr__(self, "person_certainty", certainty)
        object.__setattr__(self, "edge_stay", stay)
        object.__setattr__(self, "person_waiting_days", waiting)

    def certainty(self) -> np.ndarray:
        return np.ones(self.n_people) if self.person_certainty is None else self.person_certainty

    def stay(self) -> np.ndarray:
        return self.edge_value if self.edge_stay is None else self.edge_stay


@dataclass(frozen=True)
class HorizonPlan:
    """One week's decision. Edge sets are ascending indices into the problem's edges.

    `committed`: the referrals to make now (present people); `deferred`: present people's planned pairs left for a
    later week to commit. `held`: the seats held for arriving people (their
    pairs in the horizon plan; empty unless `holding`). The figures compare the plan with holding against the plan
    without it, each counting the arrivals' placements (discounted by certainty): `value_*` in the objective's
    units, `stays_*` in expected placements that stay. `gain = value_with_holding - value_without_holding`.
    `without_committed` / `without_later` are the plan without holding: its referrals now, and where the arrivals
    would go on the seats left."""

    committed: np.ndarray
    held: np.ndarray
    holding: bool
    deferred: np.ndarray  # present people's pairs planned, to be committed by a later week (commit_within_days)
    hold_requested: bool
    value_with_holding: float
    value_without_holding: float
    stays_with_holding: float
    stays_without_holding: float
    without_committed: np.ndarray
    without_later: np.ndarray
    n_present: int
    n_arriving: int
    seconds: float

    @property
    def gain(self) -> float:
        return self.value_with_holding - self.value_without_holding

    @property
    def stays_gain(self) -> float:
        return self.stays_with_holding - self.stays_without_holding

    @property
    def seats_held(self) -> int:
        return int(len(self.held))


def _solve_on(problem: HorizonProblem, idx: np.ndarray, value: np.ndarray, seats: np.ndarray,
              scale: int) -> np.ndarray:
    """The exact plan over the edges `idx` (with these values and seats): the chosen edges, as indices of the
    problem's edges."""
    if len(idx) == 0:
        return idx
    tie = {}
    if problem.edge_wish_rank is not None:
        tie["edge_wish_rank"] = np.asarray(problem.edge_wish_rank)[idx]
    if problem.edge_distance_km is not None:
        tie["edge_distance_km"] = np.asarray(problem.edge_distance_km, dtype=np.float64)[idx]
    if problem.person_waiting_days is not None:
        tie["candidate_waiting_days"] = problem.person_waiting_days
    sub = AssignmentProblem(n_candidates=problem.n_people, n_slots=problem.n_slots,
                            edge_candidate=problem.edge_person[idx], edge_slot=problem.edge_slot[idx],
                            edge_value=value[idx], slot_seats=seats, **tie)
    return np.sort(idx[solve(sub, scale=scale).chosen_edges])


def _seats_left(problem: HorizonProblem, taken: np.ndarray) -> np.ndarray:
    used = np.bincount(problem.edge_slot[taken], minlength=problem.n_slots)
    return np.maximum(problem.slot_seats.astype(np.int64) - used, 0).astype(np.int32)


def plan_week(problem: HorizonProblem, *, today: int, horizon_days: int = 90, hold_seats: bool = True,
              min_gain: float = 0.0, grace_days: int = 0, commit_within_days: int | None = None,
              scale: int = 1_000_000) -> HorizonPlan:
    """This week's referrals and held seats (see the module's docstring).

    Present people (available by `today`) may take any of their pairs: which pairs are eligible today is the
    caller's business. Arriving people count only when available within `horizon_days` after `today`, and only on
    pairs starting on or after their day (minus `grace_days`). Seats are held when `hold_seats` and the expected
    gain exceeds `min_gain` (objective units, i.e. expected placements that stay, weighted).

    `commit_within_days` (None: commit every present pair): with `hold_seats`, a present person's pair whose slot
    starts later than that is planned but not yet committed (`deferred`): next week's plan, knowing more, decides
    it again. Its seat is not offered to anyone else this week either."""
    started = time.perf_counter()
    if isinstance(horizon_days, bool) or not isinstance(horizon_days, int | np.integer) or horizon_days < 0:
        raise ValueError(f"horizon_days must be a whole number of days >= 0, got {horizon_days!r}")
    if not math.isfinite(min_gain) or min_gain < 0:
        raise ValueError(f"min_gain must be a finite number >= 0, got {min_gain!r}")
    available = problem.person_available
    present = available <= today
    arriving = (available > today) & (available <= today + int(horizon_days))
    person = problem.edge_person
    value = problem.edge_value
    certainty = problem.certainty()
    usable = value > 0
    now_mask = usable & present[person]
    arrival_mask = usable & arriving[person] & (available[person] <= problem.edge_start + grace_days) \
        & (certainty[person] > 0)
    now_edges, arrival_edges = np.flatnonzero(now_mask), np.flatnonzero(arrival_mask)
    discounted = value * certainty[person]
    seats = problem.slot_seats

    # The horizon plan: the present and the arrivals compete for every seat.
    horizon = _solve_on(problem, np.flatnonzero(now_mask | arrival_mask), discounted, seats, scale)
    plan_now = horizon[present[person[horizon]]]
    plan_held = horizon[~present[person[horizon]]]

    # Without holding: the present pairs of the horizon plan, then every seat left filled from the present people
    # still without a pair; the arrivals take what remains.
    placed = np.zeros(problem.n_people, dtype=bool)
    placed[person[plan_now]] = True
    rest = now_edges[~placed[person[now_edges]]]
    fill = _solve_on(problem, rest, value, _seats_left(problem, plan_now), scale)
    without_now = np.sort(np.concatenate([plan_now, fill]))  # disjoint: fill is of people plan_now left out
    without_later = _solve_on(problem, arrival_edges, discounted, _seats_left(problem, without_now), scale)

    def totals(now: np.ndarray, later: np.ndarray, of: np.ndarray) -> float:
        return float(of[now].sum() + (of[later] * certainty[person[later]]).sum())

    value_with = totals(plan_now, plan_held, value)
    value_without = totals(without_now, without_later, value)
    stay = problem.stay()
    holding = bool(hold_seats and len(plan_held) and value_with - value_without > min_gain)
    committed = plan_now if holding else without_now
    deferred = np.zeros(0, dtype=np.int64)
    if hold_seats and commit_within_days is not None:
        late = problem.edge_start[committed] > today + int(commit_within_days)
        committed, deferred = committed[~late], committed[late]
    return HorizonPlan(
        committed=committed, deferred=deferred,
        held=plan_held if holding else np.zeros(0, dtype=np.int64),
        holding=holding, hold_requested=bool(hold_seats),
        value_with_holding=value_with, value_without_holding=value_without,
        stays_with_holding=totals(plan_now, plan_held, stay), stays_without_holding=totals(without_now, without_later,
                                                                                            stay),
        without_committed=without_now, without_later=without_later,
        n_present=int(present.sum()), n_arriving=int(arriving.sum()), seconds=time.perf_counter() - started)
