"""Recommendations both ways (slots for a candidate, candidates for a slot), why a pair is or
is not eligible, and the score of one pair."""

from __future__ import annotations

import dataclasses
import threading

import numpy as np
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from matcher import policy
from matcher.auth.models import Account, Role
from matcher.candidates.models import Candidate, CandidateStatus, Consent, ConsentKind
from matcher.candidates.service import get_candidate
from matcher.clock import today
from matcher.engine.eligibility import why_not
from matcher.engine.explain import explain_pairs
from matcher.engine.ranking import Ranked, rank_candidates, rank_slots
from matcher.matching import pipeline
from matcher.matching import reasons as words
from matcher.matching.adapters import candidate_rows
from matcher.matching.models import OccupationalBan
from matcher.matching.service.registry import active_scorer
from matcher.reference.models import Course
from matcher.slots.models import Slot
from matcher.slots.service import get_slot


@dataclasses.dataclass
class Recommendation:
    slot: Slot | None
    candidate: Candidate | None
    score: float
    reasons: list
    sentence_zh: str
    sentence_en: str


def _recommendation(*, slot: Slot | None, candidate: Candidate | None, score: float, reasons: list,
                    course_names) -> Recommendation:
    """A recommendation with its reasons in both languages (the engine gives codes and numbers)."""
    return Recommendation(slot=slot, candidate=candidate, score=score,
                          reasons=[words.in_both_languages(r, course_names) for r in reasons],
                          sentence_zh=words.sentence(reasons, course_names, "zh"),
                          sentence_en=words.sentence(reasons, course_names, "en"))


@dataclasses.dataclass
class RecommendationPage:
    items: list[Recommendation]
    total: int
    model_version: str
    model_kind: str
    # What the page is about: the candidate (slots for them) or the slot (candidates for it).
    candidate: Candidate | None = None
    slot: Slot | None = None


def recommend_slots(*, session: Session, actor: Account, candidate_id: int, offset: int = 0,
                    limit: int = 20) -> RecommendationPage:
    """The best eligible open slots for a candidate, with scores and reasons."""
    policy.require(actor, policy.Rule.MATCH_RECOMMEND)
    candidate = get_candidate(session=session, actor=actor, candidate_id=candidate_id)
    scorer, version = active_scorer(session)
    tables = pipeline.load(session, select(Candidate).where(Candidate.id == candidate.id), pipeline.open_slots(),
                           horizon_days=scorer.horizon_days)
    ranked = rank_slots(scorer, tables.featurizer, tables.candidates.table, tables.slots.table, 0,
                        today().toordinal(), offset=offset, limit=limit)
    return RecommendationPage(items=_items(session, scorer, tables, ranked, for_slot=None), total=int(ranked.total),
                              model_version=version, model_kind=scorer.kind, candidate=candidate)


def _items(session: Session, scorer, tables: pipeline.Tables, ranked: Ranked, *,
           for_slot: Slot | None) -> list[Recommendation]:
    """A ranked page as recommendations with their reasons: slots for the one candidate in `tables`, or (with
    `for_slot`) candidates for that slot."""
    index = np.asarray(ranked.index, dtype=np.int64)
    if not len(index):
        return []
    one = np.zeros(len(index), dtype=np.int64)  # the other side is the tables' only row
    slots_for_candidate = for_slot is None
    cand_index, slot_index = (one, index) if slots_for_candidate else (index, one)
    model, table = (Slot, tables.slots.table) if slots_for_candidate else (Candidate, tables.candidates.table)
    reasons = explain_pairs(scorer, tables.featurizer, cand_index, slot_index)
    ids = [int(table.ids[i]) for i in index]
    by_id = {row.id: row for row in session.scalars(select(model).where(model.id.in_(ids)))}
    course_names = _course_names(session)
    return [_recommendation(slot=by_id[i] if slots_for_candidate else for_slot,
                            candidate=None if slots_for_candidate else by_id[i],
                            score=float(p), reasons=r, course_names=course_names)
            for i, p, r in zip(ids, ranked.score, reasons, strict=True)]


def _referral_consent_granted():
    """Candidates whose latest `referral` consent record grants it."""
    latest = (select(Consent.candidate_id, func.max(Consent.id).label("latest_id"))
              .where(Consent.kind == ConsentKind.REFERRAL).group_by(Consent.candidate_id).subquery())
    return select(latest.c.candidate_id).join(Consent, and_(Consent.id == latest.c.latest_id,
                                                             Consent.granted.is_(True)))


