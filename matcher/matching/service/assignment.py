"""Batch assignment: an optimal plan of candidates to open slots kept as a draft, and the draft's
confirmation (proposed referrals) or discarding."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, exists, select, update
from sqlalchemy.orm import Session

from matcher import clock, policy, uow
from matcher.auth.models import Account, Role
from matcher.bases import answers
from matcher.bases.models import Company
from matcher.candidates.models import Candidate, CandidateStatus
from matcher.clock import today
from matcher.engine.assignment import AssignmentProblem, greedy, solve
from matcher.engine.eligibility import fitting_start
from matcher.engine.horizon import HorizonPlan, HorizonProblem, plan_week
from matcher.errors import Conflict, Invalid
from matcher.matching import pipeline
from matcher.matching.adapters import chunks
from matcher.matching.models import AssignmentDraft, AssignmentDraftItem, DraftStatus
from matcher.matching.service.registry import active_scorer, report_progress
from matcher.places.models import code_prefix
from matcher.referrals.lifecycle import ENDED, ReferralStatus
from matcher.referrals.models import Referral, ReferralEvent
from matcher.slots.models import Slot, SlotStatus

# Rolling-horizon planning (hold_seats / horizon_days): how sure a pre-release list's release date is (a release may
# slip or the person go elsewhere; the plan discounts an arriving person's values by it), and the least expected gain,
# in placements that stay, worth holding seats for.
ARRIVAL_CERTAINTY = 0.9
MIN_HOLD_GAIN = 0.05
DEFAULT_HORIZON_DAYS = 90
# While seats are held, a person available now is referred when their planned slot starts within this many days; a
# later pair is planned again by next week's plan, which knows more (bench/bench_horizon.py: 0.976-0.990 of the
# hindsight optimum this way, against 0.964-0.986 referring everyone at once).
REFER_WITHIN_DAYS = 14


def _planned_people(actor: Account | None) -> Select:
    """The files a planner plans for: the people of its bureau's area (an administrator: the files it reads)."""
    stmt = select(Candidate)
    if actor is not None:
        stmt = stmt.where(Candidate.id.in_(policy.candidate_ids(actor)) if actor.role == Role.ADMINISTRATOR
                          else Candidate.residence_code.startswith(policy.area_prefix(actor)))
    return stmt


def resolve_references(session: Session, actor: Account | None, scope: Select, model: type, names: list[str], *,
                  field: str) -> set[int]:
    """The ids of `scope`'s records that `names` name: each the bureau's own reference (matcher.external_ids),
    looked up among the references of the actor's area, or else Xintu's id (digits) or, for a file, its public
    id (XT-…). Every name must name exactly one record: the ones that name none, or several (one reference in
    two counties of the area), are refused together."""
    wanted = list(dict.fromkeys(name.strip() for name in names if name and name.strip()))
    area = policy.reference_area(actor) if actor is not None else ""
    by_reference: dict[str, set[int]] = {}
    for part in chunks(wanted):
        stmt = scope.with_only_columns(model.id, model.external_id).where(model.external_id.in_(part))
        if area:
            stmt = stmt.where(model.external_scope.startswith(area))
        for record_id, reference in session.execute(stmt):
            by_reference.setdefault(reference, set()).add(record_id)
    ids = {next(iter(found)) for found in by_reference.values() if len(found) == 1}
    ambiguous = sorted(reference for reference, found in by_reference.items() if len(found) > 1)
    rest = [name for name in wanted if name not in by_reference]
    own_ids = {int(name) for name in rest if name.isdigit()}
    public_ids = {name.upper() for name in rest if not name.isdigit()} if model is Candidate else set()
    known: dict[str, int] = {}
    for part in chunks(sorted(own_ids)):
        known.update((str(i), i) for i in session.scalars(scope.with_only_columns(model.id)
                                                          .where(model.id.in_(part))))
    for part in chunks(sorted(public_ids)):
        known.update(session.execute(scope.with_only_columns(Candidate.public_id, Candidate.id)
                                     .where(Candidate.public_id.in_(part))).all())
    unknown = [name for name in rest if (name if name.isdigit() else name.upper()) not in known]
    errors = []
    if unknown:
        errors.append(_l("%(count)s of the names are not found among what you may plan with: %(names)s",
                         count=len(unknown), names=_some(unknown)))
    if ambiguous:
        errors.append(_l("These references are used in several counties of your area; use Xintu's ids: %(names)s",
                         names=_some(ambiguous)))
    if errors:
        raise Invalid(errors[0], errors={field: errors})
    return ids | set(known.values())


