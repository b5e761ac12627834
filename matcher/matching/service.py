"""Matching: the model registry, recommendations both ways, eligibility explanations, batch assignment.

Every function fetches what it needs through the actor's scope (the candidates and slots services),
calls the pure engine through the adapters, and owns its transaction.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import threading
from pathlib import Path

import numpy as np
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, func, select, update
from sqlalchemy.orm import Session

from matcher import clock, policy, uow
from matcher.auth.models import Account, Role
from matcher.bases.models import certified_in_date
from matcher.candidates.models import Candidate, CandidateStatus, Consent, ConsentKind
from matcher.candidates.service import get_candidate, record_read
from matcher.clock import today
from matcher.engine import artifacts
from matcher.engine.assignment import AssignmentProblem, greedy, priority_weights, solve
from matcher.engine.eligibility import eligible_mask, why_not
from matcher.engine.explain import explain_pairs
from matcher.engine.features import PairFeaturizer
from matcher.engine.model import TrainedScorer, score, train_scorer
from matcher.engine.ranking import rank_candidates, rank_slots
from matcher.engine.types import History
from matcher.errors import Conflict, Forbidden, Invalid, NotFound
from matcher.matching import reasons as words
from matcher.matching.adapters import candidate_rows, known_outcome_filter, slot_rows, training_world
from matcher.matching.models import (
    AssignmentDraft,
    AssignmentDraftItem,
    DraftStatus,
    OccupationalBan,
    ScoringModel,
)
from matcher.places.models import code_prefix
from matcher.reference.models import Course, Skill
from matcher.reference.service import require_course, require_occupation
from matcher.referrals.lifecycle import ENDED, ReferralStatus
from matcher.referrals.models import Referral, ReferralEvent
from matcher.slots.models import Slot, SlotStatus
from matcher.slots.service import get_slot

_cache_lock = threading.Lock()
_loaded: dict[tuple[str, str], TrainedScorer] = {}


# ---- the model registry ----------------------------------------------------------------------

def models_dir() -> Path:
    return Path(current_app.config["MODELS_DIR"])


def active_model(session: Session) -> ScoringModel | None:
    return session.scalar(select(ScoringModel).where(ScoringModel.active.is_(True)))


def active_scorer(session: Session) -> tuple[TrainedScorer, str]:
    """The active model, loaded once per process; the transparent prior when none was trained yet."""
    record = active_model(session)
    if record is None:
        return _builtin_prior(), "prior-builtin"
    key = (str(models_dir()), record.version)
    with _cache_lock:
        if key not in _loaded:
            _loaded[key] = artifacts.load(models_dir(), record.version)
        return _loaded[key], record.version


def _builtin_prior() -> TrainedScorer:
    key = ("builtin", "prior")
    with _cache_lock:
        if key not in _loaded:
            empty = np.zeros(0, dtype=np.int64)
            _loaded[key] = train_scorer(None, None, History(empty, empty, empty, np.zeros(0, dtype=bool)))
        return _loaded[key]


def featurizer_for(session: Session, candidates, slots) -> PairFeaturizer:
    """The one way features are built, in training and in serving alike (the taxonomy and the Chinese
    skill names let free text match skills by name)."""
    skills = session.scalars(select(Skill)).all()
    return PairFeaturizer(candidates, slots, taxonomy={s.code: s.course_code for s in skills},
                          skill_names={s.code: s.name_zh for s in skills})


def _course_names(session: Session) -> dict[str, tuple[str, str]]:
    return {c.code: (c.name_zh, c.name_en) for c in session.scalars(select(Course))}


def _groups(session: Session, candidate_ids: np.ndarray) -> dict[str, np.ndarray]:
    """Sex, age band and risk grade per candidate: for fairness reporting only, never for scoring."""
    rows = {r.id: r for r in session.execute(
        select(Candidate.id, Candidate.sex, Candidate.birth_year, Candidate.risk_grade)
        .where(Candidate.id.in_([int(i) for i in set(candidate_ids.tolist())])))}
    year = today().year

    def band(birth_year: int) -> str:
        age = year - birth_year
        return "<30" if age < 30 else "30-44" if age < 45 else "45+"

    return {
        "sex": np.array([rows[i].sex.value for i in candidate_ids]),
        "age_band": np.array([band(rows[i].birth_year) for i in candidate_ids]),
        "risk_grade": np.array([rows[i].risk_grade.value for i in candidate_ids]),
    }


def _report(progress, done: int, total: int, message: str) -> None:
    """Tell a long job's progress callback (matcher.jobs) where the work is; called before any write."""
    if progress is not None:
        progress(done, total, message)


