"""The interview plan: the fair as the engine's problem (`build_problem`), planning and re-planning
the day (`make_plan`), and the record of each run."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter

import numpy as np
from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, or_, select, update
from sqlalchemy.orm import Session

from matcher import clock, uow
from matcher.auth.models import Account
from matcher.candidates.models import Candidate
from matcher.engine.fair import FairProblem, plan_fair
from matcher.errors import Conflict, Invalid, NotFound
from matcher.fairs.models import (
    Fair,
    FairBooth,
    FairInterview,
    FairInvitation,
    FairPlanRun,
    FairStatus,
    InterviewStatus,
)
from matcher.fairs.service.fairs import COMING, LIVE_INTERVIEW, first_open_block, run_fair
from matcher.matching import pipeline
from matcher.matching.service.registry import active_scorer
from matcher.slots.models import Slot

PLANNING_SECONDS = 6.0  # the solver's limit for the whole day (the target is 10 s end to end)
REPLANNING_SECONDS = 1.0  # the rest of the day, while people wait (target 2 s end to end)


@dataclasses.dataclass(frozen=True)
class _Attendee:
    invitation_id: int
    candidate_id: int
    coming: bool  # confirmed; False for someone kept only for an interview already held
    arrives_block: int


@dataclasses.dataclass(frozen=True)
class _Kept:
    interview_id: int
    invitation_id: int
    booth_id: int
    block: int
    slot_id: int
    score: float


@dataclasses.dataclass
class FairModel:
    """The fair as the engine sees it, with the ids behind each row."""

    problem: FairProblem
    attendees: list[_Attendee]
    booths: list[FairBooth]
    pair_slot: dict[tuple[int, int], int]  # (candidate row, booth row) -> the booth's best slot id for them
    pair_score: dict[tuple[int, int], float]
    pair_value: dict[tuple[int, int], float]  # score x priority weight
    kept: list[_Kept]
    model_version: str


def build_problem(session: Session, fair: Fair, from_block: int, *, keep_planned: bool = False) -> FairModel:
    """Rows: confirmed invitations (and anyone with an interview to keep); columns: booths. The value of a
    (candidate, booth) pair is the best P(start and stay) over the booth's slots the candidate is eligible for
    (and, with `preferred_courses_only`, in a course they asked for), times their priority weight. Interviews in
    blocks before `from_block`, and every held one, are kept where they are; with `keep_planned`, so is every
    interview still planned (only free places are filled)."""
    scorer, version = active_scorer(session)
    # Plain rows, not ORM objects: a fair has thousands of interviews and candidates, and this runs while
    # people wait.
    kept = []
    for row in session.execute(
            select(FairInterview.id, FairInterview.invitation_id, FairInterview.booth_id, FairInterview.block,
                   FairInterview.slot_id, FairInterview.score, FairInterview.status)
            .where(FairInterview.fair_id == fair.id, FairInterview.status.in_(LIVE_INTERVIEW))
            .order_by(FairInterview.id)):
        if keep_planned or row.status == InterviewStatus.HELD or row.block < from_block:
            kept.append(_Kept(row.id, row.invitation_id, row.booth_id, row.block, row.slot_id, row.score))
    kept_invitations = {k.invitation_id for k in kept}
    attendees = [_Attendee(row.id, row.candidate_id, row.status in COMING, row.arrives_block)
                 for row in session.execute(
                     select(FairInvitation.id, FairInvitation.candidate_id, FairInvitation.status,
                            FairInvitation.arrives_block)
                     .where(FairInvitation.fair_id == fair.id,
                            or_(FairInvitation.status.in_(COMING), FairInvitation.id.in_(kept_invitations or {-1})))
                     .order_by(FairInvitation.id))]
    booths = list(fair.booths)
    n_c, n_b, n_t = len(attendees), len(booths), fair.n_blocks
    inv_row = {a.invitation_id: i for i, a in enumerate(attendees)}
    booth_row = {b.id: j for j, b in enumerate(booths)}

    available = np.zeros((n_c, n_t), dtype=bool)
    for i, attendee in enumerate(attendees):
        if attendee.coming:
            available[i, max(attendee.arrives_block, from_block):] = True
    capacity = np.array([[b.capacity(t) for t in range(n_t)] for b in booths], dtype=np.int32).reshape(n_b, n_t)
    fixed = [(inv_row[k.invitation_id], booth_row[k.booth_id], k.block) for k in kept]
    # Whatever is kept stays possible, even at a booth that has since withdrawn or shrunk.
    for (b, t), n in Counter((b, t) for _c, b, t in fixed).items():
        capacity[b, t] = max(capacity[b, t], n)

    ecand, ebooth, evalue, pair_slot, pair_score = _pairs(session, fair, scorer, attendees, booths)
    # A booth someone did not turn up to is not planned for them again the same day (undoing the no-show puts
    # that interview back, if its place is still free).
    missed = {(inv_row[i], booth_row[b]) for i, b in session.execute(
        select(FairInterview.invitation_id, FairInterview.booth_id)
        .where(FairInterview.fair_id == fair.id, FairInterview.status == InterviewStatus.NO_SHOW))
        if i in inv_row and b in booth_row}
    if missed:
        keep = [(c, b) not in missed for c, b in zip(ecand, ebooth, strict=True)]
        ecand, ebooth, evalue = ([x for x, k in zip(column, keep, strict=True) if k]
                                 for column in (ecand, ebooth, evalue))
    pair_value = {(c, b): v for c, b, v in zip(ecand, ebooth, evalue, strict=True)}
    for k in kept:  # a kept interview whose pair is no longer eligible still needs its slot and score on record
        key = (inv_row[k.invitation_id], booth_row[k.booth_id])
        pair_slot.setdefault(key, k.slot_id)
        pair_score.setdefault(key, k.score)
        pair_value.setdefault(key, 0.0)
    problem = FairProblem(
        n_candidates=n_c, n_booths=n_b, n_blocks=n_t, edge_candidate=np.array(ecand, dtype=np.int32),
        edge_booth=np.array(ebooth, dtype=np.int32), edge_value=np.array(evalue, dtype=np.float64),
        booth_capacity=capacity, max_interviews=fair.max_interviews, candidate_available=available,
        fixed=tuple(fixed))
    return FairModel(problem=problem, attendees=attendees, booths=booths, pair_slot=pair_slot,
                     pair_score=pair_score, pair_value=pair_value, kept=kept, model_version=version)


def _pairs(session: Session, fair: Fair, scorer, attendees: list[_Attendee], booths: list[FairBooth]):
    """Every (candidate row, booth row) pair with a value: the best of the booth's slots the candidate is eligible
    for (with `preferred_courses_only`, in a course they asked for), scored and weighted by the shared pipeline."""
    ecand, ebooth, evalue = [], [], []
    pair_slot: dict[tuple[int, int], int] = {}
    pair_score: dict[tuple[int, int], float] = {}
    slot_ids = sorted({s.id for b in booths for s in b.slots})
    if not attendees or not slot_ids:
        return ecand, ebooth, evalue, pair_slot, pair_score
    booth_row = {b.id: j for j, b in enumerate(booths)}
    tables = pipeline.load(session, select(Candidate).where(Candidate.id.in_([a.candidate_id for a in attendees])),
                           select(Slot).where(Slot.id.in_(slot_ids)), horizon_days=scorer.horizon_days,
                           as_of=fair.held_on)
    cands, slots = tables.candidates, tables.slots
    c_rows = np.array([cands.row_of[a.candidate_id] for a in attendees], dtype=np.int64)
    booth_of_slot = [(booth_row[b.id], slots.row_of[s.id]) for b in booths for s in b.slots]
    pb = np.array([x[0] for x in booth_of_slot], dtype=np.int64)
    ps = np.array([x[1] for x in booth_of_slot], dtype=np.int64)
    ci, offer = pipeline.all_pairs(len(attendees), len(ps))  # attendee x (booth, slot) the booths offer
    bi, si = pb[offer], ps[offer]
    wanted = (_in_preferred_course(cands.table.preferred_courses, slots.table.course, c_rows[ci], si)
              if fair.preferred_courses_only else None)
    scored = pipeline.score_pairs(tables, scorer, c_rows[ci], si, day=fair.held_on, only=wanted,
                                  key_subject_weight=fair.key_subject_weight,
                                  waiting_weight_per_year=fair.waiting_weight_per_year)
    ci, bi = ci[scored.kept], bi[scored.kept]
    best: dict[tuple[int, int], tuple[float, float, int]] = {}
    for c, b, s, prob, value in zip(ci.tolist(), bi.tolist(), scored.slot.tolist(), scored.score.tolist(),
                                    scored.value.tolist(), strict=True):
        if prob > best.get((c, b), (-1.0, 0.0, 0))[0]:
            best[c, b] = (prob, value, int(slots.table.ids[s]))
    for (c, b), (prob, value, slot_id) in best.items():
        ecand.append(c)
        ebooth.append(b)
        evalue.append(value)
        pair_slot[c, b], pair_score[c, b] = slot_id, prob
    return ecand, ebooth, evalue, pair_slot, pair_score


def _in_preferred_course(wishes: tuple, courses: tuple, c: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Per pair: the slot is in one of the candidate's preferred courses, or the candidate named none, or the
    slot (a job) belongs to no course."""
    codes = {code: i for i, code in enumerate(sorted({x for w in wishes for x in w} | {x for x in courses if x}))}
    wants = np.zeros((len(wishes), len(codes) + 1), dtype=bool)  # last column: "no course" matches everyone
    wants[:, -1] = True
    for row, wish in enumerate(wishes):
        if not wish:
            wants[row, :] = True
        for code in wish:
            wants[row, codes[code]] = True
    slot_code = np.array([codes[x] if x else len(codes) for x in courses], dtype=np.int64)
    return wants[c, slot_code[s]]


