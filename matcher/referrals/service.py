"""Referrals: proposing a candidate for a slot and moving the referral along its lifecycle.

Who may make which move is one table (TRANSITIONS); seats are taken when a referral is accepted
or started and freed when it ends.
"""

from __future__ import annotations

import datetime as dt

from blinker import Namespace
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from matcher.apiutil import apply_sort
from matcher.audit.service import record as audit
from matcher.auth.models import Account, Role
from matcher.auth.scope import require_role
from matcher.candidates.models import Candidate, CandidateStatus, ConsentKind
from matcher.candidates.service import get_candidate, has_consent, visible_candidates
from matcher.clock import today
from matcher.errors import Conflict, Forbidden, Invalid, NotFound
from matcher.referrals.models import ENDED_STATUSES, Referral, ReferralEvent
from matcher.referrals.models import ReferralStatus as S
from matcher.slots.models import Slot, SlotStatus
from matcher.slots.service import free_seat, get_slot, take_seat

# Sent after every move of a referral, inside the mover's transaction: sender = the session; keyword arguments
# referral, frm, to, on_date, actor. Listeners (matcher.followup, matcher.notify) add rows; they never commit.
referral_moved = Namespace().signal("referral-moved")

CW, EMP = Role.CASEWORKER, Role.EMPLOYER
TRANSITIONS: dict[tuple[S, S], frozenset[Role]] = {
    (S.PROPOSED, S.SENT): frozenset({CW}),
    (S.SENT, S.INTERVIEW): frozenset({EMP}),
    (S.SENT, S.OFFERED): frozenset({EMP}),
    (S.INTERVIEW, S.OFFERED): frozenset({EMP}),
    (S.OFFERED, S.ACCEPTED): frozenset({CW, EMP}),
    (S.OFFERED, S.STARTED): frozenset({CW, EMP}),
    (S.ACCEPTED, S.STARTED): frozenset({CW, EMP}),
    (S.STARTED, S.STAYED_30): frozenset({CW, EMP}),
    (S.STAYED_30, S.STAYED_90): frozenset({CW, EMP}),
    (S.STAYED_90, S.STAYED_180): frozenset({CW, EMP}),
    **{(s, S.DECLINED): frozenset({CW, EMP}) for s in (S.SENT, S.INTERVIEW, S.OFFERED, S.ACCEPTED)},
    **{(s, S.WITHDRAWN): frozenset({CW}) for s in (S.PROPOSED, S.SENT, S.INTERVIEW, S.OFFERED, S.ACCEPTED)},
    **{(s, S.LEFT): frozenset({CW, EMP}) for s in (S.STARTED, S.STAYED_30, S.STAYED_90, S.STAYED_180)},
}
SEAT_HOLDING = {S.ACCEPTED, S.STARTED, S.STAYED_30, S.STAYED_90, S.STAYED_180}
NEEDS_REASON = set(ENDED_STATUSES)
STAY_DAYS = {S.STAYED_30: 30, S.STAYED_90: 90, S.STAYED_180: 180}


def allowed_moves(status: S, role: Role) -> list[S]:
    return [to for (frm, to), roles in TRANSITIONS.items()
            if frm == status and (role == Role.ADMINISTRATOR or role in roles)]


def visible_referrals(actor: Account) -> Select:
    """Caseworkers: referrals of candidates in their scope. Employers: referrals sent to their base.
    Administrators: all. Organisers: none (fairs bring their own view)."""
    stmt = select(Referral)
    if actor.role == Role.ADMINISTRATOR:
        return stmt
    if actor.role == Role.CASEWORKER:
        scoped = visible_candidates(actor).with_only_columns(Candidate.id)
        return stmt.where(Referral.candidate_id.in_(scoped))
    if actor.role == Role.EMPLOYER:
        return stmt.join(Slot, Slot.id == Referral.slot_id).where(
            Slot.company_id == actor.company_id, Referral.status != S.PROPOSED)
    return stmt.where(False)


def list_referrals(*, session: Session, actor: Account, filters: dict) -> Select:
    stmt = visible_referrals(actor)
    for key, column in (("status", Referral.status), ("slot_id", Referral.slot_id),
                        ("candidate_id", Referral.candidate_id)):
        if filters.get(key) is not None:
            stmt = stmt.where(column == filters[key])
    if filters.get("open") is True:
        stmt = stmt.where(Referral.status.not_in(ENDED_STATUSES))
    columns = {"created_at": Referral.created_at, "updated_at": Referral.updated_at}
    return apply_sort(stmt, filters.get("sort", "-updated_at"), columns, Referral.id)