def train_model(*, session: Session, actor: Account | None, horizon_days: int = 90, activate: bool = False,
                random_state: int = 0, progress=None) -> ScoringModel:
    """Train on every referral whose outcome at the horizon is known; save the artefact and its card."""
    if actor is not None:
        policy.require(actor, policy.Rule.MATCH_ADMIN)
    if horizon_days not in (30, 90, 180):
        raise Invalid(_l("The horizon is 30, 90 or 180 days."), field="horizon_days")
    _report(progress, 0, 4, "Reading the recorded outcomes")
    world = training_world(session, horizon_days=horizon_days)
    featurizer = featurizer_for(session, world.candidates.table, world.slots.table)
    _report(progress, 1, 4, "Training the model")
    scorer = train_scorer(world.candidates.table, world.slots.table, world.history,
                          horizon_days=horizon_days, random_state=random_state, featurizer=featurizer)
    history = world.history
    fairness = None
    _report(progress, 2, 4, "Checking fairness")
    if len(history.stayed):
        # Fairness on the later fifth of history (the model's own held-out period).
        cut = np.quantile(history.referred_on, 0.8)
        test = history.referred_on >= cut
        if test.sum() and len(set(history.stayed[test].tolist())) == 2:
            from matcher.engine.evaluation import evaluate_scorer

            p = score(scorer, featurizer, history.candidate_index[test], history.slot_index[test])
            groups = _groups(session, world.candidates.table.ids[history.candidate_index[test]])
            fairness = evaluate_scorer(history.stayed[test], p, groups,
                                       query_ids=history.candidate_index[test])
    _report(progress, 3, 4, "Saving the model")
    version = f"{scorer.kind}-{clock.now():%Y%m%d%H%M%S}-{scorer.training_data_hash[:8]}"
    artifacts.save(scorer, models_dir(), version, fairness=fairness)
    card = json.loads((models_dir() / f"{version}.card.json").read_text(encoding="utf-8"))
    record = ScoringModel(version=version, kind=scorer.kind, horizon_days=horizon_days,
                          card_json=json.dumps(card, ensure_ascii=False), active=False)
    session.add(record)
    session.flush()
    if activate or active_model(session) is None:
        _activate(session, record, actor)
    uow.flush(session)
    return record


def sync_registry(session: Session) -> list[str]:
    """Register models whose artefacts sit in models/ but not yet in this database (e.g. the model
    shipped with the repository); returns the versions added. Nothing is activated here."""
    known = set(session.scalars(select(ScoringModel.version)))
    added = []
    for card in artifacts.list_models(models_dir()):
        if card["version"] in known:
            continue
        session.add(ScoringModel(version=card["version"], kind=card["kind"], horizon_days=card["horizon_days"],
                                 card_json=json.dumps(card, ensure_ascii=False), active=False))
        added.append(card["version"])
    uow.flush(session)
    return added


def _activate(session: Session, record: ScoringModel, actor: Account | None) -> None:
    session.execute(update(ScoringModel).where(ScoringModel.active.is_(True)).values(active=False))
    session.flush()
    record.active, record.activated_at = True, clock.now()
    record.activated_by_id = actor.id if actor else None


def list_registered(session: Session) -> list[ScoringModel]:
    return list(session.scalars(select(ScoringModel).order_by(ScoringModel.created_at)))


def list_models(*, session: Session, actor: Account) -> list[ScoringModel]:
    policy.require(actor, policy.Rule.MATCH_ADMIN)
    sync_registry(session)
    return list_registered(session)