def recommend_candidates(*, session: Session, actor: Account, slot_id: int, offset: int = 0,
                         limit: int = 20) -> RecommendationPage:
    """The best eligible candidates for a slot. Employers get candidates who consented to referral,
    shown pseudonymously by the caller; caseworkers their own office's candidates."""
    policy.require(actor, policy.Rule.MATCH_SUGGEST)
    slot = get_slot(session=session, actor=actor, slot_id=slot_id)
    scorer, version = active_scorer(session)
    seeking = Candidate.status.in_([CandidateStatus.PRE_RELEASE, CandidateStatus.ACTIVE])
    if actor.role == Role.EMPLOYER:
        stmt = select(Candidate).where(seeking, Candidate.id.in_(_referral_consent_granted()))
        cands = _cached_candidate_rows(session, "consented-seeking", stmt)
    elif actor.role == Role.ADMINISTRATOR:  # the files of the administrator's area
        cands = _cached_candidate_rows(session, f"seeking-in:{policy.area_prefix(actor)}",
                                       policy.candidates(actor).where(seeking))
    else:
        cands = policy.candidates(actor).where(seeking)
    tables = pipeline.load(session, cands, select(Slot).where(Slot.id == slot.id), horizon_days=scorer.horizon_days)
    ranked = rank_candidates(scorer, tables.featurizer, tables.candidates.table, tables.slots.table, 0,
                             today().toordinal(), offset=offset, limit=limit)
    return RecommendationPage(items=_items(session, scorer, tables, ranked, for_slot=slot), total=int(ranked.total),
                              model_version=version, model_kind=scorer.kind, slot=slot)


_rows_lock = threading.Lock()
_rows_cache: dict[tuple[str, str], tuple[tuple, object]] = {}


def _data_version(session: Session) -> tuple:
    """Changes whenever anything a candidate table is built from changes (files are edited through the
    ORM, which stamps updated_at; skills, wishes, consents and bans are replaced by new rows)."""
    from matcher.candidates.models import CandidateSkill, Certificate, PreferredCourse

    return tuple(session.execute(select(
        select(func.count(Candidate.id)).scalar_subquery(), select(func.max(Candidate.updated_at)).scalar_subquery(),
        select(func.max(CandidateSkill.id)).scalar_subquery(), select(func.max(Certificate.id)).scalar_subquery(),
        select(func.max(PreferredCourse.id)).scalar_subquery(), select(func.max(Consent.id)).scalar_subquery(),
        select(func.max(OccupationalBan.id)).scalar_subquery())).one())


def _cached_candidate_rows(session: Session, name: str, stmt):
    """The city-wide candidate table, rebuilt only when the data behind it changed (it is the slow part
    of suggesting candidates for a slot: thousands of files)."""
    key = (str(session.get_bind().url), name)
    version = _data_version(session)
    with _rows_lock:
        cached = _rows_cache.get(key)
        if cached is not None and cached[0] == version:
            return cached[1]
    rows = candidate_rows(session, stmt)
    with _rows_lock:
        _rows_cache[key] = (version, rows)
    return rows


def eligibility(*, session: Session, actor: Account, candidate_id: int, slot_id: int) -> dict:
    """Why a candidate may or may not be placed in a slot (caseworkers and administrators only:
    an employer learns only that someone is eligible, never why not)."""
    policy.require(actor, policy.Rule.MATCH_RECOMMEND)
    candidate = get_candidate(session=session, actor=actor, candidate_id=candidate_id)
    slot = get_slot(session=session, actor=actor, slot_id=slot_id)
    tables = pipeline.load(session, select(Candidate).where(Candidate.id == candidate.id),
                           select(Slot).where(Slot.id == slot.id))
    reasons = why_not(tables.candidates.table, tables.slots.table, 0, 0, today().toordinal())
    return {"eligible": not reasons, "candidate": candidate,
            "reasons": [{"code": r.value, "text_zh": words.ineligible_text(r, "zh"),
                         "text_en": words.ineligible_text(r, "en")} for r in reasons]}


def score_pair(session: Session, candidate_id: int, slot_id: int) -> tuple[float, str]:
    """The active model's score for one pair (stored on referrals that a recommendation produced)."""
    scorer, version = active_scorer(session)
    tables = pipeline.load(session, select(Candidate).where(Candidate.id == candidate_id),
                           select(Slot).where(Slot.id == slot_id), horizon_days=scorer.horizon_days)
    if not len(tables.candidates.table) or not len(tables.slots.table):
        # No such candidate or slot (or none to score): no score; creating the referral answers 404.
        return None, None
    return float(tables.score(scorer, np.array([0]), np.array([0]))[0]), version


def _course_names(session: Session) -> dict[str, tuple[str, str]]:
    return {c.code: (c.name_zh, c.name_en) for c in session.scalars(select(Course))}
