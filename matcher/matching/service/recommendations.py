"""Recommendations both ways (slots for a candidate, candidates for a slot), why a pair is or
is not eligible, and the score of one pair."""

from __future__ import annotations

import dataclasses
import threading

import numpy as np
from sqlalchemy import and_, func, or_, select
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
from matcher.matching.service import paths
from matcher.matching.service.registry import active_scorer
from matcher.places.models import code_prefix
from matcher.reference.models import Course
from matcher.slots.models import Slot, SlotIntake, SlotKind
from matcher.slots.service import get_slot

# Features of the slot alone (its base, pay, certificate): reasons for a slot, never for one candidate over another.
SLOT_ONLY_FEATURES = frozenset({"base_stay_rate", "pay", "certificate_subsidy", "is_training"})


@dataclasses.dataclass
class Recommendation:
    slot: Slot | None
    candidate: Candidate | None
    score: float
    reasons: list  # the three strongest, either way (ReasonInWords)
    sentence_zh: str  # in plain words: what works for it, then what works against it
    sentence_en: str
    for_it: list = dataclasses.field(default_factory=list)  # every reason that raised the chance, strongest first
    against_it: list = dataclasses.field(default_factory=list)  # every reason that lowered it, strongest first
    fits: bool = True  # within the travel limit and, for a job requiring skills, at least one held
    over_travel: bool = False
    no_required_skill: bool = False
    # The person's utility and its parts (order "wish" only; engine.ranking.utility_parts), caseworkers only.
    utility: float | None = None
    utility_parts: dict | None = None
    # A training seat's path: the jobs its course opens after it ends (matching.service.paths.PathView).
    path: object | None = None
    # Slots for a candidate: the value ranked by, P(the base answers) x score, and the base's answers in words.
    value: float | None = None
    base_answer: words.ReasonInWords | None = None  # the base's response rate against the target
    demoted: bool = False  # ranked lower: the base answers less often than the target
    month_full: words.ReasonInWords | None = None  # the base has had its month's referrals (referring is refused)


def _recommendation(*, slot: Slot | None, candidate: Candidate | None, score: float, reasons: list,
                    course_names, flags: tuple[bool, bool] = (False, False)) -> Recommendation:
    """A recommendation with its reasons in both languages (the engine gives codes and numbers)."""
    worded, sentence_zh, sentence_en = words.all_in_both_languages(reasons, course_names)
    order = range(len(reasons))
    top = sorted(order, key=lambda k: -abs(reasons[k].effect))[:3]
    ups = sorted((k for k in order if reasons[k].effect > 0), key=lambda k: -reasons[k].effect)
    downs = sorted((k for k in order if reasons[k].effect < 0), key=lambda k: reasons[k].effect)
    over, no_skill = flags
    return Recommendation(slot=slot, candidate=candidate, score=score,
                          reasons=[worded[k] for k in top], sentence_zh=sentence_zh, sentence_en=sentence_en,
                          for_it=[worded[k] for k in ups], against_it=[worded[k] for k in downs],
                          fits=not (over or no_skill), over_travel=over, no_required_skill=no_skill)


@dataclasses.dataclass
class RecommendationPage:
    items: list[Recommendation]
    total: int
    model_version: str
    model_kind: str
    model_trained_at: str = ""  # ISO instant the model was trained ("" for the built-in prior)
    fitting: int | None = None  # how many of the `total` fit (engine.ranking)
    order: str = "fit"
    # What the page is about: the candidate (slots for them) or the slot (candidates for it).
    candidate: Candidate | None = None
    slot: Slot | None = None


def _slot_filters(stmt, filters: dict | None):
    """Narrow the open slots by course, kind (job or training), district or township (a place code's prefix) and
    start date (from, to)."""
    filters = filters or {}
    if filters.get("course"):
        stmt = stmt.where(Slot.course_code == filters["course"])
    if filters.get("kind"):
        stmt = stmt.where(Slot.kind == filters["kind"])
    if filters.get("district"):
        stmt = stmt.where(Slot.place_code.startswith(code_prefix(filters["district"])))
    starts_from, starts_to = filters.get("starts_from"), filters.get("starts_to")
    if starts_from or starts_to:
        # A slot with intakes starts in the period when one of its intakes does.
        def within(column):
            return and_(*([column >= starts_from] if starts_from else []),
                        *([column <= starts_to] if starts_to else []))
        stmt = stmt.where(or_(within(Slot.starts_on), Slot.intakes.any(within(SlotIntake.starts_on))))
    return stmt