# Most candidates (or slots) one plan may name: a file's rows (and well within a query's parameters).
MAX_NAMED = 20_000
RELEASE_PERIOD_BACKWARDS = _l("The release period ends before it starts.")
HOLD_WITH_CAP = _l("A plan that looks ahead at people released soon cannot also cap the referrals per base yet: "
                   "leave one of them out.")


def _named_ids(ids: set[int], field: str) -> list[int]:
    if len(ids) > MAX_NAMED:
        raise Invalid(_l("At most %(most)s can be named; this names %(count)s.", most=MAX_NAMED, count=len(ids)),
                      field=field)
    return sorted(ids)


def _some(names: list[str], shown: int = 10) -> str:
    return ", ".join(names[:shown]) + (" …" if len(names) > shown else "")


def plan_assignment(*, session: Session, actor: Account | None, params: dict, progress=None) -> AssignmentDraft:
    """Plan for all active unplaced candidates and open slots (within the filters): maximise the
    expected number of placements that stay, weighted by priority; keep it as a draft.

    Filters: `district`, `course`, `starts_before`; `released_from` / `released_to` (the release date, both
    days included); and named lists: `candidate_ids` / `slot_ids` (Xintu's ids) and `candidate_references` /
    `slot_references` (the bureau's references, or Xintu's or public ids: see `resolve_references`). The lists of a kind
    together are the only candidates (slots) planned; a name that finds nothing is refused."""
    if actor is not None:
        policy.require(actor, policy.Rule.MATCH_PLAN)
    released_from, released_to = params.get("released_from"), params.get("released_to")
    if released_from and released_to and released_from > released_to:
        raise Invalid(RELEASE_PERIOD_BACKWARDS, field="released_to")
    if _plans_ahead(params) and params.get("base_cap"):
        raise Invalid(HOLD_WITH_CAP, field="base_cap")
    report_progress(progress, 0, 4, "Reading candidates and open slots")
    scorer, version = active_scorer(session)
    day = today()
    people = _planned_people(actor)
    cand_stmt = people.where(Candidate.status.in_([CandidateStatus.PRE_RELEASE, CandidateStatus.ACTIVE]))
    if params.get("district"):
        cand_stmt = cand_stmt.where(Candidate.residence_code.startswith(code_prefix(params["district"])))
    if released_from:
        cand_stmt = cand_stmt.where(Candidate.release_date >= released_from)
    if released_to:
        cand_stmt = cand_stmt.where(Candidate.release_date <= released_to)
    named: dict[str, int] = {}  # how many candidates (slots) the lists named: the summary tells how many planned
    if "candidate_ids" in params or "candidate_references" in params:
        candidate_ids = set(params.get("candidate_ids") or ())
        if params.get("candidate_references"):
            candidate_ids |= resolve_references(session, actor, people, Candidate, params["candidate_references"],
                                                field="candidate_references")
        cand_stmt = cand_stmt.where(Candidate.id.in_(_named_ids(candidate_ids, "candidate_ids")))
        named["candidates_named"] = len(candidate_ids)
    # Someone with a live referral is already being placed.
    live = select(Referral.candidate_id).where(Referral.status.not_in(
        [ReferralStatus.DECLINED, ReferralStatus.WITHDRAWN, ReferralStatus.LEFT]))
    cand_stmt = cand_stmt.where(Candidate.id.not_in(live))
    slot_stmt = pipeline.open_slots().where(Slot.seats_taken < Slot.seats)
    if "slot_ids" in params or "slot_references" in params:
        slot_ids = set(params.get("slot_ids") or ())
        if params.get("slot_references"):
            slot_ids |= resolve_references(session, actor, pipeline.open_slots(), Slot, params["slot_references"],
                                           field="slot_references")
        slot_stmt = slot_stmt.where(Slot.id.in_(_named_ids(slot_ids, "slot_ids")))
        named["slots_named"] = len(slot_ids)
    if params.get("course"):
        slot_stmt = slot_stmt.where(Slot.course_code == params["course"])
    if params.get("starts_before"):
        slot_stmt = slot_stmt.where(Slot.starts_on <= params["starts_before"])
    if params.get("district"):
        slot_stmt = slot_stmt.where(Slot.place_code.startswith(code_prefix(params["district"])))
    tables = pipeline.load(session, cand_stmt, slot_stmt, horizon_days=scorer.horizon_days)
    cands, slots = tables.candidates, tables.slots
    n, m = len(cands.table), len(slots.table)
    report_progress(progress, 1, 4, "Scoring the eligible pairs")
    # The value of a placement is P(the base answers) x P(start and stay | answered) x the person's priority.
    answer_p, standing = pipeline.answer_weights(session, slots)
    pairs = pipeline.score_pairs(tables, scorer, *pipeline.all_pairs(n, m), day=day,
                                 key_subject_weight=params.get("key_subject_weight", 0.0),
                                 waiting_weight_per_year=params.get("waiting_weight_per_year", 0.0),
                                 slot_weight=answer_p)
    c_idx, s_idx, p, value = pairs.candidate, pairs.slot, pairs.score, pairs.value
    report_progress(progress, 2, 4, "Solving the assignment")
    group, caps, capped_bases = _base_caps(slots.table.company_ids, standing, params.get("base_cap"))
    ties = pipeline.tie_breaks(tables, c_idx, s_idx, day=day) if len(c_idx) else None
    problem = AssignmentProblem(n_candidates=n, n_slots=m, edge_candidate=c_idx.astype(np.int32),
                                edge_slot=s_idx.astype(np.int32), edge_value=value.astype(np.float64),
                                slot_seats=slots.table.seats_free.astype(np.int32),
                                slot_group=None if group is None else group.astype(np.int32), group_caps=caps,
                                edge_wish_rank=None if ties is None else ties.wish_rank,
                                edge_distance_km=None if ties is None else ties.distance_km,
                                candidate_waiting_days=None if ties is None else ties.waiting_days)
    holding = None
    if _plans_ahead(params):
        week = _plan_ahead(tables, c_idx, s_idx, p, value, ties, day=day, params=params)
        chosen = np.asarray(week.committed, dtype=np.int64)
        plan_objective, method, seconds, tie_levels = float(value[chosen].sum()), "rolling_horizon", week.seconds, None
        plan_optimal = True  # each week's plan is an exact solve (matcher.engine.horizon)
        holding = _holding_summary(session, tables, week, c_idx, s_idx, p, params)
    else:
        plan = solve(problem)
        chosen = np.asarray(plan.chosen_edges, dtype=np.int64)
        plan_objective, method, seconds, tie_levels = float(plan.objective), plan.method, plan.seconds, plan.tie_levels
        plan_optimal = bool(plan.optimal)
    baseline = greedy(problem)
    report_progress(progress, 3, 4, "Saving the plan")
    draft = AssignmentDraft(
        status=DraftStatus.DRAFT, model_version=version, objective=plan_objective,
        greedy_objective=float(baseline.objective), created_by_id=actor.id if actor else None,
        params_json=json.dumps(params, default=str, ensure_ascii=False),
        summary_json=json.dumps({
            "candidates": n, "slots": m, "seats": int(slots.table.seats_free.sum()),
            "eligible_pairs": int(len(c_idx)), "assigned": int(len(chosen)),
            "expected_stays": round(float(p[chosen].sum()), 3) if len(chosen) else 0.0,
            "objective": round(plan_objective, 4), "greedy_objective": round(float(baseline.objective), 4),
            "gain_over_greedy": round(plan_objective - float(baseline.objective), 4),
            "optimal": plan_optimal, "method": method, "solve_seconds": round(float(seconds), 3),
            "model_kind": scorer.kind, "tie_levels": tie_levels, "bases_capped": capped_bases, **named,
            **({"holding": holding} if holding is not None else {}),
        }))
    if holding is not None:
        # The referrals of a plan that looks ahead are this week's part of a longer plan (seats held, pairs left for
        # next week): set against a best-first plan of everything now, the comparison would mislead.
        summary = json.loads(draft.summary_json)
        for key in ("greedy_objective", "gain_over_greedy"):
            summary.pop(key)
        draft.summary_json = json.dumps(summary, ensure_ascii=False)
    draft.items = [AssignmentDraftItem(candidate_id=int(cands.table.ids[c_idx[e]]),
                                       slot_id=int(slots.table.ids[s_idx[e]]),
                                       score=float(p[e]), value=float(value[e])) for e in chosen]
    session.add(draft)
    uow.flush(session)
    return draft


