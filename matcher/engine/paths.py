"""Course, then job: the jobs a training seat opens once its course ends, and what the path is worth.

A bureau sets courses (烹饪, 汽修, 电商运营 ...) so that people can then be placed in work. A training seat is
therefore valued by the jobs its certificate opens after it ends, and the caseworker sees the path: the course
now, then a job that starts after it and needs what it teaches.

Definitions (README: "Course, then job"):

- **What a course teaches**: the skills the training slot lists, at their listed level, and the other skills of
  its course's taxonomy family (the certificate is the trade's: 中式烹调师 for cooking) at the entry level
  `INTRODUCED_LEVEL`. With `certificate_awarded`, the listed skills (or, listing none, the family's) are certified.
- **The course's end** (`course_end`): the last day of the run the person joins: the first run (intake) starting
  no earlier than `AVAILABILITY_GRACE_DAYS` before the day they can start (their availability or today, whichever
  later), else the last run; a run without an end lasts the course's length.
- **The person after the course** (`after_course`): the same file, holding the taught skills (a skill already
  held keeps the higher level), certified in what the certificate covers, and available from the day after the
  course ends, and looking for work (a trainee's file says "placed" while on the course; a closed file is the
  caller's to leave out). Nothing else changes: where they live, how far they travel, their wishes.
- **A job the course opens**: a job slot of the course's trade (its course code), or one requiring at least one
  skill the course teaches, that starts after the course: its start (the intake that fits the person after the
  course) no earlier than `FOLLOW_ON_GRACE_DAYS` before the course's last day (a job starting in the course's last
  week waits for its certificate), and for which the person after the course is eligible today by every rule of
  `engine.eligibility` (open, seats, base in force, age, bans, prerequisites, available by the start). Its value is
  the scorer's P(start and stay) for the person after the course, so the skills and the certificate gained count
  as the model counts any skill and certificate.
- **The path's value**: P(stay the course) x P(stay the best job it opens): the chance that the person completes
  the course (the training seat's own score: starts and stays the horizon, which covers courses of 90 days or
  less) and then stays in work, taking the two steps as independent. A course that opens no job has a path
  worth 0, and its own score is unchanged: the path is shown beside the score, not instead of it.

The second step is not stored: when the course ends it is computed again (`follow_ons` with the person's file as
it is then), over the jobs open then.

Speed (a recommendations page shows up to 20 training seats, each with its path): the person after the course
differs from the person now only in the columns the course changes, so `after_course_features` builds their
features from the person's own (the featurizer the page already built to rank the slots): the skill and certificate
columns are widened by what each course teaches, every other column is the same row gathered. Seats whose courses
teach and certify the same are one person after the course, scored once per job; all the seats' (person after the
course, job) pairs are featurized and scored in one call. The numbers are the ones `featurize(after_course(...))`
gives (tests/engine/test_paths.py compares them).
"""

from __future__ import annotations

import copy
import weakref
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

from matcher.engine.eligibility import AVAILABILITY_GRACE_DAYS, eligible_mask, fitting_start
from matcher.engine.features import SKILL_LEVELS, PairFeaturizer
from matcher.engine.types import CandidateTable, SlotTable

INTRODUCED_LEVEL = 1  # a skill of the course's family that the slot does not list: introduced, not mastered
FOLLOW_ONS_SHOWN = 3  # the best follow-on jobs kept per path
FOLLOW_ON_GRACE_DAYS = 7  # a job may start this many days before the course's last day


@dataclass(frozen=True)
class Path:
    """A training seat and the jobs it opens after it ends, for one person."""

    course_row: int  # the training slot's row
    course_end: int  # date ordinal: the course's last day
    p_course: float  # P(start and stay the course): the training seat's own score
    jobs: np.ndarray  # int64 job slot rows, best first (at most `top`)
    p_jobs: np.ndarray  # float64, aligned: P(start and stay) in each job after the course
    opened: int  # how many jobs the course opens in all

    @property
    def best_job(self) -> float:
        return float(self.p_jobs[0]) if len(self.p_jobs) else 0.0

    @property
    def value(self) -> float:
        """P(stay the course) x P(stay the best job it opens)."""
        return self.p_course * self.best_job


