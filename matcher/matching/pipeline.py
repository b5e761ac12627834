"""The one scoring pipeline that recommendations, batch assignment and the job-fair planner share: load the
candidates and slots as the engine's tables (`load`), keep the pairs that are eligible, score them with the
active model and weight each by its candidate's priority (`score_pairs`).

It sits between the services and the pure engine: the adapters turn rows into tables, the engine decides
eligibility, scores and weights; what is loaded, for whom, is the calling service's business (and scope)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from matcher.bases.models import Company, certified_in_date
from matcher.candidates.models import Candidate
from matcher.engine.assignment import priority_weights
from matcher.engine.eligibility import eligible_mask
from matcher.engine.features import PairFeaturizer
from matcher.matching.adapters import CandidateRows, SlotRows, candidate_rows, skill_synonyms, slot_rows
from matcher.reference.models import Skill
from matcher.slots.models import Slot, SlotStatus

if TYPE_CHECKING:  # the model module loads scikit-learn: only when a pair is scored
    from matcher.engine.model import TrainedScorer


def featurizer_for(session: Session, candidates, slots) -> PairFeaturizer:
    """The one way features are built, in training and in serving alike (the taxonomy, the Chinese skill
    names and the shipped synonyms read free text as skills)."""
    skills = session.scalars(select(Skill)).all()
    return PairFeaturizer(candidates, slots, taxonomy={s.code: s.course_code for s in skills},
                          skill_names={s.code: s.name_zh for s in skills}, synonyms=skill_synonyms())


def open_slots() -> Select:
    """The slots open to matching: open, at a base whose certification is in force."""
    in_force = select(Company.id).where(certified_in_date())
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

    @functools.cached_property
    def featurizer(self) -> PairFeaturizer:
        # Built on first use: it reads the skill taxonomy, which a use case with nothing to score never needs.
        return featurizer_for(self.session, self.candidates.table, self.slots.table)

    def score(self, scorer: TrainedScorer, candidate_index: np.ndarray, slot_index: np.ndarray) -> np.ndarray:
        """P(start and stay the scorer's horizon) for each (candidate row, slot row) pair, eligible or not."""
        from matcher.engine.model import score

        return score(scorer, self.featurizer, candidate_index, slot_index)


def load(session: Session, candidates: Select | CandidateRows, slots: Select, *, horizon_days: int = 90,
         as_of: dt.date | None = None) -> Tables:
    """The tables for the candidates and slots the two selects return (candidates may come already built, e.g.
    from a cache); a slot's base record counts placements whose `horizon_days` passed by `as_of`."""
    if not isinstance(candidates, CandidateRows):
        candidates = candidate_rows(session, candidates)
    return Tables(session=session, candidates=candidates,
                  slots=slot_rows(session, slots, horizon_days=horizon_days, as_of=as_of))


@dataclasses.dataclass(frozen=True)
class ScoredPairs:
    """The pairs asked about that are eligible, scored and weighted (aligned arrays)."""

    kept: np.ndarray  # bool, per pair asked about: eligible (and allowed by `only`)
    candidate: np.ndarray  # int64 candidate rows of the kept pairs
    slot: np.ndarray  # int64 slot rows
    score: np.ndarray  # float64 P(start and stay)
    value: np.ndarray  # float64 score x the candidate's priority weight


def all_pairs(n_candidates: int, n_slots: int) -> tuple[np.ndarray, np.ndarray]:
    """Every (candidate, slot) pair, candidate by candidate."""
    return (np.repeat(np.arange(n_candidates, dtype=np.int64), n_slots),
            np.tile(np.arange(n_slots, dtype=np.int64), n_candidates))


def score_pairs(tables: Tables, scorer: TrainedScorer, candidate_index: np.ndarray, slot_index: np.ndarray, *,
                day: dt.date, key_subject_weight: float, waiting_weight_per_year: float,
                only: np.ndarray | None = None) -> ScoredPairs:
    """Keep the pairs eligible on `day` (and, where given, allowed by the mask `only`), score them, and weight
    each score by its candidate's priority: being a key subject, and the time waited since release by `day`."""
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
    return ScoredPairs(kept=kept, candidate=ci, slot=si, score=p, value=p * weights[ci])


@dataclasses.dataclass(frozen=True)
class TieBreaks:
    """What the exact assignment breaks ties by (engine.assignment.AssignmentProblem's tie-break arrays)."""

    wish_rank: np.ndarray  # int32 per pair: which wish of the candidate the slot's training course is, 0 = none
    distance_km: np.ndarray  # float64 per pair, NaN where a coordinate is unknown
    waiting_days: np.ndarray  # float64 per candidate row: days since available (release or earliest start)


def tie_breaks(tables: Tables, candidate_index: np.ndarray, slot_index: np.ndarray, *, day: dt.date) -> TieBreaks:
    """The tie-breaks of the given pairs (scored ones: the featurizer is already built), on `day`."""
    wish, distance = tables.featurizer.tie_breaks(candidate_index, slot_index)
    waiting = np.maximum(0, day.toordinal() - tables.candidates.table.available_from).astype(np.float64)
    return TieBreaks(wish_rank=wish, distance_km=np.asarray(distance, dtype=np.float64), waiting_days=waiting)


def priority(tables: Tables, day: dt.date, *, key_subject_weight: float,
             waiting_weight_per_year: float) -> np.ndarray:
    """Per candidate row, the weight its placements count with (engine.assignment.priority_weights)."""
    candidates = tables.candidates.table
    keys = key_subject_flags(tables.session, candidates.ids)
    waiting = np.maximum(0, day.toordinal() - candidates.available_from)
    return priority_weights(keys, waiting, key_subject_weight=key_subject_weight,
                            waiting_weight_per_year=waiting_weight_per_year)