def _plans_ahead(params: dict) -> bool:
    """Whether the plan looks ahead at people released soon (the pre-release lists): asked for by holding seats or by
    a horizon of days."""
    return bool(params.get("hold_seats")) or bool(params.get("horizon_days"))


def _plan_ahead(tables, c_idx, s_idx, p, value, ties, *, day, params: dict) -> HorizonPlan:
    """The rolling-horizon week (matcher.engine.horizon): people available today and people released within the
    horizon compete for the seats; an arriving person only for a slot (or intake) that starts on or after the day
    they can start. What the engine calls present and arriving is read from each file's release date and earliest
    start (`available_from`)."""
    cands, slots = tables.candidates.table, tables.slots.table
    available = np.asarray(cands.available_from, dtype=np.int64)
    present = available <= day.toordinal()
    start = fitting_start(cands, slots, c_idx, s_idx) if len(c_idx) else np.zeros(0, dtype=np.int64)
    problem = HorizonProblem(
        n_people=len(cands), n_slots=len(slots), edge_person=c_idx.astype(np.int32), edge_slot=s_idx.astype(np.int32),
        edge_value=value.astype(np.float64), edge_start=start.astype(np.int64),
        slot_seats=slots.seats_free.astype(np.int32), person_available=available,
        person_certainty=np.where(present, 1.0, ARRIVAL_CERTAINTY), edge_stay=p.astype(np.float64),
        edge_wish_rank=None if ties is None else ties.wish_rank,
        edge_distance_km=None if ties is None else ties.distance_km,
        person_waiting_days=None if ties is None else ties.waiting_days)
    return plan_week(problem, today=day.toordinal(), horizon_days=int(params.get("horizon_days")
                                                                       or DEFAULT_HORIZON_DAYS),
                     hold_seats=bool(params.get("hold_seats")), min_gain=MIN_HOLD_GAIN,
                     commit_within_days=REFER_WITHIN_DAYS)