def course_end(runs: Sequence[tuple[int, int | None]], available_from: int, today: int, duration_days: int) -> int:
    """The last day (ordinal) of the run a person available from `available_from` joins (module docstring).
    `runs`: (start, end or None) ordinals in order; `duration_days`: the course's length, for a run without end."""
    if not runs:
        raise ValueError("a course has at least one run")
    day = max(int(available_from), int(today)) - AVAILABILITY_GRACE_DAYS
    start, end = next((run for run in runs if run[0] >= day), runs[-1])
    return int(end) if end is not None else int(start) + max(1, int(duration_days)) - 1


def taught_skills(slots: SlotTable, course_row: int, taxonomy: Mapping[str, str | None]) -> dict[str, int]:
    """Skill code -> level a trainee holds after the training slot's course (module docstring)."""
    course = slots.course[course_row]
    taught = {code: INTRODUCED_LEVEL for code, family in taxonomy.items() if course and family == course}
    for code, level in slots.required_skills[course_row].items():
        taught[code] = max(int(level), taught.get(code, 0))
    return taught


def certified_by(slots: SlotTable, course_row: int, taxonomy: Mapping[str, str | None]) -> frozenset[str]:
    """The skills the course's certificate covers (none when it awards none)."""
    if not bool(slots.certificate_awarded[course_row]):
        return frozenset()
    listed = frozenset(slots.required_skills[course_row])
    if listed:
        return listed
    course = slots.course[course_row]
    return frozenset(code for code, family in taxonomy.items() if course and family == course)


def after_course(candidates: CandidateTable, candidate_rows: np.ndarray, slots: SlotTable, course_rows: np.ndarray,
                 course_ends: np.ndarray, taxonomy: Mapping[str, str | None]) -> CandidateTable:
    """One row per (candidate row, training slot row, course end): the person as they will be after the course."""
    si = np.asarray(course_rows, np.int64).ravel()
    taught = {s: taught_skills(slots, s, taxonomy) for s in set(si.tolist())}
    certified = {s: certified_by(slots, s, taxonomy) for s in taught}
    return _after(candidates, candidate_rows, course_ends, [taught[s] for s in si.tolist()],
                  [certified[s] for s in si.tolist()])


def _after(candidates: CandidateTable, candidate_rows: np.ndarray, course_ends: np.ndarray,
           taught: Sequence[Mapping[str, int]], certified: Sequence[frozenset[str]]) -> CandidateTable:
    """`after_course` given what each row's course teaches and certifies."""
    ci = np.asarray(candidate_rows, np.int64).ravel()
    ends = np.asarray(course_ends, np.int64).ravel()
    skills, certificates = [], []
    for c, more, certs in zip(ci.tolist(), taught, certified, strict=True):
        held = dict(candidates.skills[c])
        for code, level in more.items():
            held[code] = max(level, held.get(code, 0))
        skills.append(held)
        certificates.append(frozenset(candidates.certified_skills[c]) | certs)

    def rows(column):
        return tuple(column[c] for c in ci.tolist()) if len(column) else ()

    return replace(
        candidates, ids=np.asarray(candidates.ids)[ci], lat=np.asarray(candidates.lat)[ci],
        lng=np.asarray(candidates.lng)[ci], max_travel_km=np.asarray(candidates.max_travel_km)[ci],
        needs_housing=np.asarray(candidates.needs_housing)[ci], education=np.asarray(candidates.education)[ci],
        birth_year=np.asarray(candidates.birth_year)[ci],
        available_from=np.maximum(np.asarray(candidates.available_from, np.int64)[ci], ends + 1),
        active=np.ones(len(ci), bool), skills=tuple(skills),
        free_text_skills=rows(candidates.free_text_skills), certified_skills=tuple(certificates),
        preferred_courses=rows(candidates.preferred_courses), bans=rows(candidates.bans),
        free_text_levels=rows(candidates.free_text_levels))