def recommendation_slots(session: Session, filters: dict | None, horizon_days: int) -> pipeline.OpenSlots:
    """The open slots the recommendations rank for `filters`: the same for every candidate, built once per version
    of the data, per filter set."""
    return pipeline.open_slot_side(session, _slot_filters(pipeline.open_slots(), filters),
                                   key=("recommend_slots", *sorted((k, str(v)) for k, v in (filters or {}).items()
                                                                   if v)),
                                   horizon_days=horizon_days)


def recommend_slots(*, session: Session, actor: Account, candidate_id: int, offset: int = 0, limit: int = 20,
                    order: str = "fit", filters: dict | None = None, with_paths: bool = True) -> RecommendationPage:
    """The best eligible open slots for a candidate, with scores and reasons, in `order` (engine.ranking.ORDERS;
    "fit": slots within the travel limit and, for jobs, with a required skill held, first), among the slots
    `filters` keep (course, kind, district, starts_from, starts_to). `with_paths`: each training seat with its path
    (the page asks for them afterwards instead: seat_paths)."""
    policy.require(actor, policy.Rule.MATCH_RECOMMEND)
    candidate = get_candidate(session=session, actor=actor, candidate_id=candidate_id)
    scorer, version = active_scorer(session)
    slots = recommendation_slots(session, filters, scorer.horizon_days)
    tables = pipeline.load(session, select(Candidate).where(Candidate.id == candidate.id), slots)
    # Ranked by P(the base answers) x P(start and stay | answered): a base that rarely answers ranks lower, and says so.
    answer_p, standing = pipeline.answer_weights(session, tables.slots)
    ranked = rank_slots(scorer, tables.featurizer, tables.candidates.table, tables.slots.table, 0,
                        today().toordinal(), offset=offset, limit=limit, order=order, slot_weight=answer_p)
    items = _items(session, scorer, tables, ranked, for_slot=None)
    for item, value in zip(items, ranked.value if ranked.value is not None else [None] * len(items), strict=True):
        _with_answers(item, value, standing.get(item.slot.company_id))
    if ranked.utility is not None:
        for k, item in enumerate(items):
            item.utility = float(ranked.utility[k])
            item.utility_parts = {name: float(value[k]) for name, value in ranked.utility_parts.items()}
    # The training seats on the page, each with the jobs its course opens after it ends (the page's seats only).
    training = [item for item in items if item.slot.kind == SlotKind.TRAINING] if with_paths else []
    if training and any(filters.values() if filters else ()):
        # The jobs after a course are any open jobs, whatever the filters keep on the page.
        tables = pipeline.load(session, tables.candidates, paths.every_open_slot(session, scorer.horizon_days))
    for item, path in zip(training, paths.paths_for(session, scorer, tables, [(0, item.slot, item.score, None)
                                                                             for item in training]), strict=True):
        item.path = path
    return RecommendationPage(items=items, total=int(ranked.total),
                              model_version=version, model_kind=scorer.kind, model_trained_at=scorer.created_at,
                              order=order, fitting=ranked.fitting, candidate=candidate)


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
    reasons = explain_pairs(scorer, tables.featurizer, cand_index, slot_index, top=None)
    if not slots_for_candidate:  # the same for every candidate of the slot: nothing to tell them apart by
        reasons = [[r for r in pair if r.feature not in SLOT_ONLY_FEATURES] for pair in reasons]
    ids = [int(table.ids[i]) for i in index]
    by_id = {row.id: row for row in session.scalars(select(model).where(model.id.in_(ids)))}
    course_names = _course_names(session)
    over = ranked.over_travel if ranked.over_travel is not None else np.zeros(len(index), bool)
    no_skill = ranked.no_required_skill if ranked.no_required_skill is not None else np.zeros(len(index), bool)
    return [_recommendation(slot=by_id[i] if slots_for_candidate else for_slot,
                            candidate=None if slots_for_candidate else by_id[i],
                            score=float(p), reasons=r, course_names=course_names, flags=(bool(o), bool(n)))
            for i, p, r, o, n in zip(ids, ranked.score, reasons, over, no_skill, strict=True)]


def _with_answers(item: Recommendation, value: float | None, standing) -> None:
    """The base's answers beside a recommended slot: its response rate against the target (first among the reasons
    against it when it is demoted: it ranks lower for it), and a month of referrals already made."""
    item.value = value
    if standing is None:
        return
    if standing.answer_due:
        item.demoted = standing.demoted
        effect = (value - item.score) if value is not None else 0.0  # what the base's answering takes off the value
        item.base_answer = words.answer_rate_reason(standing, effect)
        if item.demoted:
            item.against_it.insert(0, item.base_answer)
            item.reasons = [item.base_answer, *item.reasons][:3]
    if standing.month_full:
        item.month_full = words.month_full_reason(standing)