def make_plan(*, session: Session, actor: Account | None, fair_id: int, from_block: int | None = None,
              keep_planned: bool = True, time_limit_s: float | None = None) -> FairPlanRun:
    """Plan the day, or re-plan the rest of it from `from_block` (default: the first block not yet begun).
    Interviews before that block and every held one always stay. With `keep_planned` (the default) the
    interviews still planned stay too and only free places are filled (walk-ins, places freed by cancellations
    and withdrawals): nobody's printed schedule changes. Without it the rest of the day is optimised afresh; an
    interview that comes out the same keeps its row, the others are cancelled and new ones planned."""
    if actor is not None:
        fair = run_fair(session, actor, fair_id)
    else:
        fair = session.get(Fair, fair_id)
        if fair is None:
            raise NotFound(_l("No such job fair."))
    if fair.status != FairStatus.PREPARING:
        raise Conflict(_l("This job fair is closed."))
    start = first_open_block(fair) if from_block is None else from_block
    if not 0 <= start <= fair.n_blocks:
        raise Invalid(_l("The block must be between 0 and %(n)s.", n=fair.n_blocks), field="from_block")
    if start >= fair.n_blocks:
        raise Conflict(_l("The fair's last block has begun; there is nothing left to plan."), field="from_block")
    model = build_problem(session, fair, start, keep_planned=keep_planned)
    # A whole day may take its time; filling in around kept interviews happens while people wait.
    limit = time_limit_s or (PLANNING_SECONDS if start == 0 and not model.kept else REPLANNING_SECONDS)
    plan = plan_fair(model.problem, time_limit_s=limit)

    fixed = set(model.problem.fixed)
    planned = {(model.attendees[c].invitation_id, model.booths[b].id, t): (c, b)
               for c, b, t in plan.interviews.tolist() if (c, b, t) not in fixed}
    kept_ids = {k.interview_id for k in model.kept}
    existing = {(row.invitation_id, row.booth_id, row.block): row.id for row in session.execute(
        select(FairInterview.id, FairInterview.invitation_id, FairInterview.booth_id, FairInterview.block)
        .where(FairInterview.fair_id == fair.id, FairInterview.status.in_(LIVE_INTERVIEW)))
        if row.id not in kept_ids}
    stale = [interview_id for key, interview_id in existing.items() if key not in planned]
    # Cancel first: the partial unique indexes must see at most one live interview per place at every step.
    for chunk in range(0, len(stale), 500):
        session.execute(update(FairInterview).where(FairInterview.id.in_(stale[chunk:chunk + 500]))
                        .values(status=InterviewStatus.CANCELLED))
    run = FairPlanRun(fair_id=fair.id, from_block=start, model_version=model.model_version,
                      objective=plan.objective, bound=plan.bound, gap=plan.gap, solver_status=plan.status,
                      seconds=plan.seconds, summary_json="{}", created_by_id=actor.id if actor else None)
    session.add(run)
    session.flush()
    new_rows = [dict(fair_id=fair.id, invitation_id=key[0], booth_id=key[1], block=key[2],
                     slot_id=model.pair_slot[c, b], score=model.pair_score[c, b],
                     value=model.pair_value[c, b], plan_run_id=run.id, status=InterviewStatus.PLANNED,
                     created_at=clock.now())
                for key, (c, b) in planned.items() if key not in existing]
    if new_rows:
        session.execute(insert(FairInterview), new_rows)
    coming = {a.invitation_id for a in model.attendees if a.coming}
    reasons = _with_withdrawals(model, plan.unplaced, start)
    unplaced = {str(model.attendees[c].invitation_id): reason for c, reason in reasons.items()
                if model.attendees[c].invitation_id in coming}
    interviews = [tuple(r) for r in plan.interviews.tolist()]
    per_person = Counter(model.attendees[c].invitation_id for c, _b, _t in interviews)
    how_many = Counter(min(per_person.get(i, 0), 3) for i in coming)  # 0, 1, 2, "3 or more"
    run.summary_json = json.dumps({
        "candidates": len(coming),
        "booths": sum(1 for b in model.booths if any(b.capacity(t) for t in range(start, fair.n_blocks))),
        "eligible_pairs": int(len(model.problem.edge_value)),
        "interviews": len(interviews),
        "kept": len(fixed),
        "new": len(new_rows),
        "unchanged": len(planned) - len(new_rows),
        "moved_or_dropped": len(stale),
        "expected_stays": round(sum(model.pair_score[c, b] for c, b, _t in interviews), 3),
        "keep_planned": keep_planned,
        "unplaced": unplaced,
        # Breadth first: who has at least one interview, of those who could have one (the others have no booth
        # for them, or no time when theirs are open); and how many have one, two, three or more.
        "covered": sum(1 for i in coming if per_person.get(i)),
        "coverable": sum(1 for i in coming if per_person.get(i)) + sum(
            1 for reason in unplaced.values() if reason == "capacity"),
        "interviews_per_person": {str(n): how_many.get(n, 0) for n in range(4)},
        "unplaced_reasons": dict(Counter(unplaced.values())),
    }, ensure_ascii=False)
    uow.flush(session)
    return run