# What PairFeaturizer keeps per candidate row that a course changes (rebuilt by `after_course_features`); every
# other per-candidate attribute is the person's own row, gathered.
SKILL_ATTRIBUTES = frozenset({"cand_skills", "cand_levels", "cand_certified", "cand_held"})


def _row_count(value) -> int | None:
    if isinstance(value, np.ndarray | sp.spmatrix | sp.sparray):
        return value.shape[0] if value.ndim else None
    return len(value) if isinstance(value, tuple) else None


def _skill_rows(featurizer: PairFeaturizer, taught: Sequence[Mapping[str, int]],
                certified: Sequence[frozenset[str]]) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """The level-and-family rows and certificate rows of `taught` skills in the featurizer's columns (PairFeaturizer
    ._skills' layout: (skill, level) blocks, then one column per taxonomy family). A skill outside its vocabulary
    is required by no slot: dropped, as PairFeaturizer's own columns would meet no requirement."""
    vocab, taxonomy = featurizer.skill_vocab, featurizer.taxonomy
    k = len(vocab)
    families = sorted({taxonomy[c] for c in vocab if taxonomy.get(c)})
    family_index = {f: i for i, f in enumerate(families)}
    width = SKILL_LEVELS * k + len(families)
    if featurizer.cand_levels.shape[1] != width:
        raise ValueError("the featurizer's skill columns are not PairFeaturizer's layout")
    rows, cols, cert_rows, cert_cols = [], [], [], []
    for r, (skills, certs) in enumerate(zip(taught, certified, strict=True)):
        fams = set()
        for code, level in skills.items():
            j = vocab.get(code)
            if j is None:
                continue
            for lv in range(min(max(int(level), 1), SKILL_LEVELS)):
                rows.append(r)
                cols.append(SKILL_LEVELS * j + lv)
            if taxonomy.get(code) in family_index:
                fams.add(family_index[taxonomy[code]])
        for f in fams:
            rows.append(r)
            cols.append(SKILL_LEVELS * k + f)
        for code in certs:
            if code in vocab:
                cert_rows.append(r)
                cert_cols.append(vocab[code])
    n = len(taught)
    levels = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, width))
    certificates = sp.csr_matrix((np.ones(len(cert_rows)), (cert_rows, cert_cols)), shape=(n, k))
    return levels, certificates


def after_course_features(features: PairFeaturizer, after: CandidateTable, candidate_rows: np.ndarray,
                          taught: Sequence[Mapping[str, int]], certified: Sequence[frozenset[str]]) -> PairFeaturizer:
    """The features of `after` (row r: candidate row candidate_rows[r] of `features` after a course that teaches
    taught[r] and certifies certified[r]) against the same slots, from the candidates' own features: their rows
    gathered, the skill and certificate columns widened by what the course gives (a level held stays when higher:
    the level columns are "held at least l", so the widening is an element-wise max). The same numbers
    `featurize(after)` gives, in the time of a few sparse row gathers."""
    ci = np.asarray(candidate_rows, np.int64).ravel()
    n_cands = len(features.candidates)
    if n_cands == len(features.slots):
        # A per-row attribute could then be either side's: the caller builds the features the plain way.
        raise AmbiguousRows
    derived = copy.copy(features)
    for name, value in vars(features).items():
        # One entry per candidate row: gathered (an attribute PairFeaturizer gains is carried along the same way).
        if name not in SKILL_ATTRIBUTES and name != "candidates" and _row_count(value) == n_cands:
            setattr(derived, name,
                    value[ci] if not isinstance(value, tuple) else tuple(value[c] for c in ci.tolist()))
    levels, certificates = _skill_rows(features, taught, certified)
    derived.candidates = after
    derived.cand_levels = sp.csr_matrix(features.cand_levels[ci].maximum(levels))
    derived.cand_certified = sp.csr_matrix(features.cand_certified[ci].maximum(certificates))
    k = len(features.skill_vocab)
    derived.cand_held = (sp.csr_matrix(derived.cand_levels[:, [SKILL_LEVELS * j for j in range(k)]]) if k
                         else sp.csr_matrix((len(ci), 0)))
    skills = []
    for c, more in zip(ci.tolist(), taught, strict=True):
        held = dict(features.cand_skills[c])
        for code, level in more.items():
            held[code] = max(int(level), held.get(code, 0))
        skills.append(held)
    derived.cand_skills = tuple(skills)
    return derived