def get_model(*, session: Session, actor: Account | None, version: str) -> ScoringModel:
    if actor is not None:
        policy.require(actor, policy.Rule.MATCH_ADMIN)
    # A NUL character (a URL's %00) names no model; PostgreSQL would refuse to compare it (a 500).
    record = session.get(ScoringModel, version) if "\x00" not in version else None
    if record is None:
        raise NotFound(_l("No such model."))
    return record


def activate_model(*, session: Session, actor: Account | None, version: str) -> ScoringModel:
    """Make a model the one that scores; it must load (same library versions, untampered file)."""
    record = get_model(session=session, actor=actor, version=version)
    try:
        artifacts.load(models_dir(), version)
    except (artifacts.IncompatibleModel, FileNotFoundError) as exc:
        raise Conflict(_l("This model cannot be loaded here: %(why)s", why=str(exc)), field="version") from None
    _activate(session, record, actor)
    uow.flush(session)
    return record


def evaluate(*, session: Session, actor: Account | None, horizon_days: int = 90,
             split_on: dt.date | None = None, random_state: int = 0) -> dict:
    """Replay history: train before `split_on`, test after; model against the prior and, for batch
    assignment, against the nearest-preferred-course rule, a greedy plan and random."""
    if actor is not None:
        policy.require(actor, policy.Rule.MATCH_ADMIN)
    from matcher.engine.evaluation import replay

    world = training_world(session, horizon_days=horizon_days)
    if len(world.history.stayed) == 0:
        raise Conflict(_l("There is no referral history with known outcomes to evaluate on."))
    split = split_on.toordinal() if split_on else int(np.quantile(world.history.referred_on, 0.75))
    groups = _groups(session, world.candidates.table.ids[world.history.candidate_index])
    return replay(world.candidates.table, world.slots.table, world.history, split,
                  horizon_days=horizon_days, random_state=random_state, groups=groups,
                  featurizer=featurizer_for(session, world.candidates.table, world.slots.table))


# ---- recommendations ---------------------------------------------------------------------------

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
    cands = candidate_rows(session, select(Candidate).where(Candidate.id == candidate.id))
    slots = slot_rows(session, _open_slot_select(), horizon_days=scorer.horizon_days)
    featurizer = featurizer_for(session, cands.table, slots.table)
    ranked = rank_slots(scorer, featurizer, cands.table, slots.table, 0, today().toordinal(),
                        offset=offset, limit=limit)
    slot_index = np.asarray(ranked.index, dtype=np.int64)
    reasons = explain_pairs(scorer, featurizer, np.zeros(len(slot_index), dtype=np.int64),
                            slot_index) if len(slot_index) else []
    by_id = {s.id: s for s in session.scalars(select(Slot).where(
        Slot.id.in_([int(slots.table.ids[i]) for i in slot_index])))}
    course_names = _course_names(session) if len(slot_index) else {}
    items = [_recommendation(slot=by_id[int(slots.table.ids[i])], candidate=None, score=float(p), reasons=r,
                             course_names=course_names)
             for i, p, r in zip(slot_index, ranked.score, reasons, strict=True)]
    return RecommendationPage(items=items, total=int(ranked.total), model_version=version, model_kind=scorer.kind,
                              candidate=candidate)


def _open_slot_select():
    from matcher.bases.models import Company

    in_force = select(Company.id).where(certified_in_date())
    return select(Slot).where(Slot.status == SlotStatus.OPEN, Slot.company_id.in_(in_force))


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
        cands = candidate_rows(session, policy.candidates(actor).where(seeking))
    slots = slot_rows(session, select(Slot).where(Slot.id == slot.id), horizon_days=scorer.horizon_days)
    featurizer = featurizer_for(session, cands.table, slots.table)
    ranked = rank_candidates(scorer, featurizer, cands.table, slots.table, 0, today().toordinal(),
                             offset=offset, limit=limit)
    cand_index = np.asarray(ranked.index, dtype=np.int64)
    reasons = explain_pairs(scorer, featurizer, cand_index,
                            np.zeros(len(cand_index), dtype=np.int64)) if len(cand_index) else []
    by_id = {c.id: c for c in session.scalars(select(Candidate).where(
        Candidate.id.in_([int(cands.table.ids[i]) for i in cand_index])))}
    course_names = _course_names(session) if len(cand_index) else {}
    items = [_recommendation(slot=slot, candidate=by_id[int(cands.table.ids[i])], score=float(p), reasons=r,
                             course_names=course_names)
             for i, p, r in zip(cand_index, ranked.score, reasons, strict=True)]
    return RecommendationPage(items=items, total=int(ranked.total), model_version=version, model_kind=scorer.kind,
                              slot=slot)


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
    with _cache_lock:
        cached = _rows_cache.get(key)
        if cached is not None and cached[0] == version:
            return cached[1]
    rows = candidate_rows(session, stmt)
    with _cache_lock:
        _rows_cache[key] = (version, rows)
    return rows


