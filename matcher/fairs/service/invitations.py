"""Who comes to a fair: invitations, their answers and cancellations, check-in and walk-ins."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from matcher import clock, policy, uow
from matcher.auth.models import Account, Role
from matcher.candidates.models import Candidate, CandidateStatus, Consent, ConsentKind, PreferredCourse
from matcher.candidates.service import has_consent
from matcher.clock import today
from matcher.errors import Conflict, Invalid, NotFound
from matcher.fairs.models import (
    Fair,
    FairInterview,
    FairInvitation,
    FairStatus,
    InterviewStatus,
    InvitationSource,
    InvitationStatus,
)
from matcher.fairs.service.fairs import cancel_interviews, first_open_block, require_the_day, run_fair
from matcher.offices.models import JudicialOffice
from matcher.places.models import code_prefix
from matcher.reference.service import require_course
from matcher.referrals.lifecycle import ReferralStatus
from matcher.referrals.models import Referral


def _pool(actor: Account, fair: Fair) -> Select:
    """Candidates an organiser may invite: seeking work, living in the fair's area."""
    return select(Candidate).where(Candidate.status.in_([CandidateStatus.PRE_RELEASE, CandidateStatus.ACTIVE]),
                                   Candidate.residence_code.startswith(code_prefix(fair.bureau_code)))


def invite(*, session: Session, actor: Account, fair_id: int, data: dict) -> dict:
    """Invite candidates by office, by preferred course, by readiness, or one by one (public ids). All given
    filters apply together. Already invited candidates are skipped. `dry_run` only counts."""
    fair = run_fair(session, actor, fair_id, open_only=True)
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


# How a list of invitations may be sorted: the column, and its tie-breaker (the invitation's order).
INVITATION_SORTS = ("invited", "number", "name", "office", "status")


def list_invitations(*, session: Session, actor: Account, filters: dict) -> Select:
    """A fair's invitations (organisers), or the invitations of a caseworker's candidates. `q` finds any part of a
    name or of a candidate number; `office_id` one office's; `sort` (INVITATION_SORTS) with `descending`."""
    policy.require(actor, policy.Rule.FAIR_INVITATIONS_READ)
    stmt = policy.invitations(actor)
    if filters.get("fair_id") is not None:
        stmt = stmt.where(FairInvitation.fair_id == filters["fair_id"])
    if filters.get("status"):
        stmt = stmt.where(FairInvitation.status == filters["status"])
    if filters.get("checked_in") is not None:
        stmt = stmt.where(FairInvitation.checked_in_at.is_not(None) if filters["checked_in"]
                          else FairInvitation.checked_in_at.is_(None))
    sort = filters.get("sort") or "invited"
    joined = bool(filters.get("q") or filters.get("office_id") or sort in ("number", "name", "office"))
    if joined:
        stmt = stmt.join(Candidate, Candidate.id == FairInvitation.candidate_id)
    if filters.get("q"):
        q = filters["q"].strip()
        stmt = stmt.where(or_(Candidate.public_id.contains(q.upper(), autoescape=True),
                              Candidate.name.contains(q, autoescape=True)))
    if filters.get("office_id"):
        stmt = stmt.where(Candidate.office_id == filters["office_id"])
    if filters.get("upcoming") is True:
        stmt = stmt.where(Fair.held_on >= today())
    if sort == "office":
        stmt = stmt.join(JudicialOffice, JudicialOffice.id == Candidate.office_id)
    column = {"invited": FairInvitation.id, "number": Candidate.public_id, "name": Candidate.name,
              "office": JudicialOffice.name, "status": FairInvitation.status}.get(sort, FairInvitation.id)
    column = column.desc() if filters.get("descending") else column.asc()
    return stmt.order_by(Fair.held_on, column, FairInvitation.id)


def get_invitation(*, session: Session, actor: Account, invitation_id: int) -> FairInvitation:
    policy.require(actor, policy.Rule.FAIR_INVITATIONS_READ)
    return policy.find(session, actor, policy.invitations(actor), FairInvitation, invitation_id,
                       _l("No such invitation."), object_type="fair_invitation")


def _record_referral_consent(session: Session, actor: Account, candidate: Candidate, note: str) -> None:
    if not has_consent(session, candidate.id, ConsentKind.REFERRAL):
        session.add(Consent(candidate_id=candidate.id, kind=ConsentKind.REFERRAL, granted=True, recorded_on=today(),
                            note=note, recorded_by_id=actor.id))


def _invitation_to_answer(session: Session, actor: Account, invitation_id: int) -> tuple[FairInvitation, Fair]:
    """An invitation the actor may answer or cancel (a caseworker: of their own office's file), to a fair that is
    still open; and that fair."""
    invitation = get_invitation(session=session, actor=actor, invitation_id=invitation_id)
    if actor.role == Role.CASEWORKER and invitation.candidate.office_id != actor.office_id:
        raise NotFound(_l("No such invitation."))  # the household-registration office reads, does not answer
    fair = session.get(Fair, invitation.fair_id)
    if fair.status != FairStatus.PREPARING:
        raise Conflict(_l("This job fair is closed."))
    return invitation, fair


def answer_invitation(*, session: Session, actor: Account, invitation_id: int, attending: bool,
                      consent: bool = False, note: str | None = None) -> FairInvitation:
    """The caseworker of the file confirms that the candidate will come and consents to being interviewed by the
    bases there (recorded as the referral consent, if not already in force), or says they will not come."""
    policy.require(actor, policy.Rule.FAIR_INVITATION_ANSWER)
    invitation, fair = _invitation_to_answer(session, actor, invitation_id)
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
        cancel_interviews(session, FairInterview.invitation_id == invitation.id,
                          FairInterview.status == InterviewStatus.PLANNED)
    invitation.answered_by_id, invitation.answered_at, invitation.answer_note = actor.id, clock.now(), note
    uow.flush(session)
    return invitation


def cancel_invitation(*, session: Session, actor: Account, invitation_id: int, reason: str | None = None
                      ) -> FairInvitation:
    """A late cancellation (by the organiser or the candidate's caseworker): the candidate's interviews still to
    come are cancelled; those already held stay."""
    policy.require(actor, policy.Rule.FAIR_INVITATIONS_READ)
    invitation, _fair = _invitation_to_answer(session, actor, invitation_id)
    invitation.status = InvitationStatus.CANCELLED
    invitation.answer_note = reason or invitation.answer_note
    invitation.answered_by_id, invitation.answered_at = actor.id, clock.now()
    cancel_interviews(session, FairInterview.invitation_id == invitation.id,
                      FairInterview.status == InterviewStatus.PLANNED)
    uow.flush(session)
    return invitation


def check_in(*, session: Session, actor: Account, fair_id: int, invitation_id: int, undo: bool = False
             ) -> FairInvitation:
    fair = run_fair(session, actor, fair_id, open_only=True)
    invitation = _invitation_at(session, fair, invitation_id)
    if not undo:
        require_the_day(fair)
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
    fair = run_fair(session, actor, fair_id, open_only=True)
    require_the_day(fair)
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
