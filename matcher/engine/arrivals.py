"""A year of weekly arrivals on a synthetic city, and the placement policies run on it: the simulator that measures
rolling-horizon planning (`matcher.engine.horizon`) against the hindsight optimum, the weekly myopic batch and
greedy first-come referral.

The year (`make_year`, built on a `matcher.engine.synthetic.World` and its hidden truth):

- People are released in weekly batches spread over the year. Each appears on a prison's pre-release list `list_days`
  before the release the list forecasts; a share (`slip_share`) is released later than forecast (1 to 6 weeks).
- Slots start on days spread over the year (and a little after); each is posted `post_lead_days` before it starts
  and has the world's free seats. A slot is filled by its start.
- A person can take a slot that starts between their release and `patience_days` later; unplaced by then, they
  have found something else (they leave the pool). A placement's worth is the truth's probability that the person
  starts and stays.

Policies (each returns the placements it made, `Outcome`):

- `hindsight`: everyone and every slot known in advance; one exact assignment. An upper bound for any policy.
- `greedy_first_come`: each week, the people in the pool, earliest released first, each take the best slot then
  posted with a seat left (a caseworker referring the person in front of them).
- `myopic_batch`: each week, the exact assignment of the pool to the posted slots; all of it committed.
- `rolling_horizon`: each week, `plan_week` over the pool and the listed people not yet released (at their
  forecast day, discounted by the forecast's certainty); the pool's pairs committed (or, with
  `commit_within_days`, those whose slot starts that soon: the rest are planned again next week), seats held (or
  not).

Pure: numpy and the engine.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from matcher.engine.assignment import AssignmentProblem, solve
from matcher.engine.eligibility import Ineligible, eligible_mask
from matcher.engine.horizon import HorizonProblem, plan_week
from matcher.engine.synthetic import World

__all__ = ["Outcome", "Year", "greedy_first_come", "hindsight", "make_year", "myopic_batch", "rolling_horizon"]

WEEK = 7


@dataclass(frozen=True)
class Year:
    """Who is released when (really, and as the list forecast), which slot starts when, and every pair's worth."""

    release_day: np.ndarray  # int64 [n]
    forecast_day: np.ndarray  # int64 [n]: the release day on the pre-release list
    listed_day: np.ndarray  # int64 [n]: the day the person appears on the list
    slot_start: np.ndarray  # int64 [m]
    slot_posted: np.ndarray  # int64 [m]
    slot_seats: np.ndarray  # int32 [m]
    edge_person: np.ndarray  # int32 [e]: eligible pairs (the law and age rules), any time
    edge_slot: np.ndarray  # int32 [e]
    edge_stay: np.ndarray  # float64 [e]: the truth's probability of starting and staying
    patience_days: int
    list_days: int
    certainty: float  # what the planner believes of a forecast: 1 - the share that slips

    @property
    def n_people(self) -> int:
        return len(self.release_day)

    @property
    def n_slots(self) -> int:
        return len(self.slot_start)

    @property
    def last_day(self) -> int:
        return int(max(self.slot_start.max(initial=0), (self.release_day + self.patience_days).max(initial=0)))