def eligibility(*, session: Session, actor: Account, candidate_id: int, slot_id: int) -> dict:
    """Why a candidate may or may not be placed in a slot (caseworkers and administrators only:
    an employer learns only that someone is eligible, never why not)."""
    policy.require(actor, policy.Rule.MATCH_RECOMMEND)
    candidate = get_candidate(session=session, actor=actor, candidate_id=candidate_id)
    slot = get_slot(session=session, actor=actor, slot_id=slot_id)
    cands = candidate_rows(session, select(Candidate).where(Candidate.id == candidate.id))
    slots = slot_rows(session, select(Slot).where(Slot.id == slot.id))
    reasons = why_not(cands.table, slots.table, 0, 0, today().toordinal())
    return {"eligible": not reasons, "candidate": candidate,
            "reasons": [{"code": r.value, "text_zh": words.ineligible_text(r, "zh"),
                         "text_en": words.ineligible_text(r, "en")} for r in reasons]}


def score_pair(session: Session, candidate_id: int, slot_id: int) -> tuple[float, str]:
    """The active model's score for one pair (stored on referrals that a recommendation produced)."""
    scorer, version = active_scorer(session)
    cands = candidate_rows(session, select(Candidate).where(Candidate.id == candidate_id))
    slots = slot_rows(session, select(Slot).where(Slot.id == slot_id), horizon_days=scorer.horizon_days)
    if not len(cands.table.ids) or not len(slots.table.ids):
        # No such candidate or slot (or none to score): no score; creating the referral answers 404.
        return None, None
    featurizer = featurizer_for(session, cands.table, slots.table)
    return float(score(scorer, featurizer, np.array([0]), np.array([0]))[0]), version


def list_bans(*, session: Session, actor: Account, candidate_id: int) -> list[OccupationalBan]:
    """Court-ordered occupational bans in the file (caseworkers of the file's offices, administrators)."""
    policy.require(actor, policy.Rule.CANDIDATE_READ)
    candidate = get_candidate(session=session, actor=actor, candidate_id=candidate_id)
    record_read(session=session, actor=actor, candidate_id=candidate.id, fields=("occupational_bans",))
    return list(session.scalars(select(OccupationalBan).where(OccupationalBan.candidate_id == candidate.id)
                                .order_by(OccupationalBan.id)))


def add_ban(*, session: Session, actor: Account, candidate_id: int, data: dict) -> OccupationalBan:
    policy.require(actor, policy.Rule.CANDIDATE_CHANGE)
    candidate = get_candidate(session=session, actor=actor, candidate_id=candidate_id)
    if actor.role == Role.CASEWORKER and candidate.office_id != actor.office_id:
        raise Forbidden(_l("This file is kept by %(office)s; your office can read it but not change it.",
                           office=candidate.office.name))
    for index, code in enumerate(data.get("courses", [])):
        require_course(session, code, f"courses.{index}")
    for index, code in enumerate(data.get("occupations", [])):
        require_occupation(session, code, f"occupations.{index}")
    if not data.get("courses") and not data.get("occupations"):
        raise Invalid(_l("Name the courses or occupations the ban covers."), field="courses")
    ban = OccupationalBan(candidate_id=candidate.id, kind=data.get("kind", "court_order"),
                          courses=",".join(data.get("courses", [])),
                          occupations=",".join(data.get("occupations", [])),
                          until=data.get("until"), note=data.get("note"))
    session.add(ban)
    uow.flush(session)
    return ban