def _referral_consent_granted():
    """Candidates whose latest `referral` consent record grants it."""
    latest = (select(Consent.candidate_id, func.max(Consent.id).label("latest_id"))
              .where(Consent.kind == ConsentKind.REFERRAL).group_by(Consent.candidate_id).subquery())
    return select(latest.c.candidate_id).join(Consent, and_(Consent.id == latest.c.latest_id,
                                                             Consent.granted.is_(True)))


def recommend_candidates(*, session: Session, actor: Account, slot_id: int, offset: int = 0,
                         limit: int = 20, order: str = "fit") -> RecommendationPage:
    """The best eligible candidates for a slot ("fit" first: within their travel limit and, for a job, holding a
    required skill). Employers get candidates who consented to referral, shown pseudonymously by the caller;
    caseworkers their own office's candidates."""
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
                             today().toordinal(), offset=offset, limit=limit, order=order)
    return RecommendationPage(items=_items(session, scorer, tables, ranked, for_slot=slot), total=int(ranked.total),
                              model_version=version, model_kind=scorer.kind, model_trained_at=scorer.created_at,
                              order=order, slot=slot)


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


def search_open_slots(*, session: Session, actor: Account, q: str, limit: int = 20) -> list[Slot]:
    """The open slots the actor may see whose title or base name holds `q` (any part), or whose number it is
    (with or without "#"): the "why not eligible" picker, by title."""
    from matcher.bases.models import Company
    from matcher.slots.service import list_slots

    q = (q or "").strip()
    if not q:
        return []
    scoped = list_slots(session=session, actor=actor, filters={"status": "open"}).with_only_columns(Slot.id)
    number = q.lstrip("#")
    matches = [Slot.title.contains(q, autoescape=True), Company.name.contains(q, autoescape=True)]
    if number.isdigit() and len(number) <= 9:
        matches.append(Slot.id == int(number))
    stmt = (select(Slot).join(Company, Company.id == Slot.company_id)
            .where(Slot.id.in_(scoped.subquery().select()), or_(*matches))
            .order_by(Slot.title, Slot.id).limit(limit))
    return list(session.scalars(stmt).unique())


def slot_districts(*, session: Session, actor: Account) -> list[tuple[str, str]]:
    """(code, name) of the districts that have open slots: the recommendations' district filter."""
    from matcher.places.models import Place, PlaceLevel

    policy.require(actor, policy.Rule.MATCH_RECOMMEND)
    codes = {code[:6] for code in session.scalars(pipeline.open_slots().with_only_columns(Slot.place_code)
                                                  .distinct())}
    if not codes:
        return []
    return [(p.code, p.name) for p in session.scalars(
        select(Place).where(Place.code.in_(codes), Place.level == PlaceLevel.DISTRICT).order_by(Place.code))]


def seat_paths(*, session: Session, actor: Account, candidate_id: int, slot_ids: list[int],
               filters: dict | None = None) -> list[tuple[Slot, paths.PathView]]:
    """The paths of the training seats `slot_ids` of a candidate's recommendations page with `filters`, as the
    page would show them inline (recommend_slots with_paths): each seat's own score ranked as the page ranked it
    (the same filtered open slots, cached), the jobs after it among every open job. The page asks for them after
    it is shown (a recommendations page has a speed target). A seat that is not an open training slot of those
    the page ranks has no path (left out)."""
    policy.require(actor, policy.Rule.MATCH_RECOMMEND)
    candidate = get_candidate(session=session, actor=actor, candidate_id=candidate_id)
    scorer, _version = active_scorer(session)
    side = recommendation_slots(session, filters, scorer.horizon_days)
    training = np.asarray(side.rows.table.is_training, bool)
    wanted = [i for i in dict.fromkeys(slot_ids) if i in side.rows.row_of and training[side.rows.row_of[i]]]
    if not wanted:
        return []
    tables = pipeline.load(session, select(Candidate).where(Candidate.id == candidate.id), side)
    p_course = tables.score(scorer, np.zeros(len(wanted), np.int64),
                            np.array([side.rows.row_of[i] for i in wanted], np.int64))
    if any(filters.values() if filters else ()):
        # The jobs after a course are any open jobs, whatever the filters keep on the page.
        tables = pipeline.load(session, tables.candidates, paths.every_open_slot(session, scorer.horizon_days))
    seats = {slot.id: slot for slot in session.scalars(select(Slot).where(Slot.id.in_(wanted)))}
    views = paths.paths_for(session, scorer, tables, [(0, seats[i], float(p), None) for i, p in zip(wanted, p_course,
                                                                                             strict=True)])
    return [(seats[i], view) for i, view in zip(wanted, views, strict=True)]
