"""The day's schedule: who is interviewed where and when, and what came of each interview."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from matcher import clock, policy, uow
from matcher.auth.models import Account, Role
from matcher.candidates.models import ConsentKind
from matcher.candidates.service import has_consent
from matcher.clock import today
from matcher.errors import Conflict, NotFound
from matcher.fairs.models import (
    Fair,
    FairBooth,
    FairInterview,
    FairInvitation,
    FairStatus,
    InterviewOutcome,
    InterviewStatus,
)
from matcher.fairs.service.fairs import LIVE_INTERVIEW, RUNNING, get_fair, require_the_day
from matcher.referrals.lifecycle import ReferralStatus
from matcher.referrals.service import record_interview_result
from matcher.slots.models import SlotStatus

OUTCOME_TO_REFERRAL = {
    InterviewOutcome.OFFER: ReferralStatus.OFFERED,
    InterviewOutcome.SECOND_INTERVIEW: ReferralStatus.INTERVIEW,
    InterviewOutcome.NO: ReferralStatus.DECLINED,
}



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
    require_the_day(fair, field="outcome")
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
    uow.flush_or(Conflict(_l("The candidate has another interview in this block; re-plan first."),
                          field="outcome"), session)
    uow.flush(session)
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