class AmbiguousRows(Exception):
    """A featurizer with as many candidates as slots: which side a per-row attribute belongs to is unknown."""


_job_index: dict[int, tuple[weakref.ref, tuple]] = {}


def _jobs_by(slots: SlotTable) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Job slot rows by course code and by required skill code, built once per slot table (the open slots'
    table is cached per process, so a recommendations page pays for this once)."""
    key = id(slots)
    hit = _job_index.get(key)
    if hit is not None and hit[0]() is slots:
        return hit[1]
    by_course: dict[str, list[int]] = defaultdict(list)
    by_skill: dict[str, list[int]] = defaultdict(list)
    training = np.asarray(slots.is_training, bool)
    for row in np.flatnonzero(~training).tolist():
        if slots.course[row]:
            by_course[slots.course[row]].append(row)
        for code in slots.required_skills[row]:
            by_skill[code].append(row)
    value = ({c: np.array(r, np.int64) for c, r in by_course.items()},
             {c: np.array(r, np.int64) for c, r in by_skill.items()})
    if len(_job_index) > 64:
        _job_index.clear()
    _job_index[key] = (weakref.ref(slots), value)
    return value


def opened_jobs(slots: SlotTable, courses: SlotTable, course_row: int,
                taxonomy: Mapping[str, str | None]) -> np.ndarray:
    """int64 job rows of `slots` of the course's trade or requiring a skill it teaches (eligibility not yet
    applied); the course is row `course_row` of `courses` (which may be `slots`)."""
    by_course, by_skill = _jobs_by(slots)
    parts = [by_course.get(courses.course[course_row], np.zeros(0, np.int64))]
    parts += [by_skill[code] for code in taught_skills(courses, course_row, taxonomy) if code in by_skill]
    return np.unique(np.concatenate(parts)) if parts else np.zeros(0, np.int64)


def follow_ons(scorer, featurize: Callable[[CandidateTable], PairFeaturizer], candidates: CandidateTable,
               slots: SlotTable, candidate_rows: np.ndarray, course_rows: np.ndarray, course_ends: np.ndarray,
               today: int, *, taxonomy: Mapping[str, str | None], p_course: np.ndarray | None = None,
               top: int = FOLLOW_ONS_SHOWN, prerequisites: Mapping[str, Iterable[str]] | None = None,
               courses: SlotTable | None = None, features: PairFeaturizer | None = None) -> list[Path]:
    """The path through each (candidate row, training slot row) with its course end: the best `top` jobs the
    course opens for the person after it, scored by `scorer` on the features `featurize` builds for a candidate
    table against `slots` (a PairFeaturizer, or the cached slot side's join). `p_course`: each training seat's own
    score (scored here when not given). `courses`: the table `course_rows` index, when not `slots` (a course that
    no longer takes people, beside the open jobs); its seats' scores are then given in `p_course`.

    `features`: `featurize(candidates)`, when the caller has it already (a recommendations page ranked the slots
    with it): the people after their courses are then derived from it (`after_course_features`), the same
    numbers in a fraction of the time; without it they are featurized afresh."""
    from matcher.engine.model import score  # scikit-learn: only when something is scored

    ci = np.asarray(candidate_rows, np.int64).ravel()
    si = np.asarray(course_rows, np.int64).ravel()
    ends = np.asarray(course_ends, np.int64).ravel()
    if not len(ci):
        return []
    if courses is not None and courses is not slots and p_course is None:
        raise ValueError("courses outside `slots` need their scores in p_course")
    courses = slots if courses is None else courses
    # What each course teaches, certifies and opens: once per distinct course row on the page.
    distinct = sorted(set(si.tolist()))
    taught_of = {s: taught_skills(courses, s, taxonomy) for s in distinct}
    certified_of = {s: certified_by(courses, s, taxonomy) for s in distinct}
    jobs_of = {s: opened_jobs(slots, courses, s, taxonomy) for s in distinct}
    taught = [taught_of[s] for s in si.tolist()]
    certified = [certified_of[s] for s in si.tolist()]
    after = _after(candidates, ci, ends, taught, certified)
    pk = np.concatenate([np.full(len(jobs_of[s]), k, np.int64) for k, s in enumerate(si.tolist())])
    sj = np.concatenate([jobs_of[s] for s in si.tolist()])
    ok = eligible_mask(after, slots, pk, sj, today, prerequisites) if len(pk) else np.zeros(0, bool)
    if len(pk):
        ok &= fitting_start(after, slots, pk, sj) >= ends[pk] - FOLLOW_ON_GRACE_DAYS
    pk, sj = pk[ok], sj[ok]
    p_jobs = _score_after(scorer, featurize, features, candidates, after, ci, taught, certified, pk, sj)
    if p_course is None:
        p_course = score(scorer, features if features is not None else featurize(candidates), ci, si)
    paths = []
    for k in range(len(ci)):
        mine = np.flatnonzero(pk == k)
        # Best first; equal chances by the job's id, so the same jobs always come out in the same order.
        order = mine[np.lexsort((np.asarray(slots.ids)[sj[mine]], -p_jobs[mine]))][:max(0, int(top))]
        paths.append(Path(course_row=int(si[k]), course_end=int(ends[k]), p_course=float(p_course[k]),
                          jobs=sj[order].astype(np.int64), p_jobs=p_jobs[order].astype(np.float64),
                          opened=int(len(mine))))
    return paths


def _score_after(scorer, featurize, features, candidates, after, ci, taught, certified, pk, sj) -> np.ndarray:
    """P(start and stay) of each (row pk of `after`, job sj) pair, in one featurize and one predict call."""
    from matcher.engine.model import score

    if not len(pk):
        return np.zeros(0)
    if features is not None:
        # One person after the course per candidate and what the course gives (its end changes only eligibility,
        # which is decided): seats whose courses give the same share their rows and their scores.
        keys = [(c, tuple(sorted(t.items())), tuple(sorted(cert)))
                for c, t, cert in zip(ci.tolist(), taught, certified, strict=True)]
        first: dict[tuple, int] = {}  # person -> the first path k that has them
        for k, key in enumerate(keys):
            first.setdefault(key, k)
        person_of = {key: u for u, key in enumerate(first)}
        person = np.array([person_of[key] for key in keys], np.int64)
        reps = np.array(list(first.values()), np.int64)
        try:
            derived = after_course_features(features, _take(after, reps), ci[reps], [taught[k] for k in reps],
                                            [certified[k] for k in reps])
        except AmbiguousRows:
            derived = None
        if derived is not None:
            n_jobs = len(features.slots)
            pairs, inverse = np.unique(person[pk] * n_jobs + sj, return_inverse=True)
            p = score(scorer, derived, pairs // n_jobs, pairs % n_jobs)
            return p[np.asarray(inverse).ravel()]
    return score(scorer, featurize(after), pk, sj)


def _take(table: CandidateTable, rows: np.ndarray) -> CandidateTable:
    """The rows `rows` of a candidate table."""
    columns = {}
    for name, value in vars(table).items():
        if isinstance(value, np.ndarray):
            columns[name] = value[rows]
        elif isinstance(value, tuple) and len(value):
            columns[name] = tuple(value[r] for r in rows.tolist())
    return replace(table, **columns)
