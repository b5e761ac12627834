"""Job fairs: set a fair up, register bases at booths, invite candidates, plan the interviews in one go,
run the day (check-in, walk-ins, cancellations, withdrawals, re-planning, outcomes) and report on it.

Who sees what:
- organisers (and administrators) run the fairs of their bureau's area. For the candidates at a fair they
  see what running it needs: the public id, the name (to check people in and hand out schedules), the
  office, preferred courses and skills; never offence, risk, ID number, address or household registration;
- caseworkers see the invitations of candidates in their scope and answer them (attendance and consent);
- employers see their own booth's schedule, candidates on the pseudonymous card, and record outcomes there.

Every function owns its transaction; the planner is the pure `engine.fair`, fed by `build_problem`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections import Counter

import numpy as np
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from matcher import clock, policy, uow
from matcher.auth.models import Account, Role
from matcher.bases.models import Company
from matcher.candidates.models import Candidate, CandidateStatus, Consent, ConsentKind, PreferredCourse
from matcher.candidates.service import has_consent
from matcher.clock import today
from matcher.engine.assignment import priority_weights
from matcher.engine.eligibility import eligible_mask
from matcher.engine.fair import FairProblem, plan_fair
from matcher.engine.model import score
from matcher.errors import Conflict, Invalid, NotFound
from matcher.fairs.models import (
    Fair,
    FairBooth,
    FairInterview,
    FairInvitation,
    FairPlanRun,
    FairStatus,
    InterviewOutcome,
    InterviewStatus,
    InvitationSource,
    InvitationStatus,
)
from matcher.matching.adapters import candidate_rows, slot_rows
from matcher.matching.service import active_scorer, featurizer_for, key_subject_flags
from matcher.offices.models import JudicialOffice
from matcher.places.models import code_prefix
from matcher.reference.service import require_course
from matcher.referrals.lifecycle import IN_WORK, ReferralStatus
from matcher.referrals.models import Referral
from matcher.referrals.service import record_interview_result
from matcher.slots.models import Slot, SlotStatus

RUNNING = (Role.ADMINISTRATOR, Role.ORGANISER)
LIVE_INTERVIEW = (InterviewStatus.PLANNED, InterviewStatus.HELD)
COMING = (InvitationStatus.CONFIRMED,)
PLANNING_SECONDS = 6.0  # the solver's limit for the whole day (the target is 10 s end to end)
REPLANNING_SECONDS = 1.0  # the rest of the day, while people wait (target 2 s end to end)
# Why the planner left a confirmed candidate without an interview (engine.fair.REASONS, and `withdrawn`, told
# apart here: the engine sees a withdrawn booth as one with no places), in words an organiser can act on: one
# wording for the pages, the API and the Excel file.
UNPLACED_REASONS = {
    "no_eligible_booth": _l("No booth brings a slot this candidate may take (with \"preferred courses only\": in a "
                            "course they asked for): register a base with such a slot, or turn that option off."),
    "capacity": _l("The booths this candidate could go to are full in every block: raise their interviews per "
                   "block, or register more bases."),
    "withdrawn": _l("Every booth this candidate could go to has withdrawn for the rest of the day: register another "
                    "base with such a slot, or invite the candidate to a later fair."),
    "not_available": _l("No free block while this candidate's booths are open (they arrive late, or the booths "
                        "withdrew)."),
}


def reason_text(code: str, lang: str | None = None) -> str:
    """The reason in the page's language, or in `lang` ("zh" or "en")."""
    message = UNPLACED_REASONS.get(code)
    if message is None:
        return code
    if lang is None:
        return str(message)
    with force_locale("zh_CN" if lang == "zh" else "en"):
        return str(message)


OUTCOME_TO_REFERRAL = {
    InterviewOutcome.OFFER: ReferralStatus.OFFERED,
    InterviewOutcome.SECOND_INTERVIEW: ReferralStatus.INTERVIEW,
    InterviewOutcome.NO: ReferralStatus.DECLINED,
}


# ---- scope ------------------------------------------------------------------------------------

def get_fair(*, session: Session, actor: Account, fair_id: int) -> Fair:
    return policy.find(session, actor, policy.fairs(actor), Fair, fair_id, _l("No such job fair."),
                       object_type="fair")


def _run_fair(session: Session, actor: Account, fair_id: int, *, changing: bool = True,
              open_only: bool = False) -> Fair:
    """A fair the actor runs (organisers of its area, administrators); `changing` refuses cancelled fairs,
    `open_only` closed ones too (the day is over: its booths and attendance are history)."""
    policy.require(actor, policy.Rule.FAIR_RUN)
    fair = get_fair(session=session, actor=actor, fair_id=fair_id)
    if changing and fair.status == FairStatus.CANCELLED:
        raise Conflict(_l("This job fair was cancelled."))
    if open_only and fair.status != FairStatus.PREPARING:
        raise Conflict(_l("This job fair is closed."))
    return fair


def list_fairs(*, session: Session, actor: Account, filters: dict | None = None) -> Select:
    filters = filters or {}
    stmt = policy.fairs(actor)
    if filters.get("status"):
        stmt = stmt.where(Fair.status == filters["status"])
    if filters.get("upcoming") is True:
        stmt = stmt.where(Fair.held_on >= today())
    return stmt.order_by(Fair.held_on.desc(), Fair.id.desc())


# ---- the fair -----------------------------------------------------------------------------------

STRUCTURE = ("held_on", "starts_at", "block_minutes", "n_blocks", "max_interviews")


