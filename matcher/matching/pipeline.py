"""The one scoring pipeline that recommendations, batch assignment and the job-fair planner share: load the
candidates and slots as the engine's tables (`load`), keep the pairs that are eligible, score them with the
active model and weight each by its candidate's priority (`score_pairs`).

It sits between the services and the pure engine: the adapters turn rows into tables, the engine decides
eligibility, scores and weights; what is loaded, for whom, is the calling service's business (and scope)."""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import functools
import threading
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session

from matcher.bases.answers import Standing, all_standings, forget_standings, not_paused
from matcher.bases.models import Company, certified_in_date
from matcher.candidates.models import Candidate
from matcher.clock import today
from matcher.engine.assignment import priority_weights
from matcher.engine.eligibility import eligible_mask
from matcher.engine.features import PairFeaturizer
from matcher.engine.slot_side import SlotSide
from matcher.matching.adapters import CandidateRows, SlotRows, candidate_rows, slot_rows
from matcher.reference.models import MappingStatus, Skill, SkillTextMapping
from matcher.reference.skill_mappings import matcher_synonyms
from matcher.referrals.models import Referral
from matcher.slots.models import Slot, SlotIntake, SlotSkill, SlotStatus

if TYPE_CHECKING:  # the model module loads scikit-learn: only when a pair is scored
    from matcher.engine.model import TrainedScorer


def _taxonomy(session: Session) -> dict:
    """The skill taxonomy, the Chinese skill names and the synonyms: the shipped ones and the readings
    administrators confirmed (free text is read as skills)."""
    skills = session.scalars(select(Skill)).all()
    return {"taxonomy": {s.code: s.course_code for s in skills}, "skill_names": {s.code: s.name_zh for s in skills},
            "synonyms": matcher_synonyms(session)}


def featurizer_for(session: Session, candidates, slots) -> PairFeaturizer:
    """The one way features are built, in training and in serving alike (the slot side cached by
    `open_slot_side` gives the same features)."""
    return PairFeaturizer(candidates, slots, **_taxonomy(session))


def open_slots() -> Select:
    """The slots open to matching: open, at a base whose certification is in force and that is not paused for
    leaving referrals unanswered (matcher.bases.answers)."""
    in_force = select(Company.id).where(certified_in_date(), not_paused())
    return select(Slot).where(Slot.status == SlotStatus.OPEN, Slot.company_id.in_(in_force))


def key_subject_flags(session: Session, ids: np.ndarray) -> np.ndarray:
    """Per candidate id: a key subject (重点帮教对象), whom an organiser may weight up."""
    if not len(ids):
        return np.zeros(0, dtype=bool)
    keys = set()
    id_list = [int(i) for i in ids]
    for start in range(0, len(id_list), 5000):
        keys.update(session.scalars(select(Candidate.id).where(Candidate.id.in_(id_list[start:start + 5000]),
                                                               Candidate.key_subject.is_(True))))
    return np.array([int(i) in keys for i in ids], dtype=bool)


@dataclasses.dataclass
class Tables:
    """The candidates and slots one use case scores, as the engine's tables (row i <-> a database id)."""

    session: Session
    candidates: CandidateRows
    slots: SlotRows
    slot_side: SlotSide | None = None  # the slots' half of the featurizer, already built (open_slot_side)

    @functools.cached_property
    def featurizer(self) -> PairFeaturizer:
        # Built on first use: it reads the skill taxonomy, which a use case with nothing to score never needs.
        if self.slot_side is not None:
            return self.slot_side.featurizer(self.candidates.table)
        return featurizer_for(self.session, self.candidates.table, self.slots.table)

    def score(self, scorer: TrainedScorer, candidate_index: np.ndarray, slot_index: np.ndarray) -> np.ndarray:
        """P(start and stay the scorer's horizon) for each (candidate row, slot row) pair, eligible or not."""
        from matcher.engine.model import score

        return score(scorer, self.featurizer, candidate_index, slot_index)


def load(session: Session, candidates: Select | CandidateRows, slots: Select | OpenSlots, *, horizon_days: int = 90,
         as_of: dt.date | None = None) -> Tables:
    """The tables for the candidates and slots the two selects return (candidates may come already built, e.g.
    from a cache; the slots too, with their featurizer half: open_slot_side); a slot's base record counts
    placements whose `horizon_days` passed by `as_of`."""
    if not isinstance(candidates, CandidateRows):
        candidates = candidate_rows(session, candidates)
    if isinstance(slots, OpenSlots):
        return Tables(session=session, candidates=candidates, slots=slots.rows, slot_side=slots.side)
    return Tables(session=session, candidates=candidates,
                  slots=slot_rows(session, slots, horizon_days=horizon_days, as_of=as_of))


