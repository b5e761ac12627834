"""Course, then job (engine.paths) for the caseworker: the jobs a training seat on the recommendations opens after
it ends, the path noted on a referral to the course, and the second step re-planned when the course ends.

Nothing here is stored: a path is computed when it is shown, over the open slots of that moment, so the second
step a caseworker sees when the course ends is planned then, with the person's file as it is then."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import weakref

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from matcher import policy
from matcher.auth.models import Account
from matcher.bases.models import Company
from matcher.candidates.models import Candidate, CandidateStatus
from matcher.clock import china_date, today
from matcher.engine.paths import course_end, follow_ons
from matcher.engine.types import SlotTable
from matcher.matching import pipeline
from matcher.matching.adapters import SlotRows, chunks, slot_rows
from matcher.matching.service.registry import active_scorer
from matcher.places.models import Place
from matcher.reference.models import Course
from matcher.referrals.lifecycle import IN_WORK, SEAT_HOLDING
from matcher.referrals.models import Referral
from matcher.slots.models import Slot, SlotKind

# The follow-up lists courses that end in the next fortnight or ended in the last two months: the time when the
# second step is planned. A person already referred to a job since the course began is left out.
ENDING_WITHIN_DAYS = 14
ENDED_WITHIN_DAYS = 60
SECOND_STEPS_LISTED = 100


@dataclasses.dataclass(frozen=True)
class Named:
    name: str


@dataclasses.dataclass(frozen=True)
class JobCard:
    """What a path shows of a follow-on job (the slot's fields of the same names, its base's and place's names):
    read once per open-slot table, not loaded as slots on every page (`job_cards`)."""

    id: int
    title: str
    kind: str
    company_id: int
    company: Named
    place: Named
    starts_on: dt.date
    pay_min: int | None
    pay_max: int | None


@dataclasses.dataclass
class FollowOn:
    slot: JobCard
    score: float  # P(start and stay) in the job, for the person after the course


@dataclasses.dataclass
class PathView:
    """A training seat's path for one person: its course's end, the best jobs it opens, and the path's value."""

    course_end: dt.date
    p_course: float
    jobs: list[FollowOn]
    opened: int  # jobs the course opens in all

    @property
    def value(self) -> float:
        """P(stay the course) x P(stay the best job it opens) (engine.paths.Path.value)."""
        return self.p_course * (self.jobs[0].score if self.jobs else 0.0)


def _durations(session: Session) -> dict[str, int]:
    return {code: days for code, days in session.execute(select(Course.code, Course.duration_days))}


def _runs(slot: Slot) -> list[tuple[int, int | None]]:
    return [(start.toordinal(), end.toordinal() if end else None) for start, end in slot.runs()]


def _taxonomy(tables: pipeline.Tables) -> dict:
    if tables.slot_side is not None:
        return tables.slot_side.taxonomy
    return pipeline._taxonomy(tables.session)["taxonomy"]


def _featurize(tables: pipeline.Tables):
    """Features of any candidate table against the tables' slots, through the cached slot side when there is one."""
    if tables.slot_side is not None:
        return tables.slot_side.featurizer
    return lambda candidates: pipeline.featurizer_for(tables.session, candidates, tables.slots.table)


# Per open-slot table (the cached side: rebuilt, so forgotten, whenever a slot, its base or a seat changes): the
# cards of its jobs. Keyed by the table's identity, held weakly: a table dropped from the cache takes its cards.
_cards_lock = threading.Lock()
_cards: dict[int, tuple[weakref.ref, dict[int, JobCard]]] = {}


def _read_cards(session: Session, ids: list[int]) -> dict[int, JobCard]:
    cards = {}
    for chunk in chunks(ids):
        for row in session.execute(
                select(Slot.id, Slot.title, Slot.kind, Slot.company_id, Company.name.label("company"),
                       Place.name.label("place"), Slot.starts_on, Slot.pay_min, Slot.pay_max)
                .join(Company, Company.id == Slot.company_id).join(Place, Place.code == Slot.place_code)
                .where(Slot.id.in_(chunk))):
            cards[row.id] = JobCard(id=row.id, title=row.title, kind=str(row.kind), company_id=row.company_id,
                                    company=Named(row.company), place=Named(row.place), starts_on=row.starts_on,
                                    pay_min=row.pay_min, pay_max=row.pay_max)
    return cards


def job_cards(session: Session, table: SlotTable, ids: set[int], *, whole_table: bool) -> dict[int, JobCard]:
    """The cards of the jobs `ids` of `table`. `whole_table` (the cached open slots): every job of the table is read
    at its first use, in one query, and kept beside it; a page then reads none. Otherwise only `ids`, each time."""
    if not ids:
        return {}
    if not whole_table:
        return _read_cards(session, sorted(ids))
    key = id(table)
    with _cards_lock:
        hit = _cards.get(key)
        cards = hit[1] if hit is not None and hit[0]() is table else None
    if cards is None:
        jobs = np.flatnonzero(~np.asarray(table.is_training, bool))
        cards = _read_cards(session, [int(i) for i in np.asarray(table.ids)[jobs]])
        with _cards_lock:
            for stale in [k for k, (ref, _c) in _cards.items() if ref() is None]:
                del _cards[stale]
            _cards[key] = (weakref.ref(table), cards)
    missing = ids - cards.keys()
    return cards if not missing else {**cards, **_read_cards(session, sorted(missing))}


def every_open_slot(session: Session, horizon_days: int) -> pipeline.OpenSlots:
    """Every open slot, the cached side the unfiltered recommendations use: the jobs after a course are any open jobs,
    whatever a page's filters keep."""
    return pipeline.open_slot_side(session, pipeline.open_slots(), key=("recommend_slots",), horizon_days=horizon_days)


def paths_for(session: Session, scorer, tables: pipeline.Tables,
              items: list[tuple[int, Slot, float | None, dt.date | None]], *,
              courses: SlotRows | None = None) -> list[PathView]:
    """The path through each (candidate row, training slot, P(stay the course) or None, the course's last day or
    None) of `tables`, whose slots include every course asked about (or `courses` does: then every score is given).
    A score left None is scored here; an end left None is the run the person joins (engine.paths.course_end)."""
    if not items:
        return []
    day = today().toordinal()
    # A course's length is needed only for a run without an end (most courses state their last day).
    durations = (_durations(session) if any(end is None and any(e is None for _s, e in slot.runs())
                                            for _c, slot, _p, end in items) else {})
    table, slot_table = tables.candidates.table, tables.slots.table
    course_table = courses or tables.slots
    cand_rows = np.array([c for c, *_rest in items], np.int64)
    course_rows = np.array([course_table.row_of[slot.id] for _c, slot, *_rest in items], np.int64)
    ends = np.array([end.toordinal() if end is not None else
                     course_end(_runs(slot), int(table.available_from[c]), day, durations.get(slot.course_code, 30))
                     for c, slot, _p, end in items], np.int64)
    p_course = (np.array([p for _c, _s, p, _e in items], np.float64)
                if all(p is not None for _c, _s, p, _e in items) else None)
    paths = follow_ons(scorer, _featurize(tables), table, slot_table, cand_rows, course_rows, ends, day,
                       taxonomy=_taxonomy(tables), p_course=p_course, courses=course_table.table,
                       # The people after their courses from the candidates' own features (the page ranked with them).
                       features=tables.featurizer)
    job_ids = {int(slot_table.ids[j]) for path in paths for j in path.jobs}
    by_id = job_cards(session, slot_table, job_ids, whole_table=tables.slot_side is not None)
    return [PathView(course_end=dt.date.fromordinal(path.course_end), p_course=path.p_course, opened=path.opened,
                     jobs=[FollowOn(slot=by_id[int(slot_table.ids[j])], score=float(p))
                           for j, p in zip(path.jobs, path.p_jobs, strict=True)])
            for path in paths]


def path_of(*, session: Session, actor: Account, candidate_id: int, slot_id: int) -> PathView | None:
    """The path through one training seat for a candidate the actor keeps (None for a job slot): what a referral
    to the course notes."""
    from matcher.candidates.service import get_candidate
    from matcher.slots.service import get_slot

    policy.require(actor, policy.Rule.MATCH_RECOMMEND)
    candidate = get_candidate(session=session, actor=actor, candidate_id=candidate_id)
    slot = get_slot(session=session, actor=actor, slot_id=slot_id)
    if slot.kind != SlotKind.TRAINING:
        return None
    scorer, _version = active_scorer(session)
    slots = every_open_slot(session, scorer.horizon_days)
    if slot.id not in slots.rows.row_of:
        return None
    tables = pipeline.load(session, select(Candidate).where(Candidate.id == candidate.id), slots)
    if not len(tables.candidates.table):
        return None
    return paths_for(session, scorer, tables, [(0, slot, None, None)])[0]


@dataclasses.dataclass
class SecondStep:
    """A course that ends soon or ended lately, and the jobs it opens now: the path's second step, re-planned."""

    referral: Referral
    course_end: dt.date
    path: PathView


def second_steps(*, session: Session, actor: Account, limit: int = SECOND_STEPS_LISTED) -> list[SecondStep]:
    """The actor's people whose course (a training referral in place) ends within ENDING_WITHIN_DAYS or ended within
    ENDED_WITHIN_DAYS, with no job referral since it began, each with the jobs their course opens now."""
    policy.require(actor, policy.Rule.MATCH_RECOMMEND)
    day = today()
    # The dates of every course placement under way first (a few columns, and the courses' slots), then the whole
    # referral of those whose course ends about now: the office's page asks on every visit.
    rows = session.execute(policy.referrals(actor).join(Slot, Slot.id == Referral.slot_id)
                           .where(Slot.kind == SlotKind.TRAINING, Referral.status.in_([*IN_WORK, *SEAT_HOLDING]))
                           .with_only_columns(Referral.id, Referral.slot_id, Referral.created_at, Referral.started_on)
                           .order_by(Referral.id)).all()
    if not rows:
        return []
    courses_of = {slot.id: slot for slot in session.scalars(select(Slot).where(Slot.id.in_({r.slot_id for r in rows})))}
    durations = _durations(session)
    ending: dict[int, dt.date] = {}
    for row in rows:
        slot = courses_of[row.slot_id]
        start, end = slot.run_of(created_on=china_date(row.created_at), started_on=row.started_on)
        end = end or start + dt.timedelta(days=durations.get(slot.course_code, 30) - 1)
        if day - dt.timedelta(days=ENDED_WITHIN_DAYS) <= end <= day + dt.timedelta(days=ENDING_WITHIN_DAYS):
            ending[row.id] = end
    if not ending:
        return []
    due: list[tuple[Referral, dt.date]] = [
        (referral, ending[referral.id])
        for referral in session.scalars(select(Referral).where(Referral.id.in_(ending)).order_by(Referral.id))]
    # Left out: whoever was referred to a job since their course began (the second step is already under way).
    people = {r.candidate_id for r, _end in due}
    job_referrals: dict[int, list[dt.datetime]] = {}
    for cid, created in session.execute(
            select(Referral.candidate_id, Referral.created_at).join(Slot, Slot.id == Referral.slot_id)
            .where(Referral.candidate_id.in_(people), Slot.kind == SlotKind.JOB)):
        job_referrals.setdefault(cid, []).append(created)
    due = [(r, end) for r, end in due
           if not any(created >= r.created_at for created in job_referrals.get(r.candidate_id, []))]
    due.sort(key=lambda item: (item[1], item[0].id))
    due = due[:limit]
    if not due:
        return []
    scorer, _version = active_scorer(session)
    open_side = every_open_slot(session, scorer.horizon_days)
    # The jobs are the open slots (the cached table); so are the courses while still open, and those that closed
    # their intake get a small table of their own.
    course_ids = {r.slot_id for r, _end in due}
    courses = (None if course_ids <= open_side.rows.row_of.keys() else
               slot_rows(session, select(Slot).where(Slot.id.in_(course_ids)), horizon_days=scorer.horizon_days))
    tables = pipeline.load(session, select(Candidate).where(Candidate.id.in_({r.candidate_id for r, _end in due}),
                                                            Candidate.status != CandidateStatus.CLOSED), open_side)
    # The course is over (or about to be): the second step alone, the course counted as completed (P = 1).
    kept = [(r, end) for r, end in due if r.candidate_id in tables.candidates.row_of]
    paths = paths_for(session, scorer, tables, [(tables.candidates.row_of[r.candidate_id], r.slot, 1.0, end)
                                                for r, end in kept], courses=courses)
    return [SecondStep(referral=r, course_end=end, path=path) for (r, end), path in zip(kept, paths, strict=True)]
