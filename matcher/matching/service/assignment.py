"""Batch assignment: an optimal plan of candidates to open slots kept as a draft, and the draft's
confirmation (proposed referrals) or discarding."""

from __future__ import annotations

import json

import numpy as np
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, exists, select, update
from sqlalchemy.orm import Session

from matcher import clock, policy, uow
from matcher.auth.models import Account, Role
from matcher.bases import answers
from matcher.candidates.models import Candidate, CandidateStatus
from matcher.clock import today
from matcher.engine.assignment import AssignmentProblem, greedy, solve
from matcher.errors import Conflict, Invalid
from matcher.matching import pipeline
from matcher.matching.adapters import chunks
from matcher.matching.models import AssignmentDraft, AssignmentDraftItem, DraftStatus
from matcher.matching.service.registry import active_scorer, report_progress
from matcher.places.models import code_prefix
from matcher.referrals.lifecycle import ENDED, ReferralStatus
from matcher.referrals.models import Referral, ReferralEvent
from matcher.slots.models import Slot, SlotStatus


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
    plan = solve(problem)
    baseline = greedy(problem)
    chosen = np.asarray(plan.chosen_edges, dtype=np.int64)
    report_progress(progress, 3, 4, "Saving the plan")
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
            "model_kind": scorer.kind, "tie_levels": plan.tie_levels, "bases_capped": capped_bases, **named,
        }))
    draft.items = [AssignmentDraftItem(candidate_id=int(cands.table.ids[c_idx[e]]),
                                       slot_id=int(slots.table.ids[s_idx[e]]),
                                       score=float(p[e]), value=float(value[e])) for e in chosen]
    session.add(draft)
    uow.flush(session)
    return draft


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