@dataclasses.dataclass(frozen=True)
class OpenSlots:
    """The open slots' table and featurizer half, as of one version of the data behind them."""

    rows: SlotRows
    side: SlotSide


# Per process: the open slots (city-wide, one entry per filter set, the few most recently asked) of the
# recommendations page, which would otherwise rebuild thousands of slots for every candidate it shows. A hit is
# checked against `open_slots_version` on every request, so a change shows at once, in every process.
OPEN_SLOTS_KEPT = 8
_open_lock = threading.Lock()
_open_slots: collections.OrderedDict[tuple, tuple[tuple, OpenSlots]] = collections.OrderedDict()


def open_slots_version(session: Session, horizon_days: int) -> tuple:
    """Changes whenever anything the open slots' table is built from changes, in one small query. Eligibility
    does not rest on timestamps alone: a slot closed or a base suspended changes the count of open slots in force,
    a seat filled or freed the seat sums (a clock standing still, as in tests, cannot hide them)."""
    day = today()
    latest_start = day - dt.timedelta(days=horizon_days)
    started = and_(Referral.started_on.is_not(None), Referral.started_on <= latest_start)
    values = session.execute(select(
        select(func.count()).select_from(open_slots().subquery()).scalar_subquery(),
        select(func.count(Slot.id)).scalar_subquery(), select(func.max(Slot.id)).scalar_subquery(),
        select(func.max(Slot.updated_at)).scalar_subquery(),
        select(func.sum(Slot.seats_taken)).scalar_subquery(), select(func.sum(Slot.seats)).scalar_subquery(),
        select(func.count(Company.id)).scalar_subquery(), select(func.max(Company.updated_at)).scalar_subquery(),
        select(func.count(SlotSkill.id)).scalar_subquery(), select(func.max(SlotSkill.id)).scalar_subquery(),
        select(func.count(SlotIntake.id)).scalar_subquery(), select(func.max(SlotIntake.id)).scalar_subquery(),
        select(func.count(Referral.id)).where(started).scalar_subquery(),
        select(func.max(Referral.updated_at)).where(started).scalar_subquery(),
        select(func.count(Skill.code)).scalar_subquery(),
        # A confirmed reading of a free text changes how slots' requirements read (reference.skill_mappings).
        *(select(aggregate).where(SkillTextMapping.status == MappingStatus.CONFIRMED).scalar_subquery()
          for aggregate in (func.count(SkillTextMapping.id), func.max(SkillTextMapping.updated_at),
                            func.max(SkillTextMapping.id))))).one()
    return (day, *values)


def open_slot_side(session: Session, slots: Select, *, key: tuple, horizon_days: int = 90) -> OpenSlots:
    """The slots `slots` (a narrowing of `open_slots()`, named by `key`) as a table and featurizer half, built
    once per version of the data (open_slots_version) and shared by the process's threads."""
    cache_key = (str(session.get_bind().url), key, horizon_days)
    version = open_slots_version(session, horizon_days)
    with _open_lock:
        cached = _open_slots.get(cache_key)
        if cached is not None and cached[0] == version:
            _open_slots.move_to_end(cache_key)
            return cached[1]
    # Built outside the lock: two threads missing at once both build (the same thing); neither waits on the other.
    rows = slot_rows(session, slots, horizon_days=horizon_days)
    built = OpenSlots(rows=rows, side=SlotSide(rows.table, **_taxonomy(session)))
    with _open_lock:
        _open_slots[cache_key] = (version, built)
        _open_slots.move_to_end(cache_key)
        while len(_open_slots) > OPEN_SLOTS_KEPT:
            _open_slots.popitem(last=False)
    return built


def forget_open_slots() -> None:
    """Empty the caches (tests: a fresh database may repeat the last one's version exactly)."""
    with _open_lock:
        _open_slots.clear()
    forget_standings()