# ---- batch assignment ---------------------------------------------------------------------------

def plan_assignment(*, session: Session, actor: Account | None, params: dict, progress=None) -> AssignmentDraft:
    """Plan for all active unplaced candidates and open slots (within the filters): maximise the
    expected number of placements that stay, weighted by priority; keep it as a draft."""
    if actor is not None:
        policy.require(actor, policy.Rule.MATCH_PLAN)
    _report(progress, 0, 4, "Reading candidates and open slots")
    scorer, version = active_scorer(session)
    day = today()
    cand_stmt = select(Candidate).where(Candidate.status.in_([CandidateStatus.PRE_RELEASE, CandidateStatus.ACTIVE]))
    if params.get("district"):
        cand_stmt = cand_stmt.where(Candidate.residence_code.startswith(code_prefix(params["district"])))
    if actor is not None:  # the people of the planner's bureau's area (an administrator: the files it reads)
        cand_stmt = cand_stmt.where(Candidate.id.in_(policy.candidate_ids(actor)) if actor.role == Role.ADMINISTRATOR
                                    else Candidate.residence_code.startswith(policy.area_prefix(actor)))
    # Someone with a live referral is already being placed.
    live = select(Referral.candidate_id).where(Referral.status.not_in(
        [ReferralStatus.DECLINED, ReferralStatus.WITHDRAWN, ReferralStatus.LEFT]))
    cand_stmt = cand_stmt.where(Candidate.id.not_in(live))
    slot_stmt = _open_slot_select().where(Slot.seats_taken < Slot.seats)
    if params.get("course"):
        slot_stmt = slot_stmt.where(Slot.course_code == params["course"])
    if params.get("starts_before"):
        slot_stmt = slot_stmt.where(Slot.starts_on <= params["starts_before"])
    if params.get("district"):
        slot_stmt = slot_stmt.where(Slot.place_code.startswith(code_prefix(params["district"])))
    cands = candidate_rows(session, cand_stmt)
    slots = slot_rows(session, slot_stmt, horizon_days=scorer.horizon_days)
    n, m = len(cands.table), len(slots.table)
    _report(progress, 1, 4, "Scoring the eligible pairs")
    c_idx = np.repeat(np.arange(n, dtype=np.int64), m)
    s_idx = np.tile(np.arange(m, dtype=np.int64), n)
    mask = eligible_mask(cands.table, slots.table, c_idx, s_idx, day.toordinal()) if n and m else np.zeros(0, bool)
    c_idx, s_idx = c_idx[mask], s_idx[mask]
    featurizer = featurizer_for(session, cands.table, slots.table)
    p = score(scorer, featurizer, c_idx, s_idx) if len(c_idx) else np.zeros(0)
    key = key_subject_flags(session, cands.table.ids)
    waiting = np.maximum(0, day.toordinal() - cands.table.available_from)
    weights = priority_weights(key, waiting, key_subject_weight=params.get("key_subject_weight", 0.0),
                               waiting_weight_per_year=params.get("waiting_weight_per_year", 0.0))
    value = p * weights[c_idx]
    _report(progress, 2, 4, "Solving the assignment")
    group, caps = None, None
    if params.get("base_cap"):
        companies, group = np.unique(slots.table.company_ids, return_inverse=True)
        caps = np.full(len(companies), int(params["base_cap"]), dtype=np.int32)
    problem = AssignmentProblem(n_candidates=n, n_slots=m, edge_candidate=c_idx.astype(np.int32),
                                edge_slot=s_idx.astype(np.int32), edge_value=value.astype(np.float64),
                                slot_seats=slots.table.seats_free.astype(np.int32),
                                slot_group=None if group is None else group.astype(np.int32), group_caps=caps)
    plan = solve(problem)
    baseline = greedy(problem)
    chosen = np.asarray(plan.chosen_edges, dtype=np.int64)
    _report(progress, 3, 4, "Saving the plan")
    draft = AssignmentDraft(
        status=DraftStatus.DRAFT, model_version=version, objective=float(plan.objective),
        greedy_objective=float(baseline.objective), created_by_id=actor.id if actor else None,
        params_json=json.dumps(params, default=str, ensure_ascii=False),
        summary_json=json.dumps({
            "candidates": n, "slots": m, "seats": int(slots.table.seats_free.sum()),
            "eligible_pairs": int(len(c_idx)), "assigned": int(len(chosen)),
            "expected_stays": round(float(p[chosen].sum()), 3) if len(chosen) else 0.0,
            "objective": round(float(plan.objective), 4), "greedy_objective": round(float(baseline.objective), 4),
            "gain_over_greedy": round(float(plan.objective - baseline.objective), 4),
            "optimal": bool(plan.optimal), "method": plan.method, "solve_seconds": round(float(plan.seconds), 3),
            "model_kind": scorer.kind,
        }))
    draft.items = [AssignmentDraftItem(candidate_id=int(cands.table.ids[c_idx[e]]),
                                       slot_id=int(slots.table.ids[s_idx[e]]),
                                       score=float(p[e]), value=float(value[e])) for e in chosen]
    session.add(draft)
    uow.flush(session)
    return draft