def make_year(world: World, *, seed: int = 0, days: int = 364, list_days: int = 90, post_lead_days: int = 56,
              patience_days: int = 70, slip_share: float = 0.1) -> Year:
    """A year of weekly arrivals on `world` (its candidates are the year's releases, its slots the year's slots)."""
    rng = np.random.default_rng(seed)
    n, m = len(world.candidates), len(world.slots)
    # Releases come in weekly batches (the day the week's plan is made), so that what hindsight pairs a week's plan
    # could pair too: only the information differs, never the calendar.
    forecast = rng.integers(0, days // WEEK + 1, size=n).astype(np.int64) * WEEK
    slips = rng.random(n) < slip_share
    release = forecast + np.where(slips, rng.integers(1, 7, size=n) * WEEK, 0)
    start = rng.integers(0, days + patience_days // 2 + 1, size=m).astype(np.int64)
    seats = np.asarray(world.slots.seats_free, dtype=np.int32).copy()
    person, slot = np.repeat(np.arange(n), m), np.tile(np.arange(m), n)
    # The rules of the law and of age hold whatever the day; availability is the year's business.
    keep = eligible_mask(world.candidates, world.slots, person, slot, world.today,
                         rules=(Ineligible.BELOW_MINIMUM_AGE, Ineligible.OCCUPATIONAL_BAN))
    # Only pairs some day could make: the slot starts within the person's patience after a release.
    gap = start[slot] - release[person]
    keep &= (gap >= 0) & (gap <= patience_days)
    person, slot = person[keep], slot[keep]
    stay = world.stay_probability(person, slot)
    return Year(release_day=release, forecast_day=forecast, listed_day=forecast - list_days, slot_start=start,
                slot_posted=start - post_lead_days, slot_seats=seats, edge_person=person.astype(np.int32),
                edge_slot=slot.astype(np.int32), edge_stay=stay, patience_days=patience_days, list_days=list_days,
                certainty=1.0 - slip_share)


@dataclass
class Outcome:
    """What a policy did over the year: the pairs placed (edge indices), their expected stays, solve times."""

    policy: str
    placed: np.ndarray
    stays: float
    solve_seconds: list[float] = field(default_factory=list)
    weeks_holding: int = 0
    seats_held: list[int] = field(default_factory=list)

    def summary(self) -> dict:
        times = np.asarray(self.solve_seconds) if self.solve_seconds else np.zeros(1)
        return {"stays": round(self.stays, 2), "placed": int(len(self.placed)),
                "solves": len(self.solve_seconds), "solve_ms_mean": round(1000 * float(times.mean()), 2),
                "solve_ms_p95": round(1000 * float(np.percentile(times, 95)), 2),
                "solve_ms_max": round(1000 * float(times.max()), 2), "weeks_holding": self.weeks_holding,
                "seats_held_mean": round(float(np.mean(self.seats_held)), 1) if self.seats_held else 0.0}


def _outcome(year: Year, name: str, placed: list[np.ndarray], **kwargs) -> Outcome:
    chosen = np.sort(np.concatenate(placed)) if placed else np.zeros(0, dtype=np.int64)
    return Outcome(policy=name, placed=chosen, stays=float(year.edge_stay[chosen].sum()), **kwargs)


def hindsight(year: Year) -> Outcome:
    """Everyone known in advance: one exact assignment over every pair some day could make."""
    problem = AssignmentProblem(n_candidates=year.n_people, n_slots=year.n_slots, edge_candidate=year.edge_person,
                                edge_slot=year.edge_slot, edge_value=year.edge_stay, slot_seats=year.slot_seats)
    plan = solve(problem)
    return _outcome(year, "hindsight", [plan.chosen_edges], solve_seconds=[plan.seconds])


class _Week:
    """The state the weekly policies share: who is placed, the seats left, which pairs are open on a day."""

    def __init__(self, year: Year):
        self.year = year
        self.placed = np.zeros(year.n_people, dtype=bool)
        self.seats = year.slot_seats.astype(np.int64).copy()

    def days(self):
        return range(0, self.year.last_day + WEEK, WEEK)

    def pool_edges(self, day: int) -> np.ndarray:
        """Pairs of people in the pool (released, unplaced, still waiting) with slots posted, not yet started, with
        a seat left (the pair's slot starts within the person's patience by construction)."""
        y = self.year
        p, s = y.edge_person, y.edge_slot
        in_pool = (y.release_day <= day) & (day <= y.release_day + y.patience_days) & ~self.placed
        return np.flatnonzero(in_pool[p] & self._open(day)[s])

    def _open(self, day: int) -> np.ndarray:
        y = self.year
        return (y.slot_posted <= day) & (y.slot_start >= day) & (self.seats > 0)

    def commit(self, edges: np.ndarray) -> None:
        y = self.year
        assert not self.placed[y.edge_person[edges]].any()
        self.placed[y.edge_person[edges]] = True
        np.subtract.at(self.seats, y.edge_slot[edges], 1)
        assert self.seats.min() >= 0


def greedy_first_come(year: Year) -> Outcome:
    """Each week the pool, earliest released first, each person taking the best slot open then."""
    state, placed, times = _Week(year), [], []
    for day in state.days():
        started = time.perf_counter()
        idx = state.pool_edges(day)
        if not len(idx):
            continue
        person = year.edge_person[idx]
        order = np.lexsort((-year.edge_stay[idx], person, year.release_day[person]))
        chosen, taken = [], set()
        for e in idx[order].tolist():
            c, s = int(year.edge_person[e]), int(year.edge_slot[e])
            if c in taken or state.seats[s] <= 0:
                continue
            taken.add(c)
            state.seats[s] -= 1
            chosen.append(e)
        chosen = np.array(chosen, dtype=np.int64)
        np.add.at(state.seats, year.edge_slot[chosen], 1)  # commit() takes them again, with its checks
        state.commit(chosen)
        placed.append(chosen)
        times.append(time.perf_counter() - started)
    return _outcome(year, "greedy_first_come", placed, solve_seconds=times)


def myopic_batch(year: Year) -> Outcome:
    """Each week the exact assignment of the pool to the slots open then; all of it committed."""
    state, placed, times = _Week(year), [], []
    for day in state.days():
        idx = state.pool_edges(day)
        if not len(idx):
            continue
        problem = AssignmentProblem(n_candidates=year.n_people, n_slots=year.n_slots,
                                    edge_candidate=year.edge_person[idx], edge_slot=year.edge_slot[idx],
                                    edge_value=year.edge_stay[idx], slot_seats=state.seats.astype(np.int32))
        plan = solve(problem)
        chosen = idx[plan.chosen_edges]
        state.commit(chosen)
        placed.append(chosen)
        times.append(plan.seconds)
    return _outcome(year, "myopic_batch", placed, solve_seconds=times)


def rolling_horizon(year: Year, *, hold_seats: bool = True, min_gain: float = 0.0,
                    certainty: float | None = None, commit_within_days: int | None = None) -> Outcome:
    """Each week `plan_week` over the pool and the listed people not yet released (at their forecast day, or next
    week once the forecast has passed), with the slots posted so far; the pool's pairs committed."""
    state, placed, times, held = _Week(year), [], [], []
    weeks_holding = 0
    belief = year.certainty if certainty is None else certainty
    for day in state.days():
        now = state.pool_edges(day)
        listed = (year.listed_day <= day) & (year.release_day > day) & ~state.placed
        expected = np.maximum(year.forecast_day, day + 1)
        p, s = year.edge_person, year.edge_slot
        gap = year.slot_start[s] - expected[p]
        later = np.flatnonzero(listed[p] & state._open(day)[s] & (gap >= 0) & (gap <= year.patience_days))
        idx = np.sort(np.concatenate([now, later]))  # disjoint: the pool is released, the listed are not
        if not len(now):
            continue
        available = np.where(listed, expected, day)  # the pool is present; the rest is masked out by its edges
        problem = HorizonProblem(n_people=year.n_people, n_slots=year.n_slots, edge_person=p[idx], edge_slot=s[idx],
                                 edge_value=year.edge_stay[idx], edge_start=year.slot_start[s[idx]],
                                 slot_seats=state.seats.astype(np.int32), person_available=available,
                                 person_certainty=np.where(listed, belief, 1.0))
        week = plan_week(problem, today=day, horizon_days=year.list_days + 6 * WEEK, hold_seats=hold_seats,
                         min_gain=min_gain, commit_within_days=commit_within_days)
        chosen = idx[week.committed]
        state.commit(chosen)
        placed.append(chosen)
        times.append(week.seconds)
        held.append(week.seats_held)
        weeks_holding += week.holding
    name = ("rolling_horizon_hold" if hold_seats else "rolling_horizon_no_hold") + (
        f"_refer_within_{commit_within_days}d" if commit_within_days is not None and hold_seats else "")
    return _outcome(year, name, placed, solve_seconds=times, weeks_holding=weeks_holding, seats_held=held)