def answer_weights(session: Session, slots: SlotRows) -> tuple[np.ndarray, dict[int, Standing]]:
    """Per slot row, the chance that its base answers a referral (matcher.bases.answers: smoothed towards the city's
    rate; 1 for a base without a record), and the bases' standings. Kept apart from the open slots' cache: it
    changes with every referral moved, the slot side does not."""
    standing = all_standings(session)
    weights = np.array([standing[int(c)].p_answer if int(c) in standing else 1.0 for c in slots.table.company_ids],
                       dtype=np.float64)
    return weights, standing


@dataclasses.dataclass(frozen=True)
class ScoredPairs:
    """The pairs asked about that are eligible, scored and weighted (aligned arrays)."""

    kept: np.ndarray  # bool, per pair asked about: eligible (and allowed by `only`)
    candidate: np.ndarray  # int64 candidate rows of the kept pairs
    slot: np.ndarray  # int64 slot rows
    score: np.ndarray  # float64 P(start and stay)
    value: np.ndarray  # float64 score x the candidate's priority weight (x the slot's weight, where given)


def all_pairs(n_candidates: int, n_slots: int) -> tuple[np.ndarray, np.ndarray]:
    """Every (candidate, slot) pair, candidate by candidate."""
    return (np.repeat(np.arange(n_candidates, dtype=np.int64), n_slots),
            np.tile(np.arange(n_slots, dtype=np.int64), n_candidates))


def score_pairs(tables: Tables, scorer: TrainedScorer, candidate_index: np.ndarray, slot_index: np.ndarray, *,
                day: dt.date, key_subject_weight: float, waiting_weight_per_year: float,
                only: np.ndarray | None = None, slot_weight: np.ndarray | None = None) -> ScoredPairs:
    """Keep the pairs eligible on `day` (and, where given, allowed by the mask `only`), score them, and weight
    each score by its candidate's priority: being a key subject, and the time waited since release by `day`; and,
    where `slot_weight` is given (per slot row), by it: the chance that the slot's base answers (answer_weights)."""
    ci, si = np.asarray(candidate_index, dtype=np.int64), np.asarray(slot_index, dtype=np.int64)
    kept = (eligible_mask(tables.candidates.table, tables.slots.table, ci, si, day.toordinal()) if len(ci)
            else np.zeros(0, dtype=bool))
    if only is not None:
        kept &= only
    ci, si = ci[kept], si[kept]
    if not len(ci):
        return ScoredPairs(kept=kept, candidate=ci, slot=si, score=np.zeros(0), value=np.zeros(0))
    p = tables.score(scorer, ci, si)
    weights = priority(tables, day, key_subject_weight=key_subject_weight,
                       waiting_weight_per_year=waiting_weight_per_year)
    value = p * weights[ci]
    if slot_weight is not None:
        value = value * np.asarray(slot_weight, dtype=np.float64)[si]
    return ScoredPairs(kept=kept, candidate=ci, slot=si, score=p, value=value)


@dataclasses.dataclass(frozen=True)
class TieBreaks:
    """What the exact assignment breaks ties by (engine.assignment.AssignmentProblem's tie-break arrays)."""

    wish_rank: np.ndarray  # int32 per pair: which wish of the candidate the slot's training course is, 0 = none
    distance_km: np.ndarray  # float64 per pair, NaN where a coordinate is unknown
    waiting_days: np.ndarray  # float64 per candidate row: days since available (release or earliest start)


def tie_breaks(tables: Tables, candidate_index: np.ndarray, slot_index: np.ndarray, *, day: dt.date) -> TieBreaks:
    """The tie-breaks of the given pairs (scored ones: the featurizer is already built), on `day`."""
    wish, distance = tables.featurizer.tie_breaks(candidate_index, slot_index)
    waiting = days_waiting(tables, day).astype(np.float64)
    return TieBreaks(wish_rank=wish, distance_km=np.asarray(distance, dtype=np.float64), waiting_days=waiting)


def days_waiting(tables: Tables, day: dt.date) -> np.ndarray:
    """Per candidate row, the days since they became available (release or earliest start) on `day`."""
    return np.maximum(0, day.toordinal() - tables.candidates.table.available_from)


def priority(tables: Tables, day: dt.date, *, key_subject_weight: float,
             waiting_weight_per_year: float) -> np.ndarray:
    """Per candidate row, the weight its placements count with (engine.assignment.priority_weights)."""
    candidates = tables.candidates.table
    keys = key_subject_flags(tables.session, candidates.ids)
    return priority_weights(keys, days_waiting(tables, day), key_subject_weight=key_subject_weight,
                            waiting_weight_per_year=waiting_weight_per_year)