def key_subject_flags(session: Session, ids: np.ndarray) -> np.ndarray:
    if not len(ids):
        return np.zeros(0, dtype=bool)
    keys = set()
    id_list = [int(i) for i in ids]
    for start in range(0, len(id_list), 5000):
        keys.update(session.scalars(select(Candidate.id).where(Candidate.id.in_(id_list[start:start + 5000]),
                                                               Candidate.key_subject.is_(True))))
    return np.array([int(i) in keys for i in ids], dtype=bool)


def get_draft(*, session: Session, actor: Account, draft_id: int) -> AssignmentDraft:
    policy.require(actor, policy.Rule.MATCH_PLAN)
    return policy.find(session, actor, policy.drafts(actor), AssignmentDraft, draft_id,
                       _l("No such assignment plan."), object_type="assignment_draft")


def list_drafts(*, session: Session, actor: Account):
    policy.require(actor, policy.Rule.MATCH_PLAN)
    return policy.drafts(actor).order_by(AssignmentDraft.id.desc())


def confirm_draft(*, session: Session, actor: Account, draft_id: int) -> AssignmentDraft:
    """Confirming turns each planned pair into a proposed referral for the candidate's caseworker to send.
    Pairs that no longer fit (slot closed or full, candidate placed, a live referral exists) are skipped.

    All of it is one transaction: a confirmation that fails (or a worker killed) halfway leaves the plan a draft
    and no referral written, so confirming again completes it. Confirming a plan already confirmed changes
    nothing and answers the confirmed plan (a retry is safe); a discarded plan cannot be confirmed (409)."""
    draft = get_draft(session=session, actor=actor, draft_id=draft_id)
    if draft.status == DraftStatus.CONFIRMED:
        return draft
    if draft.status != DraftStatus.DRAFT:
        raise Conflict(_l("This plan is already %(status)s.", status=draft.status.value))
    # Claim the plan first, conditional on it still being a draft: of two confirmations racing, one makes the
    # referrals and the other (PostgreSQL re-checks the condition under the row lock) finds it confirmed.
    confirmed_at = clock.now()
    claimed = session.execute(
        update(AssignmentDraft).where(AssignmentDraft.id == draft.id, AssignmentDraft.status == DraftStatus.DRAFT)
        .values(status=DraftStatus.CONFIRMED, confirmed_by_id=actor.id, confirmed_at=confirmed_at)
        .execution_options(synchronize_session=False)).rowcount
    if claimed != 1:  # decided in between: read it again, as the other confirmation left it
        session.expire(draft)
        return confirm_draft(session=session, actor=actor, draft_id=draft_id)
    draft.status, draft.confirmed_by_id, draft.confirmed_at = DraftStatus.CONFIRMED, actor.id, confirmed_at
    day = today()
    for item in draft.items:
        slot = session.get(Slot, item.slot_id)
        candidate = session.get(Candidate, item.candidate_id)
        live = session.scalar(select(exists().where(
            Referral.candidate_id == item.candidate_id, Referral.slot_id == item.slot_id,
            Referral.status.not_in(ENDED))))
        if live or slot.status != SlotStatus.OPEN or not slot.company.can_post_and_fill() \
                or candidate.status not in (CandidateStatus.PRE_RELEASE, CandidateStatus.ACTIVE):
            continue
        referral = Referral(candidate_id=item.candidate_id, slot_id=item.slot_id,
                            status=ReferralStatus.PROPOSED, score=item.score, model_version=draft.model_version,
                            created_by_id=actor.id, internal_note=f"assignment plan #{draft.id}")
        referral.events.append(ReferralEvent(from_status=None, to_status=ReferralStatus.PROPOSED, on_date=day,
                                             actor_id=actor.id, internal_note=f"assignment plan #{draft.id}"))
        session.add(referral)
        session.flush()
        item.referral_id = referral.id
    uow.flush(session)
    return draft