def _with_withdrawals(model: FairModel, reasons: dict[int, str], start: int) -> dict[int, str]:
    """The engine's reasons, with `withdrawn` for a candidate whose every eligible booth withdrew before `start`
    (the engine only sees their places gone, and says full or not available)."""
    gone = {j for j, booth in enumerate(model.booths) if booth.withdrawn_from_block is not None
            and not any(booth.capacity(t) for t in range(start, model.problem.n_blocks))}
    if not gone:
        return reasons
    problem = model.problem
    refined = dict(reasons)
    for c, reason in reasons.items():
        if reason in ("capacity", "not_available"):
            booths = set(problem.edge_booth[problem.edge_candidate == c].tolist())
            if booths and booths <= gone:
                refined[c] = "withdrawn"
    return refined


def latest_run(session: Session, fair_id: int) -> FairPlanRun | None:
    return session.scalar(select(FairPlanRun).where(FairPlanRun.fair_id == fair_id)
                          .order_by(FairPlanRun.id.desc()).limit(1))


def list_runs(*, session: Session, actor: Account, fair_id: int) -> list[FairPlanRun]:
    fair = run_fair(session, actor, fair_id, changing=False)
    return list(session.scalars(select(FairPlanRun).where(FairPlanRun.fair_id == fair.id)
                                .order_by(FairPlanRun.id.desc())))