def _holding_summary(session: Session, tables, week: HorizonPlan, c_idx, s_idx, p, params: dict) -> dict:
    """What the organiser is shown of holding seats: the setting, the expected stays with and without holding,
    and each held seat by the person's pseudonym (public id) and release date, never a name."""
    cands, slots = tables.candidates.table, tables.slots.table
    held = week.held
    people = [int(cands.ids[c]) for c in c_idx[held]]
    files = {row.id: row for row in session.execute(
        select(Candidate.id, Candidate.public_id, Candidate.release_date).where(Candidate.id.in_(people)))} \
        if people else {}
    slot_ids = [int(slots.ids[s]) for s in s_idx[held]]
    slot_rows = {row.id: row for row in session.execute(
        select(Slot.id, Slot.title, Slot.company_id).where(Slot.id.in_(slot_ids)))} if slot_ids else {}
    names = dict(session.execute(select(Company.id, Company.name).where(
        Company.id.in_({row.company_id for row in slot_rows.values()}))).tuples().all()) if slot_rows else {}
    start = fitting_start(cands, slots, c_idx[held], s_idx[held]) if len(held) else np.zeros(0, dtype=np.int64)
    seats = [{"candidate_public_id": files[cid].public_id, "release_date": files[cid].release_date.isoformat(),
              "slot_id": sid, "slot_title": slot_rows[sid].title, "company_name": names.get(slot_rows[sid].company_id),
              "starts_on": dt.date.fromordinal(int(begins)).isoformat(), "score": round(float(p[e]), 4)}
             for e, cid, sid, begins in zip(held.tolist(), people, slot_ids, start.tolist(), strict=True)]
    seats.sort(key=lambda seat: (seat["release_date"], seat["starts_on"], seat["candidate_public_id"]))
    return {
        "hold_seats": bool(params.get("hold_seats")), "holding": week.holding,
        "horizon_days": int(params.get("horizon_days") or DEFAULT_HORIZON_DAYS),
        "present": week.n_present, "arriving": week.n_arriving,
        "expected_stays_with_holding": round(week.stays_with_holding, 3),
        "expected_stays_without_holding": round(week.stays_without_holding, 3),
        "expected_gain": round(week.stays_gain, 3), "seats_held": week.seats_held,
        "planned_later": int(len(week.deferred)), "refer_within_days": REFER_WITHIN_DAYS,
        "arrival_certainty": ARRIVAL_CERTAINTY, "min_gain": MIN_HOLD_GAIN, "held": seats,
    }