def discard_draft(*, session: Session, actor: Account, draft_id: int) -> AssignmentDraft:
    draft = get_draft(session=session, actor=actor, draft_id=draft_id)
    if draft.status != DraftStatus.DRAFT:
        raise Conflict(_l("This plan is already %(status)s.", status=draft.status.value))
    draft.status = DraftStatus.DISCARDED
    uow.flush(session)
    return draft



# ---- retraining on the outcomes recorded since -------------------------------------------------

# The held-out metric that decides whether a retrained model replaces the active one: ROC AUC on the
# retrained model's temporal hold-out (the latest fifth of referrals with known outcomes, by referral date),
# higher is better; when those rows hold only one outcome, the Brier score on them, lower is better.
RETRAIN_METRIC = "roc_auc"
RETRAIN_FALLBACK_METRIC = "brier"


def known_outcomes(session: Session, *, horizon_days: int = 90, as_of: dt.date | None = None) -> dict:
    """How many referrals have a known outcome at the horizon, and the first and last referral day among them:
    what a model trained now learns from."""
    as_of = as_of or today()
    count, first, last = session.execute(
        select(func.count(Referral.id), func.min(Referral.created_at), func.max(Referral.created_at))
        .where(known_outcome_filter(horizon_days, as_of))).one()
    return {"outcomes": int(count), "from": clock.china_date(first).isoformat() if first else None,
            "to": clock.china_date(last).isoformat() if last else None, "as_of": as_of.isoformat()}


def outcomes_learned_from(record: ScoringModel) -> int | None:
    return artifacts.outcomes_learned_from(json.loads(record.card_json))


def new_outcomes_since(session: Session, record: ScoringModel | None) -> int:
    """Outcomes recorded since `record` was trained: referrals with a known outcome now, less those it learned
    from (every outcome when there is no model, or its card does not say)."""
    known = known_outcomes(session, horizon_days=record.horizon_days if record else 90)["outcomes"]
    learned = outcomes_learned_from(record) if record is not None else None
    return known if learned is None else max(0, known - learned)


def train_model_on_outcomes(*, session: Session, actor: Account | None, horizon_days: int = 90,
                            activate: bool = False, random_state: int = 0, progress=None) -> ScoringModel:
    """train_model, and the card then records how many outcomes the model learned from and their period."""
    record = train_model(session=session, actor=actor, horizon_days=horizon_days, activate=activate,
                         random_state=random_state, progress=progress)
    training = known_outcomes(session, horizon_days=horizon_days)
    card = artifacts.with_training_period(models_dir(), record.version, training)
    record.card_json = json.dumps(card, ensure_ascii=False)
    uow.flush(session)
    return record


@dataclasses.dataclass
class RetrainResult:
    trained: bool
    activated: bool
    new_outcomes: int
    previous_version: str | None  # the model active before
    record: ScoringModel | None = None  # the retrained model
    metric: str | None = None  # roc_auc or brier, on the retrained model's hold-out
    new_score: float | None = None
    previous_score: float | None = None
    reason: str = ""