def get_referral(*, session: Session, actor: Account, referral_id: int) -> Referral:
    referral = session.scalar(visible_referrals(actor).where(Referral.id == referral_id))
    if referral is None:
        raise NotFound(_l("No such referral."))
    return referral


def create_referral(*, session: Session, actor: Account, candidate_id: int, slot_id: int,
                    note: str | None = None, send: bool = False, score: float | None = None,
                    model_version: str | None = None) -> Referral:
    """Propose a candidate for a slot (and send it to the base at once if `send`)."""
    require_role(actor, Role.ADMINISTRATOR, Role.CASEWORKER)
    try:
        candidate = get_candidate(session=session, actor=actor, candidate_id=candidate_id)
    except NotFound:
        raise Invalid(_l("No such candidate."), field="candidate_id") from None
    if actor.role == Role.CASEWORKER and candidate.office_id != actor.office_id:
        raise Forbidden(_l("Only the office that keeps the file refers the candidate."))
    try:
        slot = get_slot(session=session, actor=actor, slot_id=slot_id)
    except NotFound:
        raise Invalid(_l("No such slot."), field="slot_id") from None
    if candidate.status == CandidateStatus.CLOSED:
        raise Conflict(_l("This candidate's file is closed."), field="candidate_id")
    if slot.status != SlotStatus.OPEN:
        raise Conflict(_l("This slot is not open."), field="slot_id")
    if not slot.company.can_post_and_fill():
        raise Conflict(_l("This base's certification is not in force."), field="slot_id")
    referral = Referral(candidate_id=candidate.id, slot_id=slot.id, status=S.PROPOSED, note=note,
                        score=score, model_version=model_version, created_by_id=actor.id)
    session.add(referral)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise Conflict(_l("This candidate already has a live referral to this slot."), field="slot_id") from None
    audit(session, actor=actor, action="create", object_type="referral", object_id=referral.id,
          fields=("candidate_id", "slot_id", "status"))
    session.add(ReferralEvent(referral_id=referral.id, from_status=None, to_status=S.PROPOSED,
                              on_date=today(), actor_id=actor.id))
    if send:
        move(session, actor, referral, S.SENT, on_date=today(), reason=None)
    session.commit()
    return referral


def transition(*, session: Session, actor: Account, referral_id: int, to: S, on_date: dt.date | None = None,
               reason: str | None = None) -> Referral:
    """Move a referral one step, checking the role, the dates, consent and seats."""
    referral = get_referral(session=session, actor=actor, referral_id=referral_id)
    try:
        move(session, actor, referral, to, on_date=on_date or today(), reason=reason)
        session.commit()
    except Exception:
        session.rollback()
        raise
    return referral


# The way forward from a new referral to each step an interview can end in (job fairs).
_INTERVIEW_PATH = (S.PROPOSED, S.SENT, S.INTERVIEW, S.OFFERED)


def record_interview_result(session: Session, actor: Account, *, candidate_id: int, slot_id: int, to: S,
                            on_date: dt.date, reason: str) -> Referral | None:
    """What an interview at a job fair means for the pair's referral: `to` is INTERVIEW (a second
    interview), OFFERED or DECLINED. The live referral is moved forward along the usual path (or a new one
    is created and moved), one recorded event per step, with `actor` (the organiser or the booth's
    employer, who saw the interview) as the one who moved it. Consent, dates and seats are checked as for
    any move; the caller owns the transaction. A referral already at or past `to` is left as it is, and a
    DECLINED with no live referral creates none (there is nothing to end)."""
    referral = session.scalar(select(Referral).where(
        Referral.candidate_id == candidate_id, Referral.slot_id == slot_id, Referral.status.not_in(ENDED_STATUSES)))
    if to == S.DECLINED:
        if referral is None or (S.DECLINED not in allowed_moves(referral.status, Role.ADMINISTRATOR)):
            return referral
        move(session, actor, referral, S.DECLINED, on_date=on_date, reason=reason, check_role=False)
        return referral
    if referral is None:
        referral = Referral(candidate_id=candidate_id, slot_id=slot_id, status=S.PROPOSED, created_by_id=actor.id,
                            note=reason)
        session.add(referral)
        session.flush()
        referral.events.append(ReferralEvent(from_status=None, to_status=S.PROPOSED, on_date=on_date,
                                             actor_id=actor.id, reason=reason))
    if referral.status not in _INTERVIEW_PATH:
        return referral  # accepted, started or staying: already past what an interview decides
    for step in _INTERVIEW_PATH[_INTERVIEW_PATH.index(referral.status) + 1:_INTERVIEW_PATH.index(to) + 1]:
        move(session, actor, referral, step, on_date=on_date, reason=reason, check_role=False)
    return referral