FAIR_RANGES = {"block_minutes": (5, 240), "n_blocks": (1, 48), "max_interviews": (1, 10),
               "key_subject_weight": (0, 10), "waiting_weight_per_year": (0, 10)}


def _check_ranges(data: dict, ranges: dict) -> None:
    """The rules the edges validate too, kept here so that no caller can reach a database constraint."""
    for key, (low, high) in ranges.items():
        if key in data and data[key] is not None and not low <= data[key] <= high:
            raise Invalid(_l("Must be between %(low)s and %(high)s.", low=low, high=high), field=key)


def create_fair(*, session: Session, actor: Account, data: dict) -> Fair:
    policy.require(actor, policy.Rule.FAIR_RUN)
    _check_ranges(data, FAIR_RANGES)
    if data["held_on"] < today():
        raise Invalid(_l("A job fair cannot be held in the past."), field="held_on")
    _check_day_fits(data["starts_at"], data.get("block_minutes", 30), data.get("n_blocks", 8))
    fair = Fair(bureau_code=actor.bureau_code, created_by_id=actor.id, **data)
    session.add(fair)
    uow.flush(session)
    return fair


def _check_day_fits(starts_at: dt.time, block_minutes: int, n_blocks: int) -> None:
    end = dt.datetime.combine(dt.date(2000, 1, 1), starts_at) + dt.timedelta(minutes=block_minutes * n_blocks)
    if end.date() != dt.date(2000, 1, 1):
        raise Invalid(_l("The fair's blocks must end on the same day (before midnight)."), field="n_blocks")


def update_fair(*, session: Session, actor: Account, fair_id: int, data: dict) -> Fair:
    """Name, venue and weights change any time; the day's shape only while nothing is planned."""
    fair = _run_fair(session, actor, fair_id)
    _check_ranges(data, FAIR_RANGES)
    changed = [key for key in STRUCTURE if key in data and data[key] != getattr(fair, key)]
    if changed and session.scalar(_live_interviews(fair.id).limit(1)) is not None:
        raise Conflict(_l("The fair already has an interview plan; its date, blocks and interviews per candidate "
                          "can no longer change."), field=changed[0])
    if "held_on" in data and data["held_on"] < today() and data["held_on"] != fair.held_on:
        raise Invalid(_l("A job fair cannot be held in the past."), field="held_on")
    merged = {key: data.get(key, getattr(fair, key)) for key in ("starts_at", "block_minutes", "n_blocks")}
    _check_day_fits(**merged)
    for key, value in data.items():
        setattr(fair, key, value)
    uow.flush(session)
    return fair


def set_status(*, session: Session, actor: Account, fair_id: int, status: FairStatus) -> Fair:
    """Close a fair after the day (outcomes can still be recorded), or cancel it (its plan is cancelled)."""
    fair = _run_fair(session, actor, fair_id)
    if status == fair.status:
        return fair
    if status == FairStatus.CANCELLED:
        if session.scalar(select(func.count()).where(FairInterview.fair_id == fair.id,
                                                     FairInterview.status == InterviewStatus.HELD)):
            raise Conflict(_l("Interviews were already held at this fair; close it instead."), field="status")
        _cancel_interviews(session, FairInterview.fair_id == fair.id)
    fair.status = status
    uow.flush(session)
    return fair