def retrain(*, session: Session, actor: Account | None, min_new_outcomes: int = 0,
            activate_if_better: bool = False, random_state: int = 0, progress=None) -> RetrainResult:
    """Retrain on every outcome recorded so far when at least `min_new_outcomes` (and at least one) were recorded
    since the active model's training (with the active model's horizon). The new model is registered; with
    `activate_if_better` it replaces the active one if it does at least as well on the held-out metric
    (RETRAIN_METRIC): both are scored on the same rows, the new model's temporal hold-out, which the new
    model's held-out copy never saw (the active model may have, which only favours keeping it). The first
    model ever trained becomes active in any case."""
    if actor is not None:
        policy.require(actor, policy.Rule.MATCH_ADMIN)
    if min_new_outcomes < 0:
        raise Invalid(_l("The number of new outcomes cannot be negative."), field="min_new_outcomes")
    previous = active_model(session)
    horizon_days = previous.horizon_days if previous is not None else 90
    new = new_outcomes_since(session, previous)
    result = RetrainResult(trained=False, activated=False, new_outcomes=new,
                           previous_version=previous.version if previous else None)
    if previous is not None and new < max(min_new_outcomes, 1):
        # Nothing new: the same data would give the same model (training is deterministic).
        result.reason = (f"{new} new outcomes since {previous.version} (fewer than {min_new_outcomes})" if new
                         else f"no outcome recorded since {previous.version} learned")
        return result
    record = train_model_on_outcomes(session=session, actor=actor, horizon_days=horizon_days, activate=False,
                                     random_state=random_state, progress=progress)
    result.trained, result.record = True, record
    if record.active:  # there was no active model
        result.activated, result.reason = True, "no model was active"
        return result
    result.metric, result.new_score, result.previous_score = _holdout_scores(session, record, previous)
    if result.metric is None:
        result.reason = "the hold-out cannot compare the models (no outcomes to score)"
    elif not activate_if_better:
        result.reason = "registered; not activated (activate_if_better not asked)"
    elif _at_least_as_good(result.metric, result.new_score, result.previous_score):
        _activate(session, record, actor)
        uow.flush(session)
        result.activated, result.reason = True, f"at least as good on the held-out {result.metric}"
    else:
        result.reason = f"worse on the held-out {result.metric}; {previous.version} stays active"
    return result


def _at_least_as_good(metric: str, new: float | None, previous: float | None) -> bool:
    if new is None:
        return False
    if previous is None:
        return True
    return new >= previous if metric == RETRAIN_METRIC else new <= previous


def _holdout_scores(session: Session, record: ScoringModel,
                    previous: ScoringModel) -> tuple[str | None, float | None, float | None]:
    """(metric, new model's held-out value, previous model's value on the same rows)."""
    from matcher.engine.evaluation import evaluate_scorer
    from matcher.engine.model import temporal_split

    card = json.loads(record.card_json)
    world = training_world(session, horizon_days=record.horizon_days)
    history = world.history
    if not len(history.stayed):
        return None, None, None
    # The learned model's card metrics come from a copy trained before its temporal split; the prior's from
    # every row (it learns nothing). Score the previous model on exactly those rows.
    rows = temporal_split(history.referred_on) if record.kind == "learned" else np.ones(len(history.stayed), bool)
    try:
        scorer = artifacts.load(models_dir(), previous.version)
    except (artifacts.IncompatibleModel, FileNotFoundError):
        scorer = None  # the active model no longer loads here: anything that does is better
    previous_metrics = {}
    if scorer is not None:
        featurizer = featurizer_for(session, world.candidates.table, world.slots.table)
        p = score(scorer, featurizer, history.candidate_index[rows], history.slot_index[rows])
        previous_metrics = evaluate_scorer(history.stayed[rows], p)
    metrics = card.get("metrics") or {}
    for metric in (RETRAIN_METRIC, RETRAIN_FALLBACK_METRIC):
        if metrics.get(metric) is not None:
            return metric, float(metrics[metric]), previous_metrics.get(metric)
    return None, None, None
