"""ORM rows -> the engine's columnar tables (and back to ids). The only place both worlds meet.

Protected traits never cross: the candidate table carries no sex, ethnicity, risk grade, offence or
household registration. An offence matters only where the law attaches an occupational ban to it
(seed/reference/statutory_bans.csv); that becomes a `Ban`, which eligibility applies.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from matcher import clock
from matcher.bases.models import CertificationStatus, Company
from matcher.candidates.models import (
    Candidate,
    CandidateSkill,
    CandidateStatus,
    Certificate,
    OffenceCategory,
    PreferredCourse,
)
from matcher.clock import add_years, today
from matcher.engine.types import EDUCATION_LEVELS, Ban, CandidateTable, History, SlotTable
from matcher.matching.models import OccupationalBan
from matcher.referrals.lifecycle import ENDED_BEFORE_START, MILESTONE_AT_LEAST, STAYED_AT_LEAST
from matcher.referrals.models import Referral
from matcher.slots.models import Slot, SlotKind, SlotSkill, SlotStatus

STATUTORY_BANS = Path(__file__).resolve().parent.parent.parent / "seed" / "reference" / "statutory_bans.csv"
SKILL_SYNONYMS = Path(__file__).resolve().parent.parent.parent / "seed" / "reference" / "skill_synonyms.csv"
SEEKING = (CandidateStatus.PRE_RELEASE, CandidateStatus.ACTIVE)


@dataclass(frozen=True)
class StatutoryBan:
    ban: Ban  # `until` left None here; resolved per candidate from the release date
    years: int | None  # None: for life


@lru_cache(maxsize=1)
def statutory_bans() -> dict[str, StatutoryBan]:
    """Offence category -> the ban the law attaches to it (configured by the bureau in seed/)."""
    rules = {}
    with STATUTORY_BANS.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            OffenceCategory(row["offence_category"])  # a typo in the file fails loudly
            rules[row["offence_category"]] = StatutoryBan(
                ban=Ban(kind=row["kind"], courses=frozenset(filter(None, row["courses"].split(";"))),
                        occupations=frozenset(filter(None, row["occupations"].split(";")))),
                years=int(row["years"]) if row["years"] else None)
    return rules


@lru_cache(maxsize=1)
def skill_synonyms() -> tuple[tuple[str, str], ...]:
    """(text, skill code) pairs: the usual ways to write each taxonomy skill (seed/reference/skill_synonyms.csv),
    which the engine uses to read free-text skills as codes."""
    with SKILL_SYNONYMS.open(encoding="utf-8") as handle:
        return tuple((row["text"], row["skill_code"]) for row in csv.DictReader(handle))


@dataclass(frozen=True)
class CandidateRows:
    table: CandidateTable
    row_of: dict[int, int]  # candidate id -> row


@dataclass(frozen=True)
class SlotRows:
    table: SlotTable
    row_of: dict[int, int]


def chunks(ids: list, size: int = 5000):
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def candidate_rows(session: Session, stmt: Select) -> CandidateRows:
    """Build the candidate table for the candidates `stmt` (a select of Candidate) returns."""
    columns = stmt.with_only_columns(
        Candidate.id, Candidate.residence_lat, Candidate.residence_lng, Candidate.max_travel_km,
        Candidate.needs_housing, Candidate.education, Candidate.birth_year, Candidate.release_date,
        Candidate.earliest_start, Candidate.status, Candidate.offence_category,
    ).order_by(Candidate.id)
    rows = session.execute(columns).all()
    ids = [r.id for r in rows]
    skills: dict[int, dict[str, int]] = defaultdict(dict)
    free_text: dict[int, list[str]] = defaultdict(list)
    free_text_levels: dict[int, list[int]] = defaultdict(list)
    certified: dict[int, set[str]] = defaultdict(set)
    wishes: dict[int, list[str]] = defaultdict(list)
    bans: dict[int, list[Ban]] = defaultdict(list)
    for chunk in chunks(ids):
        for cid, code, text, level in session.execute(
                select(CandidateSkill.candidate_id, CandidateSkill.skill_code, CandidateSkill.free_text,
                       CandidateSkill.level).where(CandidateSkill.candidate_id.in_(chunk))):
            if code:
                skills[cid][code] = max(level, skills[cid].get(code, 0))
            elif text:
                free_text[cid].append(text)
                free_text_levels[cid].append(level)
        for cid, code in session.execute(select(Certificate.candidate_id, Certificate.skill_code)
                                         .where(Certificate.candidate_id.in_(chunk),
                                                Certificate.skill_code.is_not(None))):
            certified[cid].add(code)
        for cid, code in session.execute(select(PreferredCourse.candidate_id, PreferredCourse.course_code)
                                         .where(PreferredCourse.candidate_id.in_(chunk))
                                         .order_by(PreferredCourse.candidate_id, PreferredCourse.rank)):
            wishes[cid].append(code)
        for ban in session.scalars(select(OccupationalBan).where(OccupationalBan.candidate_id.in_(chunk))):
            bans[ban.candidate_id].append(Ban(
                kind=ban.kind, courses=frozenset(filter(None, ban.courses.split(","))),
                occupations=frozenset(filter(None, ban.occupations.split(","))),
                until=ban.until.toordinal() if ban.until else None))
    statutory = statutory_bans()
    for r in rows:
        rule = statutory.get(r.offence_category.value)
        if rule is not None:
            until = None if rule.years is None else add_years(r.release_date, rule.years).toordinal()
            bans[r.id].append(Ban(kind=rule.ban.kind, courses=rule.ban.courses, occupations=rule.ban.occupations,
                                  until=until))
    education_index = {level: i for i, level in enumerate(EDUCATION_LEVELS)}
    table = CandidateTable(
        ids=np.array(ids, dtype=np.int64),
        lat=np.array([r.residence_lat for r in rows], dtype=np.float64),
        lng=np.array([r.residence_lng for r in rows], dtype=np.float64),
        max_travel_km=np.array([r.max_travel_km for r in rows], dtype=np.float64),
        needs_housing=np.array([r.needs_housing for r in rows], dtype=bool),
        education=np.array([education_index[r.education.value] for r in rows], dtype=np.int8),
        birth_year=np.array([r.birth_year for r in rows], dtype=np.int16),
        available_from=np.array([max(r.release_date, r.earliest_start or r.release_date).toordinal()
                                 for r in rows], dtype=np.int64),
        active=np.array([r.status in SEEKING for r in rows], dtype=bool),
        skills=tuple(skills.get(i, {}) for i in ids),
        free_text_skills=tuple(tuple(free_text.get(i, ())) for i in ids),
        certified_skills=tuple(frozenset(certified.get(i, ())) for i in ids),
        preferred_courses=tuple(tuple(wishes.get(i, ())) for i in ids),
        bans=tuple(tuple(bans.get(i, ())) for i in ids),
        free_text_levels=tuple(tuple(free_text_levels.get(i, ())) for i in ids),
    )
    return CandidateRows(table=table, row_of={cid: i for i, cid in enumerate(ids)})


def base_records(session: Session, horizon_days: int, as_of: dt.date | None = None) -> dict[int, tuple[int, int]]:
    """Per base: placements whose horizon has passed by `as_of`, and how many of them stayed."""
    as_of = as_of or today()
    latest_start = as_of - dt.timedelta(days=horizon_days)
    rows = session.execute(
        select(Slot.company_id, Referral.status, Referral.milestone).join(Slot, Slot.id == Referral.slot_id)
        .where(Referral.started_on.is_not(None), Referral.started_on <= latest_start))
    records: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for company_id, status, milestone in rows:
        records[company_id][0] += 1
        records[company_id][1] += stayed_the_horizon(status, milestone, horizon_days)
    return {company: (n, s) for company, (n, s) in records.items()}


def slot_rows(session: Session, stmt: Select, *, horizon_days: int = 90, as_of: dt.date | None = None) -> SlotRows:
    """Build the slot table for the slots `stmt` (a select of Slot) returns."""
    on = as_of or today()
    slots = session.scalars(stmt.order_by(Slot.id)).unique().all()
    ids = [s.id for s in slots]
    required: dict[int, dict[str, int]] = defaultdict(dict)
    required_text: dict[int, list[str]] = defaultdict(list)
    required_text_levels: dict[int, list[int]] = defaultdict(list)
    for chunk in chunks(ids):
        for sid, code, text, level in session.execute(
                select(SlotSkill.slot_id, SlotSkill.skill_code, SlotSkill.free_text, SlotSkill.level)
                .where(SlotSkill.slot_id.in_(chunk))):
            if code:
                required[sid][code] = max(level, required[sid].get(code, 0))
            elif text:
                required_text[sid].append(text)
                required_text_levels[sid].append(level)
    records = base_records(session, horizon_days, as_of)
    companies = {c.id: c for c in session.scalars(select(Company).where(
        Company.id.in_({s.company_id for s in slots})))} if slots else {}

    def pay_mid(slot: Slot) -> float:
        # A training slot's pay is its stipend (补贴) during the course; the features read it as such.
        if slot.pay_min is None and slot.pay_max is None:
            return float("nan")
        low, high = slot.pay_min or slot.pay_max, slot.pay_max or slot.pay_min
        return (low + high) / 2

    table = SlotTable(
        ids=np.array(ids, dtype=np.int64),
        company_ids=np.array([s.company_id for s in slots], dtype=np.int64),
        lat=np.array([s.lat for s in slots], dtype=np.float64),
        lng=np.array([s.lng for s in slots], dtype=np.float64),
        is_training=np.array([s.kind == SlotKind.TRAINING for s in slots], dtype=bool),
        course=tuple(s.course_code for s in slots),
        occupation=tuple(s.occupation_code for s in slots),
        required_skills=tuple(required.get(i, {}) for i in ids),
        free_text_required=tuple(tuple(required_text.get(i, ())) for i in ids),
        title=tuple(s.title for s in slots),
        seats_free=np.array([s.seats - s.seats_taken for s in slots], dtype=np.int32),
        housing_provided=np.array([s.housing_provided for s in slots], dtype=bool),
        pay_mid=np.array([pay_mid(s) for s in slots], dtype=np.float64),
        certificate_awarded=np.array([s.kind == SlotKind.TRAINING and s.certificate_awarded for s in slots],
                                     dtype=bool),
        min_age=np.array([s.min_age for s in slots], dtype=np.int16),
        starts_on=np.array([s.starts_on.toordinal() for s in slots], dtype=np.int64),
        open=np.array([s.status == SlotStatus.OPEN for s in slots], dtype=bool),
        base_in_force=np.array([companies[s.company_id].certification_status == CertificationStatus.CERTIFIED
                                and companies[s.company_id].certified_until >= on for s in slots], dtype=bool),
        base_placements=np.array([records.get(s.company_id, (0, 0))[0] for s in slots], dtype=np.float64),
        base_stayed=np.array([records.get(s.company_id, (0, 0))[1] for s in slots], dtype=np.float64),
        intake_starts=tuple(tuple(start.toordinal() for start, _end in s.runs()) if s.intakes else () for s in slots),
        free_text_required_levels=tuple(tuple(required_text_levels.get(i, ())) for i in ids),
    )
    return SlotRows(table=table, row_of={sid: i for i, sid in enumerate(ids)})


def stayed_the_horizon(status, milestone, horizon_days: int) -> bool:
    """The outcome label: the placement reached a stay of at least `horizon_days`, whether the person is still
    there or left since (a person who left after 90 days stayed 90 days). The milestone says it; a referral without
    one (none recorded) is read from its status."""
    return milestone in MILESTONE_AT_LEAST[horizon_days] or status in STAYED_AT_LEAST[horizon_days]


@dataclass(frozen=True)
class TrainingWorld:
    candidates: CandidateRows
    slots: SlotRows
    history: History
    referral_ids: np.ndarray  # the referral behind each history row


def known_outcome_filter(horizon_days: int, as_of: dt.date):
    """The referrals whose outcome at the horizon is known by `as_of`: referred by then, and ended without
    starting (did not stay) or started at least `horizon_days` before it. Live referrals are censored out."""
    latest_start = as_of - dt.timedelta(days=horizon_days)
    return (((Referral.started_on.is_not(None)) & (Referral.started_on <= latest_start))
            | ((Referral.started_on.is_(None)) & Referral.status.in_(ENDED_BEFORE_START))) \
        & (Referral.created_at < clock.china_midnight(as_of + dt.timedelta(days=1)))


def training_world(session: Session, *, horizon_days: int = 90, as_of: dt.date | None = None) -> TrainingWorld:
    """Every referral whose outcome at the horizon is known by `as_of`, with the tables it refers to.

    Known: ended without starting (declined / withdrawn: did not stay), or started at least
    `horizon_days` ago (stayed if it reached stayed_<horizon>). Live referrals are censored out."""
    as_of = as_of or today()
    known = session.execute(
        select(Referral.id, Referral.candidate_id, Referral.slot_id, Referral.created_at, Referral.status,
               Referral.milestone)
        .where(known_outcome_filter(horizon_days, as_of)).order_by(Referral.id)).all()
    candidate_ids = sorted({r.candidate_id for r in known})
    slot_ids = sorted({r.slot_id for r in known})
    candidates = candidate_rows(session, select(Candidate).where(Candidate.id.in_(candidate_ids)))
    slots = slot_rows(session, select(Slot).where(Slot.id.in_(slot_ids)), horizon_days=horizon_days, as_of=as_of)
    history = History(
        candidate_index=np.array([candidates.row_of[r.candidate_id] for r in known], dtype=np.int64),
        slot_index=np.array([slots.row_of[r.slot_id] for r in known], dtype=np.int64),
        referred_on=np.array([clock.china_date(r.created_at).toordinal() for r in known], dtype=np.int64),
        stayed=np.array([stayed_the_horizon(r.status, r.milestone, horizon_days) for r in known], dtype=bool),
    )
    return TrainingWorld(candidates=candidates, slots=slots, history=history,
                         referral_ids=np.array([r.id for r in known], dtype=np.int64))