def _base_caps(company_ids: np.ndarray, standing: dict, base_cap: int | None):
    """Per slot row its base (a group), and per base the most the plan may place there: what is left of its
    month's referrals (matcher.bases.answers; no cap for a base whose size is not recorded), and at most
    `base_cap` where the planner set one. None, None when nothing caps any base. Also how many bases are capped by
    their month."""
    companies, group = np.unique(np.asarray(company_ids, dtype=np.int64), return_inverse=True)
    unlimited = np.iinfo(np.int32).max
    left = np.array([unlimited if int(c) not in standing or standing[int(c)].month_left is None
                     else standing[int(c)].month_left for c in companies], dtype=np.int64)
    capped = int(np.sum(left < unlimited))
    if base_cap:
        left = np.minimum(left, int(base_cap))
    if not len(companies) or np.all(left == unlimited):
        return None, None, capped
    return group.astype(np.int32), left.astype(np.int32), capped


def get_draft(*, session: Session, actor: Account, draft_id: int) -> AssignmentDraft:
    policy.require(actor, policy.Rule.MATCH_PLAN)
    return policy.find(session, actor, policy.drafts(actor), AssignmentDraft, draft_id,
                       _l("No such assignment plan."), object_type="assignment_draft")


def list_drafts(*, session: Session, actor: Account):
    policy.require(actor, policy.Rule.MATCH_PLAN)
    return policy.drafts(actor).order_by(AssignmentDraft.id.desc())


def confirm_draft(*, session: Session, actor: Account, draft_id: int) -> AssignmentDraft:
    """Confirming turns each planned pair into a proposed referral for the candidate's caseworker to send.
    Pairs that no longer fit (slot closed or full, candidate placed, a live referral exists, the base paused or its
    month's referrals made: matcher.bases.answers) are skipped.

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
    # What is left of each base's month (matcher.bases.answers); a paused base takes none.
    company_ids = {session.get(Slot, item.slot_id).company_id for item in draft.items}
    standing = answers.standings(session, company_ids=company_ids)
    left = {company_id: s.month_left for company_id, s in standing.items()}
    for item in draft.items:
        slot = session.get(Slot, item.slot_id)
        candidate = session.get(Candidate, item.candidate_id)
        live = session.scalar(select(exists().where(
            Referral.candidate_id == item.candidate_id, Referral.slot_id == item.slot_id,
            Referral.status.not_in(ENDED))))
        if live or slot.status != SlotStatus.OPEN or not slot.company.can_post_and_fill() \
                or slot.company.referrals_paused_on is not None or left.get(slot.company_id) == 0 \
                or candidate.status not in (CandidateStatus.PRE_RELEASE, CandidateStatus.ACTIVE):
            continue
        if left.get(slot.company_id) is not None:
            left[slot.company_id] -= 1
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