def move(session: Session, actor: Account, referral: Referral, to: S, *, on_date: dt.date,
         reason: str | None, check_role: bool = True) -> None:
    """One step of a referral's lifecycle with every rule checked (role, office, dates, reason, consent, seats),
    recorded as an event. The caller owns the transaction (transition() commits one move; a visit commits its
    moves together with the visit)."""
    frm = referral.status
    roles = TRANSITIONS.get((frm, to))
    if roles is None:
        raise Conflict(_l("A referral that is %(frm)s cannot become %(to)s.", frm=frm.value, to=to.value),
                       field="to")
    if check_role and actor.role != Role.ADMINISTRATOR and actor.role not in roles:
        raise Forbidden(_l("Your role cannot make this move."))
    if check_role and actor.role == Role.CASEWORKER and referral.candidate.office_id != actor.office_id:
        raise Forbidden(_l("Only the office that keeps the file moves its referrals."))
    if on_date > today():
        raise Invalid(_l("The date cannot be in the future."), field="on_date")
    last = referral.events[-1].on_date if referral.events else None
    if last is not None and on_date < last:
        raise Invalid(_l("The date is before the referral's previous step (%(day)s).", day=last.isoformat()),
                      field="on_date")
    if to in NEEDS_REASON and not reason:
        raise Invalid(_l("Say why: a reason is required."), field="reason")
    if to == S.SENT and not has_consent(session, referral.candidate_id, ConsentKind.REFERRAL):
        raise Conflict(_l("The candidate has not consented to being referred to bases."), field="to")
    if to in STAY_DAYS and on_date < referral.started_on + dt.timedelta(days=STAY_DAYS[to]):
        raise Invalid(_l("Staying %(days)s days can be confirmed from %(day)s on.", days=STAY_DAYS[to],
                         day=(referral.started_on + dt.timedelta(days=STAY_DAYS[to])).isoformat()),
                      field="on_date")

    if to in SEAT_HOLDING and not referral.holds_seat:
        if not referral.slot.company.can_post_and_fill():
            raise Conflict(_l("This base's certification is not in force."), field="to")
        if not take_seat(session, referral.slot_id):
            raise Conflict(_l("No seat is free on this slot."), field="to")
        referral.holds_seat = True
    elif to in ENDED_STATUSES and referral.holds_seat:
        free_seat(session, referral.slot_id)
        referral.holds_seat = False

    # Conditional on the status we read: a concurrent move of the same referral loses cleanly.
    moved = session.execute(
        update(Referral).where(Referral.id == referral.id, Referral.status == frm)
        .values(status=to).execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        raise Conflict(_l("Someone else moved this referral just now; reload and try again."), field="to")
    referral.status = to
    if to == S.STARTED:
        referral.started_on = on_date
        referral.candidate.status = CandidateStatus.PLACED
    if to in ENDED_STATUSES:
        referral.ended_on, referral.end_reason = on_date, reason
        if frm in SEAT_HOLDING - {S.ACCEPTED}:
            _candidate_back_to_active(session, referral)
    referral.events.append(ReferralEvent(from_status=frm, to_status=to, on_date=on_date, reason=reason,
                                         actor_id=actor.id))
    # Follow-up tasks and notifications listen here; they write in the same transaction as the move.
    referral_moved.send(session, referral=referral, frm=frm, to=to, on_date=on_date, actor=actor)


def _candidate_back_to_active(session: Session, referral: Referral) -> None:
    still_placed = session.scalar(
        select(Referral.id).where(Referral.candidate_id == referral.candidate_id, Referral.id != referral.id,
                                  Referral.status.in_([S.STARTED, S.STAYED_30, S.STAYED_90, S.STAYED_180]))
        .limit(1))
    if still_placed is None and referral.candidate.status == CandidateStatus.PLACED:
        referral.candidate.status = CandidateStatus.ACTIVE