def current_block(fair: Fair, now: dt.datetime | None = None) -> int:
    """The block under way now (0 before the day, n_blocks after it): China time, as the fair's clock."""
    local = clock.in_china(now or clock.now()).replace(tzinfo=None)
    if local.date() < fair.held_on:
        return 0
    if local.date() > fair.held_on:
        return fair.n_blocks
    minutes = (local - dt.datetime.combine(fair.held_on, fair.starts_at)).total_seconds() / 60
    return int(min(max(minutes // fair.block_minutes, 0), fair.n_blocks))


def first_open_block(fair: Fair, now: dt.datetime | None = None) -> int:
    """Where a re-plan starts by default: the first block that has not begun yet."""
    local = clock.in_china(now or clock.now()).replace(tzinfo=None)
    start = dt.datetime.combine(fair.held_on, fair.starts_at)
    if local <= start:
        return 0
    return min(current_block(fair, now) + 1, fair.n_blocks)


# ---- booths -------------------------------------------------------------------------------------

def _booth(session: Session, fair: Fair, booth_id: int) -> FairBooth:
    booth = session.scalar(select(FairBooth).where(FairBooth.id == booth_id, FairBooth.fair_id == fair.id))
    if booth is None:
        raise NotFound(_l("No such booth at this fair."))
    return booth


def _booth_slots(session: Session, company: Company, slot_ids: list[int]) -> list[Slot]:
    if not slot_ids:
        raise Invalid(_l("Choose at least one of the base's open slots."), field="slot_ids")
    slots = list(session.scalars(select(Slot).where(Slot.id.in_(slot_ids))))
    by_id = {s.id: s for s in slots}
    for index, slot_id in enumerate(slot_ids):
        slot = by_id.get(slot_id)
        if slot is None or slot.company_id != company.id:
            raise Invalid(_l("This slot is not one of the base's."), field=f"slot_ids.{index}")
        if slot.status != SlotStatus.OPEN:
            raise Invalid(_l("This slot is not open."), field=f"slot_ids.{index}")
    return [by_id[i] for i in dict.fromkeys(slot_ids)]


def add_booth(*, session: Session, actor: Account, fair_id: int, data: dict) -> FairBooth:
    """Register a participating base: the slots it brings and how many interviews it holds per block."""
    fair = _run_fair(session, actor, fair_id, open_only=True)
    company = session.get(Company, data["company_id"])
    if company is None:
        raise Invalid(_l("No such base."), field="company_id")
    if not company.can_post_and_fill(fair.held_on):
        raise Conflict(_l("This base's certification is not in force on the day of the fair."), field="company_id")
    if session.scalar(select(FairBooth.id).where(FairBooth.fair_id == fair.id, FairBooth.company_id == company.id)):
        raise Conflict(_l("This base already has a booth at this fair."), field="company_id")
    slots = _booth_slots(session, company, data.get("slot_ids", []))
    _check_ranges(data, BOOTH_RANGES)
    label = _label(data.get("label")) or _next_label(session, fair)
    if session.scalar(select(FairBooth.id).where(FairBooth.fair_id == fair.id, FairBooth.label == label)):
        raise Conflict(_l("Another booth already has this number."), field="label")
    booth = FairBooth(fair_id=fair.id, company_id=company.id, label=label,
                      interviews_per_block=data.get("interviews_per_block", 1), slots=slots)
    session.add(booth)
    uow.flush(session)
    return booth


BOOTH_RANGES = {"interviews_per_block": (0, 20)}


def _label(text: str | None) -> str:
    label = (text or "").strip()
    if len(label) > 12:
        raise Invalid(_l("A booth number has at most 12 characters."), field="label")
    return label


def _next_label(session: Session, fair: Fair) -> str:
    taken = set(session.scalars(select(FairBooth.label).where(FairBooth.fair_id == fair.id)))
    number = len(taken) + 1
    while f"A{number:02d}" in taken:
        number += 1
    return f"A{number:02d}"


def update_booth(*, session: Session, actor: Account, fair_id: int, booth_id: int, data: dict) -> FairBooth:
    fair = _run_fair(session, actor, fair_id, open_only=True)
    booth = _booth(session, fair, booth_id)
    _check_ranges(data, BOOTH_RANGES)
    if "label" in data:
        label = _label(data["label"])
        if not label:
            raise Invalid(_l("Give the booth a number."), field="label")
        if session.scalar(select(FairBooth.id).where(FairBooth.fair_id == fair.id, FairBooth.label == label,
                                                     FairBooth.id != booth.id)):
            raise Conflict(_l("Another booth already has this number."), field="label")
        booth.label = label
    if "slot_ids" in data:
        booth.slots = _booth_slots(session, booth.company, data["slot_ids"])
    if "interviews_per_block" in data:
        new = data["interviews_per_block"]
        busiest = session.execute(
            select(FairInterview.block, func.count()).where(FairInterview.booth_id == booth.id,
                                                            FairInterview.status.in_(LIVE_INTERVIEW))
            .group_by(FairInterview.block).order_by(func.count().desc()).limit(1)).first()
        if busiest is not None and busiest[1] > new:
            raise Conflict(_l("%(n)s interviews are planned at this booth in one block; withdraw the booth from "
                              "a block or re-plan before lowering its capacity.", n=busiest[1]),
                           field="interviews_per_block")
        booth.interviews_per_block = new
    uow.flush(session)
    return booth


def withdraw_booth(*, session: Session, actor: Account, fair_id: int, booth_id: int, from_block: int | None,
                   reason: str) -> FairBooth:
    """A base that leaves (or never comes): no interviews there from `from_block` on (default: the first block
    not yet begun); its planned interviews are cancelled, for a re-plan to send people elsewhere."""
    fair = _run_fair(session, actor, fair_id, open_only=True)
    booth = _booth(session, fair, booth_id)
    start = first_open_block(fair) if from_block is None else from_block
    if not 0 <= start <= fair.n_blocks:
        raise Invalid(_l("The block must be between 0 and %(n)s.", n=fair.n_blocks), field="from_block")
    booth.withdrawn_from_block, booth.withdrawn_reason = start, reason
    _cancel_interviews(session, FairInterview.booth_id == booth.id, FairInterview.block >= start)
    uow.flush(session)
    return booth


def remove_booth(*, session: Session, actor: Account, fair_id: int, booth_id: int) -> None:
    """Take a booth off the list before anything happened there (afterwards: withdraw it)."""
    fair = _run_fair(session, actor, fair_id, open_only=True)
    booth = _booth(session, fair, booth_id)
    if session.scalar(select(FairInterview.id).where(FairInterview.booth_id == booth.id).limit(1)):
        raise Conflict(_l("This booth is in the interview plan; withdraw it instead."))
    session.delete(booth)
    uow.flush(session)


# ---- invitations --------------------------------------------------------------------------------

def _pool(actor: Account, fair: Fair) -> Select:
    """Candidates an organiser may invite: seeking work, living in the fair's area."""
    return select(Candidate).where(Candidate.status.in_([CandidateStatus.PRE_RELEASE, CandidateStatus.ACTIVE]),
                                   Candidate.residence_code.startswith(code_prefix(fair.bureau_code)))


def invite(*, session: Session, actor: Account, fair_id: int, data: dict) -> dict:
    """Invite candidates by office, by preferred course, by readiness, or one by one (public ids). All given
    filters apply together. Already invited candidates are skipped. `dry_run` only counts."""
    fair = _run_fair(session, actor, fair_id)
    if fair.status != FairStatus.PREPARING:
        raise Conflict(_l("This job fair is closed."))
    stmt = _pool(actor, fair)
    source = InvitationSource.SINGLE
    public_ids = [p.strip().upper() for p in data.get("public_ids") or [] if p.strip()]
    if public_ids:
        found = dict(session.execute(stmt.with_only_columns(Candidate.public_id, Candidate.id)
                                     .where(Candidate.public_id.in_(public_ids))).all())
        for index, public_id in enumerate(public_ids):
            if public_id not in found:
                raise Invalid(_l("No candidate seeking work in this fair's area has this number."),
                              field=f"public_ids.{index}")
        stmt = stmt.where(Candidate.id.in_(found.values()))
    if data.get("office_ids"):
        offices = set(session.scalars(select(JudicialOffice.id).where(
            JudicialOffice.id.in_(data["office_ids"]),
            JudicialOffice.township_code.startswith(code_prefix(fair.bureau_code)))))
        for index, office_id in enumerate(data["office_ids"]):
            if office_id not in offices:
                raise Invalid(_l("No such judicial office."), field=f"office_ids.{index}")
        stmt = stmt.where(Candidate.office_id.in_(data["office_ids"]))
        source = InvitationSource.OFFICE
    if data.get("course"):
        require_course(session, data["course"], "course")
        stmt = stmt.where(Candidate.id.in_(select(PreferredCourse.candidate_id)
                                           .where(PreferredCourse.course_code == data["course"])))
        source = InvitationSource.COURSE
    if data.get("ready"):
        # Ready: released, free to start by the day of the fair, and not already in work or on the way to it.
        engaged = select(Referral.candidate_id).where(Referral.status.in_(
            [ReferralStatus.ACCEPTED, ReferralStatus.STARTED, ReferralStatus.STAYED_30, ReferralStatus.STAYED_90,
             ReferralStatus.STAYED_180]))
        stmt = stmt.where(Candidate.status == CandidateStatus.ACTIVE, Candidate.release_date <= fair.held_on,
                          or_(Candidate.earliest_start.is_(None), Candidate.earliest_start <= fair.held_on),
                          Candidate.id.not_in(engaged))
        source = InvitationSource.READINESS
    if not (public_ids or data.get("office_ids") or data.get("course") or data.get("ready")):
        raise Invalid(_l("Say whom to invite: offices, a course, ready candidates or candidate numbers."),
                      field="public_ids")
    if public_ids:
        source = InvitationSource.SINGLE
    already = select(FairInvitation.candidate_id).where(FairInvitation.fair_id == fair.id)
    ids = list(session.scalars(stmt.with_only_columns(Candidate.id).where(Candidate.id.not_in(already))
                               .order_by(Candidate.id)))
    skipped = session.scalar(select(func.count()).select_from(
        stmt.with_only_columns(Candidate.id).where(Candidate.id.in_(already)).subquery()))
    if not data.get("dry_run"):
        session.add_all([FairInvitation(fair_id=fair.id, candidate_id=cid, source=source, invited_by_id=actor.id)
                         for cid in ids])
        uow.flush(session)
    return {"invited": len(ids), "already_invited": int(skipped or 0), "dry_run": bool(data.get("dry_run"))}


def list_invitations(*, session: Session, actor: Account, filters: dict) -> Select:
    """A fair's invitations (organisers), or the invitations of a caseworker's candidates."""
    policy.require(actor, policy.Rule.FAIR_INVITATIONS_READ)
    stmt = policy.invitations(actor)
    if filters.get("fair_id") is not None:
        stmt = stmt.where(FairInvitation.fair_id == filters["fair_id"])
    if filters.get("status"):
        stmt = stmt.where(FairInvitation.status == filters["status"])
    if filters.get("checked_in") is not None:
        stmt = stmt.where(FairInvitation.checked_in_at.is_not(None) if filters["checked_in"]
                          else FairInvitation.checked_in_at.is_(None))
    if filters.get("q"):
        q = filters["q"].strip()
        stmt = stmt.join(Candidate, Candidate.id == FairInvitation.candidate_id).where(
            or_(Candidate.public_id == q.upper(), Candidate.name.startswith(q, autoescape=True)))
    if filters.get("upcoming") is True:
        stmt = stmt.where(Fair.held_on >= today())
    return stmt.order_by(Fair.held_on, FairInvitation.id)


def get_invitation(*, session: Session, actor: Account, invitation_id: int) -> FairInvitation:
    policy.require(actor, policy.Rule.FAIR_INVITATIONS_READ)
    return policy.find(session, actor, policy.invitations(actor), FairInvitation, invitation_id,
                       _l("No such invitation."), object_type="fair_invitation")


def _record_referral_consent(session: Session, actor: Account, candidate: Candidate, note: str) -> None:
    if not has_consent(session, candidate.id, ConsentKind.REFERRAL):
        session.add(Consent(candidate_id=candidate.id, kind=ConsentKind.REFERRAL, granted=True, recorded_on=today(),
                            note=note, recorded_by_id=actor.id))


def answer_invitation(*, session: Session, actor: Account, invitation_id: int, attending: bool,
                      consent: bool = False, note: str | None = None) -> FairInvitation:
    """The caseworker of the file confirms that the candidate will come and consents to being interviewed by the
    bases there (recorded as the referral consent, if not already in force), or says they will not come."""
    policy.require(actor, policy.Rule.FAIR_INVITATION_ANSWER)
    invitation = get_invitation(session=session, actor=actor, invitation_id=invitation_id)
    if actor.role == Role.CASEWORKER and invitation.candidate.office_id != actor.office_id:
        raise NotFound(_l("No such invitation."))  # the household-registration office reads, does not answer
    fair = session.get(Fair, invitation.fair_id)
    if fair.status != FairStatus.PREPARING:
        raise Conflict(_l("This job fair is closed."))
    if invitation.status == InvitationStatus.CANCELLED:
        raise Conflict(_l("This invitation was cancelled."))
    if attending:
        if not consent and not has_consent(session, invitation.candidate_id, ConsentKind.REFERRAL):
            raise Invalid(_l("Record the candidate's consent to be interviewed by the bases at the fair."),
                          field="consent")
        _record_referral_consent(session, actor, invitation.candidate, f"job fair #{fair.id}")
        invitation.status = InvitationStatus.CONFIRMED
    else:
        invitation.status = InvitationStatus.DECLINED
        _cancel_interviews(session, FairInterview.invitation_id == invitation.id,
                           FairInterview.status == InterviewStatus.PLANNED)
    invitation.answered_by_id, invitation.answered_at, invitation.answer_note = actor.id, clock.now(), note
    uow.flush(session)
    return invitation


def cancel_invitation(*, session: Session, actor: Account, invitation_id: int, reason: str | None = None
                      ) -> FairInvitation:
    """A late cancellation (by the organiser or the candidate's caseworker): the candidate's interviews still to
    come are cancelled; those already held stay."""
    policy.require(actor, policy.Rule.FAIR_INVITATIONS_READ)
    invitation = get_invitation(session=session, actor=actor, invitation_id=invitation_id)
    if actor.role == Role.CASEWORKER and invitation.candidate.office_id != actor.office_id:
        raise NotFound(_l("No such invitation."))  # the household-registration office reads, does not answer
    if session.get(Fair, invitation.fair_id).status != FairStatus.PREPARING:
        raise Conflict(_l("This job fair is closed."))
    invitation.status = InvitationStatus.CANCELLED
    invitation.answer_note = reason or invitation.answer_note
    invitation.answered_by_id, invitation.answered_at = actor.id, clock.now()
    _cancel_interviews(session, FairInterview.invitation_id == invitation.id,
                       FairInterview.status == InterviewStatus.PLANNED)
    uow.flush(session)
    return invitation


def check_in(*, session: Session, actor: Account, fair_id: int, invitation_id: int, undo: bool = False
             ) -> FairInvitation:
    fair = _run_fair(session, actor, fair_id, open_only=True)
    invitation = _invitation_at(session, fair, invitation_id)
    if invitation.status != InvitationStatus.CONFIRMED:
        raise Conflict(_l("Only a confirmed candidate can be checked in."), field="invitation_id")
    invitation.checked_in_at = None if undo else (invitation.checked_in_at or clock.now())
    uow.flush(session)
    return invitation


def _invitation_at(session: Session, fair: Fair, invitation_id: int) -> FairInvitation:
    invitation = session.scalar(select(FairInvitation).where(FairInvitation.id == invitation_id,
                                                             FairInvitation.fair_id == fair.id))
    if invitation is None:
        raise NotFound(_l("No such invitation."))
    return invitation


def add_walk_in(*, session: Session, actor: Account, fair_id: int, public_id: str, consent: bool,
                arrives_block: int | None = None) -> FairInvitation:
    """Someone who came without an invitation: identified by the number on their file, consent given in person;
    checked in at once, available from `arrives_block` (default: the first block not yet begun)."""
    fair = _run_fair(session, actor, fair_id)
    if fair.status != FairStatus.PREPARING:
        raise Conflict(_l("This job fair is closed."))
    candidate = session.scalar(_pool(actor, fair).where(Candidate.public_id == public_id.strip().upper()))
    if candidate is None:
        raise Invalid(_l("No candidate seeking work in this fair's area has this number."), field="public_id")
    if not consent and not has_consent(session, candidate.id, ConsentKind.REFERRAL):
        raise Invalid(_l("Record the candidate's consent to be interviewed by the bases at the fair."),
                      field="consent")
    block = first_open_block(fair) if arrives_block is None else arrives_block
    if not 0 <= block < fair.n_blocks:
        raise Invalid(_l("The block must be between 0 and %(n)s.", n=fair.n_blocks - 1), field="arrives_block")
    _record_referral_consent(session, actor, candidate, f"job fair #{fair.id}, in person")
    invitation = session.scalar(select(FairInvitation).where(FairInvitation.fair_id == fair.id,
                                                             FairInvitation.candidate_id == candidate.id))
    if invitation is None:
        invitation = FairInvitation(fair_id=fair.id, candidate_id=candidate.id, source=InvitationSource.WALK_IN,
                                    invited_by_id=actor.id)
        session.add(invitation)
    elif invitation.status == InvitationStatus.CONFIRMED and invitation.checked_in_at is not None:
        raise Conflict(_l("This candidate is already checked in."), field="public_id")
    elif invitation.status != InvitationStatus.CONFIRMED:
        invitation.source = InvitationSource.WALK_IN  # invited, but came without confirming: counted as walk-in
    invitation.status = InvitationStatus.CONFIRMED
    invitation.arrives_block = block
    invitation.answered_by_id, invitation.answered_at = actor.id, clock.now()
    invitation.checked_in_at = clock.now()
    uow.flush(session)
    return invitation


# ---- planning -----------------------------------------------------------------------------------

def _live_interviews(fair_id: int) -> Select:
    return select(FairInterview).where(FairInterview.fair_id == fair_id, FairInterview.status.in_(LIVE_INTERVIEW))


def _cancel_interviews(session: Session, *conditions) -> int:
    rows = list(session.scalars(select(FairInterview).where(FairInterview.status == InterviewStatus.PLANNED,
                                                             *conditions)))
    for row in rows:
        row.status = InterviewStatus.CANCELLED
    return len(rows)


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
    """Every (candidate row, booth row) pair with a value: eligible for one of the booth's slots, scored."""
    ecand, ebooth, evalue = [], [], []
    pair_slot: dict[tuple[int, int], int] = {}
    pair_score: dict[tuple[int, int], float] = {}
    slot_ids = sorted({s.id for b in booths for s in b.slots})
    if not attendees or not slot_ids:
        return ecand, ebooth, evalue, pair_slot, pair_score
    n_c = len(attendees)
    booth_row = {b.id: j for j, b in enumerate(booths)}
    cands = candidate_rows(session, select(Candidate).where(Candidate.id.in_([a.candidate_id for a in attendees])))
    slots = slot_rows(session, select(Slot).where(Slot.id.in_(slot_ids)), horizon_days=scorer.horizon_days,
                      as_of=fair.held_on)
    c_rows = np.array([cands.row_of[a.candidate_id] for a in attendees], dtype=np.int64)
    booth_of_slot = [(booth_row[b.id], slots.row_of[s.id]) for b in booths for s in b.slots]
    pb = np.array([x[0] for x in booth_of_slot], dtype=np.int64)
    ps = np.array([x[1] for x in booth_of_slot], dtype=np.int64)
    ci = np.repeat(np.arange(n_c), len(ps))
    bi, si = np.tile(pb, n_c), np.tile(ps, n_c)
    mask = eligible_mask(cands.table, slots.table, c_rows[ci], si, fair.held_on.toordinal())
    if fair.preferred_courses_only:
        mask &= _in_preferred_course(cands.table.preferred_courses, slots.table.course, c_rows[ci], si)
    ci, bi, si = ci[mask], bi[mask], si[mask]
    if not len(ci):
        return ecand, ebooth, evalue, pair_slot, pair_score
    featurizer = featurizer_for(session, cands.table, slots.table)
    p = score(scorer, featurizer, c_rows[ci], si)
    keys = key_subject_flags(session, np.array([a.candidate_id for a in attendees], dtype=np.int64))
    waiting = np.maximum(0, fair.held_on.toordinal() - cands.table.available_from[c_rows])
    weights = priority_weights(keys, waiting, key_subject_weight=fair.key_subject_weight,
                               waiting_weight_per_year=fair.waiting_weight_per_year)
    best: dict[tuple[int, int], tuple[float, float, int]] = {}
    for c, b, s, prob in zip(ci.tolist(), bi.tolist(), si.tolist(), p.tolist(), strict=True):
        if prob > best.get((c, b), (-1.0, 0.0, 0))[0]:
            best[c, b] = (prob, prob * float(weights[c]), int(slots.table.ids[s]))
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
        fair = _run_fair(session, actor, fair_id)
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
    fair = _run_fair(session, actor, fair_id, changing=False)
    return list(session.scalars(select(FairPlanRun).where(FairPlanRun.fair_id == fair.id)
                                .order_by(FairPlanRun.id.desc())))


# ---- the schedule -------------------------------------------------------------------------------

def schedule(*, session: Session, actor: Account, fair_id: int, booth_id: int | None = None,
             invitation_id: int | None = None, block: int | None = None,
             invitation_ids: list[int] | None = None) -> list[FairInterview]:
    """The live interviews (planned and held), by block and booth. Employers get their own booth's only."""
    fair = get_fair(session=session, actor=actor, fair_id=fair_id)
    stmt = select(FairInterview).where(FairInterview.fair_id == fair.id,
                                       FairInterview.status.in_([*LIVE_INTERVIEW, InterviewStatus.NO_SHOW]))
    if actor.role == Role.EMPLOYER:
        stmt = stmt.join(FairBooth, FairBooth.id == FairInterview.booth_id).where(
            FairBooth.company_id == actor.company_id)
    elif actor.role == Role.CASEWORKER:
        scoped = policy.candidate_ids(actor)
        stmt = stmt.join(FairInvitation, FairInvitation.id == FairInterview.invitation_id).where(
            FairInvitation.candidate_id.in_(scoped))
    if booth_id is not None:
        stmt = stmt.where(FairInterview.booth_id == booth_id)
    if invitation_id is not None:
        stmt = stmt.where(FairInterview.invitation_id == invitation_id)
    if invitation_ids is not None:
        stmt = stmt.where(FairInterview.invitation_id.in_(invitation_ids))
    if block is not None:
        stmt = stmt.where(FairInterview.block == block)
    return list(session.scalars(stmt.order_by(FairInterview.block, FairInterview.booth_id, FairInterview.id)))


def get_interview(*, session: Session, actor: Account, interview_id: int) -> FairInterview:
    """An interview the actor may record: at a fair they run, or (employers) at their own booth."""
    stmt = select(FairInterview).where(FairInterview.id == interview_id)
    if actor.role in RUNNING:
        stmt = stmt.where(FairInterview.fair_id.in_(policy.fairs(actor).with_only_columns(Fair.id)))
    elif actor.role == Role.EMPLOYER:
        stmt = stmt.where(FairInterview.booth_id.in_(select(FairBooth.id).where(
            FairBooth.company_id == actor.company_id)))
    else:
        stmt = stmt.where(False)
    interview = session.scalar(stmt)
    if interview is None:
        raise NotFound(_l("No such interview."))
    return interview


def record_outcome(*, session: Session, actor: Account, interview_id: int, outcome: str,
                   note: str | None = None) -> FairInterview:
    """What came of an interview, recorded at the booth: an offer, a second interview, no, or the candidate did
    not come. Offers and second interviews create or advance the candidate's referral to the slot; a "no" ends a
    live one. Can be corrected until a referral moved on from it."""
    policy.require(actor, policy.Rule.FAIR_OUTCOME)
    interview = get_interview(session=session, actor=actor, interview_id=interview_id)
    fair = session.get(Fair, interview.fair_id)
    if fair.status == FairStatus.CANCELLED:
        raise Conflict(_l("This job fair was cancelled."))
    if interview.status == InterviewStatus.CANCELLED:
        raise Conflict(_l("This interview was cancelled by a re-plan."), field="outcome")
    if interview.status == InterviewStatus.HELD:
        raise Conflict(_l("An outcome is already recorded for this interview."), field="outcome")
    if outcome == InterviewStatus.NO_SHOW.value:
        interview.status, interview.outcome = InterviewStatus.NO_SHOW, None
    else:
        if interview.status == InterviewStatus.NO_SHOW:
            _require_place_free(session, interview)
        result = InterviewOutcome(outcome)
        where = f"job fair #{fair.id} ({fair.held_on.isoformat()}), booth {interview.booth.label}"
        # The booth's words: a base's are shared with the office; an organiser's stay with the bureau.
        by_base = actor.role == Role.EMPLOYER
        internal = f"{where}: {note}"[:500] if note and not by_base else where
        shared = note[:500] if note and by_base else None
        if result != InterviewOutcome.NO and not has_consent(session, interview.invitation.candidate_id,
                                                             ConsentKind.REFERRAL):
            raise Conflict(_l("The candidate has withdrawn the consent to being referred to bases."),
                           field="outcome")
        can_refer = interview.slot.status == SlotStatus.OPEN and interview.slot.company.can_post_and_fill()
        if result != InterviewOutcome.NO and not can_refer:
            raise Conflict(_l("This slot is no longer open, so no referral can follow; record the outcome as no, "
                              "or ask the base to reopen it."), field="outcome")
        on_date = min(fair.held_on, today())
        referral = record_interview_result(session, actor, candidate_id=interview.invitation.candidate_id,
                                           slot_id=interview.slot_id, to=OUTCOME_TO_REFERRAL[result],
                                           on_date=on_date, internal_note=internal, shared_note=shared)
        interview.referral_id = referral.id if referral is not None else None
        interview.status, interview.outcome = InterviewStatus.HELD, result
    interview.outcome_note, interview.outcome_by_id, interview.outcome_at = note, actor.id, clock.now()
    try:
        uow.flush(session)
    except IntegrityError:
        raise Conflict(_l("The candidate has another interview in this block; re-plan first."),
                       field="outcome") from None
    return interview


def undo_outcome(*, session: Session, actor: Account, interview_id: int) -> FairInterview:
    """Correct a no-show (tapped by mistake) back to planned. Held interviews have moved a referral: their
    correction goes through the referral."""
    policy.require(actor, policy.Rule.FAIR_OUTCOME)
    interview = get_interview(session=session, actor=actor, interview_id=interview_id)
    if interview.status != InterviewStatus.NO_SHOW:
        raise Conflict(_l("Only a no-show can be undone here; a recorded outcome is corrected on the referral."),
                       field="outcome")
    _require_place_free(session, interview)
    interview.status, interview.outcome_note, interview.outcome_by_id, interview.outcome_at = (
        InterviewStatus.PLANNED, None, None, None)
    uow.flush(session)
    return interview


def _require_place_free(session: Session, interview: FairInterview) -> None:
    """A no-show coming back to life (undone, or the candidate came late after all) needs its place: a re-plan
    may have given the candidate's block, or the booth's seat in it, to someone else."""
    live = (FairInterview.id != interview.id, FairInterview.status.in_(LIVE_INTERVIEW))
    clash = session.scalar(select(func.count()).where(
        *live, FairInterview.invitation_id == interview.invitation_id,
        or_(FairInterview.block == interview.block, FairInterview.booth_id == interview.booth_id)))
    taken = session.scalar(select(func.count()).where(
        *live, FairInterview.booth_id == interview.booth_id, FairInterview.block == interview.block))
    if clash or taken >= interview.booth.capacity(interview.block):
        raise Conflict(_l("A re-plan has given this place to another interview since; it cannot come back."),
                       field="outcome")


# ---- the report -----------------------------------------------------------------------------------

def report(*, session: Session, actor: Account, fair_id: int) -> dict:
    """After the fair: attendance, interviews held, outcomes, and what became of the referrals since
    (accepted, started, staying), overall and per booth. Every figure is a count over the fair's rows."""
    fair = _run_fair(session, actor, fair_id, changing=False)
    # Invitations and walk-ins are counted apart: the invited funnel (invited -> confirmed -> came) is the
    # attendance rate; walk-ins add to who came.
    invited_only = (FairInvitation.fair_id == fair.id, FairInvitation.source != InvitationSource.WALK_IN)
    invitations = dict(session.execute(select(FairInvitation.status, func.count()).where(*invited_only)
                                       .group_by(FairInvitation.status)).all())
    came_invited = session.scalar(select(func.count()).where(*invited_only,
                                                             FairInvitation.checked_in_at.is_not(None))) or 0
    walk_ins = session.scalar(select(func.count()).where(FairInvitation.fair_id == fair.id,
                                                         FairInvitation.source == InvitationSource.WALK_IN)) or 0
    by_status = dict(session.execute(select(FairInterview.status, func.count()).where(
        FairInterview.fair_id == fair.id).group_by(FairInterview.status)).all())
    outcomes = dict(session.execute(select(FairInterview.outcome, func.count()).where(
        FairInterview.fair_id == fair.id, FairInterview.status == InterviewStatus.HELD)
        .group_by(FairInterview.outcome)).all())
    referral_ids = select(FairInterview.referral_id).where(FairInterview.fair_id == fair.id,
                                                          FairInterview.referral_id.is_not(None))
    referrals = dict(session.execute(select(Referral.status, func.count()).where(Referral.id.in_(referral_ids))
                                     .group_by(Referral.status)).all())
    started = sum(referrals.get(s, 0) for s in IN_WORK)
    left_after_start = session.scalar(select(func.count()).where(
        Referral.id.in_(referral_ids), Referral.status == ReferralStatus.LEFT, Referral.started_on.is_not(None))) or 0
    booths = []
    for booth in fair.booths:
        rows = session.execute(select(FairInterview.status, FairInterview.outcome, FairInterview.referral_id)
                               .where(FairInterview.booth_id == booth.id)).all()
        ref_ids = [r.referral_id for r in rows if r.referral_id]
        booth_started = session.scalar(select(func.count()).where(
            Referral.id.in_(ref_ids), Referral.started_on.is_not(None))) if ref_ids else 0
        booths.append({
            "booth_id": booth.id, "label": booth.label, "company_id": booth.company_id,
            "company_name": booth.company.name, "withdrawn": booth.withdrawn_from_block is not None,
            "planned": sum(1 for r in rows if r.status in LIVE_INTERVIEW or r.status == InterviewStatus.NO_SHOW),
            "held": sum(1 for r in rows if r.status == InterviewStatus.HELD),
            "no_show": sum(1 for r in rows if r.status == InterviewStatus.NO_SHOW),
            "offers": sum(1 for r in rows if r.outcome == InterviewOutcome.OFFER),
            "second_interviews": sum(1 for r in rows if r.outcome == InterviewOutcome.SECOND_INTERVIEW),
            "rejections": sum(1 for r in rows if r.outcome == InterviewOutcome.NO),
            "started": int(booth_started or 0),
        })
    confirmed = invitations.get(InvitationStatus.CONFIRMED, 0)
    run = latest_run(session, fair.id)
    return {
        "fair_id": fair.id,
        "invited": sum(invitations.values()),
        "confirmed": confirmed,
        "declined": invitations.get(InvitationStatus.DECLINED, 0),
        "cancelled": invitations.get(InvitationStatus.CANCELLED, 0),
        "waiting_for_answer": invitations.get(InvitationStatus.INVITED, 0),
        "checked_in": came_invited + walk_ins,
        "checked_in_invited": came_invited,
        "walk_ins": walk_ins,
        "attendance_rate": round(came_invited / confirmed, 4) if confirmed else None,
        "interviews_planned": by_status.get(InterviewStatus.PLANNED, 0) + by_status.get(InterviewStatus.HELD, 0)
        + by_status.get(InterviewStatus.NO_SHOW, 0),
        "interviews_held": by_status.get(InterviewStatus.HELD, 0),
        "no_shows": by_status.get(InterviewStatus.NO_SHOW, 0),
        "offers": outcomes.get(InterviewOutcome.OFFER, 0),
        "second_interviews": outcomes.get(InterviewOutcome.SECOND_INTERVIEW, 0),
        "rejections": outcomes.get(InterviewOutcome.NO, 0),
        "referrals": {status.value: n for status, n in referrals.items()},
        "accepted": referrals.get(ReferralStatus.ACCEPTED, 0) + started + left_after_start,
        "started": started + left_after_start,
        "staying_90": referrals.get(ReferralStatus.STAYED_90, 0) + referrals.get(ReferralStatus.STAYED_180, 0),
        "expected_stays": round(json.loads(run.summary_json).get("expected_stays", 0.0), 3) if run else None,
        "booths": booths,
    }


def fair_overview(*, session: Session, actor: Account, fair_id: int) -> dict:
    """Counts for the fair's page: booths, invitations by status, the latest plan."""
    fair = _run_fair(session, actor, fair_id, changing=False)
    invitations = dict(session.execute(select(FairInvitation.status, func.count()).where(
        FairInvitation.fair_id == fair.id).group_by(FairInvitation.status)).all())
    run = latest_run(session, fair.id)
    return {
        "booths": len(fair.booths),
        "booths_withdrawn": sum(1 for b in fair.booths if b.withdrawn_from_block is not None),
        "capacity": sum(b.capacity(t) for b in fair.booths for t in range(fair.n_blocks)),
        "invitations": {s.value: invitations.get(s, 0) for s in InvitationStatus},
        "checked_in": session.scalar(select(func.count()).where(FairInvitation.fair_id == fair.id,
                                                                FairInvitation.checked_in_at.is_not(None))) or 0,
        "interviews": session.scalar(select(func.count()).select_from(_live_interviews(fair.id).subquery())),
        "run": run,
        "summary": json.loads(run.summary_json) if run else None,
        "current_block": current_block(fair),
        "first_open_block": first_open_block(fair),
    }


def unplaced(session: Session, run: FairPlanRun | None) -> list[tuple[FairInvitation, str]]:
    """The candidates the latest plan could not place, with the reason code."""
    if run is None:
        return []
    reasons = json.loads(run.summary_json).get("unplaced", {})
    if not reasons:
        return []
    rows = session.scalars(select(FairInvitation).where(FairInvitation.id.in_([int(k) for k in reasons]))
                           .order_by(FairInvitation.id))
    return [(inv, reasons[str(inv.id)]) for inv in rows]

