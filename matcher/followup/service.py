"""Following started placements: the checks at 30, 90 and 180 days (who sees which, completing them through
the referral lifecycle, overdue counts per office), visits that record the employment state, and re-offending.

Every move of a referral goes through the referral service's own move, so the lifecycle's rules (roles, dates,
seats, recorded events) stay in one place; the follow-up listeners then keep the tasks in step.
"""

from __future__ import annotations

import datetime as dt
import enum

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from matcher.auth.models import Account, Role
from matcher.auth.scope import require_role
from matcher.candidates.models import Candidate, EmploymentState, Reoffence
from matcher.candidates.service import get_candidate
from matcher.clock import today
from matcher.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from matcher.followup.models import FollowUpTask, TaskStatus
from matcher.offices.models import JudicialOffice
from matcher.places.models import Place, PlaceLevel, code_prefix
from matcher.referrals.models import Referral
from matcher.referrals.models import ReferralStatus as S
from matcher.referrals.service import STAY_DAYS
from matcher.referrals.service import move as move_referral
from matcher.slots.models import Slot

# A placement runs from the start through the confirmed stays, in this order.
PLACED = (S.STARTED, S.STAYED_30, S.STAYED_90, S.STAYED_180)
STAY_FOR_DAYS = {days: status for status, days in STAY_DAYS.items()}
VISIT_LEFT_REASON = "visit"  # the reason recorded when a visit finds the person gone and says nothing more
UNREACHABLE_NOTE_LENGTH = 300


class Result(enum.StrEnum):
    """What a check found."""

    STAYING = "staying"  # still in the job or course: the stay is confirmed (once its days have passed)
    LEFT = "left"  # gone: the placement ends, with a reason
    UNREACHABLE = "unreachable"  # nobody could be reached: noted, the check stays open


# ---- scope ----------------------------------------------------------------------------------------

def _scoped(stmt: Select, actor: Account) -> Select:
    """Narrow a select over tasks joined to their referral and candidate to what the actor may see.

    Caseworkers: the checks of placements of candidates their office keeps (the residence office does the
    daily work; the household office does not follow up). Administrators: their bureau's area, by where the
    candidate lives. Employers: the confirmation requests of their own base's placements. Nobody else."""
    if actor.role == Role.CASEWORKER:
        return stmt.where(Candidate.office_id == actor.office_id)
    if actor.role == Role.ADMINISTRATOR:
        prefix = code_prefix(actor.bureau_code) if actor.bureau_code else ""
        return stmt.where(Candidate.residence_code.startswith(prefix)) if prefix else stmt
    if actor.role == Role.EMPLOYER:
        return stmt.join(Slot, Slot.id == Referral.slot_id).where(Slot.company_id == actor.company_id)
    return stmt.where(False)


def visible_tasks(actor: Account) -> Select:
    stmt = (select(FollowUpTask).join(Referral, Referral.id == FollowUpTask.referral_id)
            .join(Candidate, Candidate.id == Referral.candidate_id))
    return _scoped(stmt, actor)


def district_prefix(session: Session, actor: Account, district: str | None) -> str | None:
    """The code prefix of one district (of the administrator's bureau area); None for no district."""
    if not district:
        return None
    place = session.get(Place, district)
    bureau = code_prefix(actor.bureau_code) if actor.bureau_code else ""
    if place is None or place.level != PlaceLevel.DISTRICT or not district.startswith(bureau):
        raise Invalid(_l("Choose a district of your bureau's area."), field="district")
    return code_prefix(district)


def is_overdue(task: FollowUpTask, day: dt.date | None = None) -> bool:
    """Open and past its date."""
    return task.status == TaskStatus.OPEN and task.due_on < (day or today())


# ---- reading --------------------------------------------------------------------------------------

def list_tasks(*, session: Session, actor: Account, filters: dict) -> Select:
    """Tasks in the actor's scope. Filters: status; overdue (open and due before today, or not);
    due_within N days (due from today to today + N); office_id; district; candidate_id; referral_id."""
    stmt = visible_tasks(actor)
    day = today()
    if filters.get("status") is not None:
        stmt = stmt.where(FollowUpTask.status == filters["status"])
    overdue = (FollowUpTask.status == TaskStatus.OPEN) & (FollowUpTask.due_on < day)
    if filters.get("overdue") is True:
        stmt = stmt.where(overdue)
    elif filters.get("overdue") is False:
        stmt = stmt.where(~overdue)
    if filters.get("due_within") is not None:
        stmt = stmt.where(FollowUpTask.due_on.between(day, day + dt.timedelta(days=filters["due_within"])))
    for key, column in (("office_id", Candidate.office_id), ("candidate_id", Referral.candidate_id),
                        ("referral_id", FollowUpTask.referral_id)):
        if filters.get(key) is not None:
            stmt = stmt.where(column == filters[key])
    prefix = district_prefix(session, actor, filters.get("district"))
    if prefix:
        stmt = stmt.where(Candidate.residence_code.startswith(prefix))
    descending = filters.get("sort", "due_on").startswith("-")
    return stmt.order_by(FollowUpTask.due_on.desc() if descending else FollowUpTask.due_on.asc(),
                         FollowUpTask.id)


def get_task(*, session: Session, actor: Account, task_id: int) -> FollowUpTask:
    task = session.scalar(visible_tasks(actor).where(FollowUpTask.id == task_id))
    if task is None:
        raise NotFound(_l("No such follow-up check."))
    return task


def overdue_by_office(*, session: Session, actor: Account, district: str | None = None) -> list[dict]:
    """Per office with open checks in scope: how many are overdue, how many are open, the oldest overdue
    date; most overdue first. The bureau's view (a caseworker gets their own office's line)."""
    require_role(actor, Role.ADMINISTRATOR, Role.CASEWORKER)
    day = today()
    overdue = FollowUpTask.due_on < day
    stmt = (select(JudicialOffice.id, JudicialOffice.name, func.count().filter(overdue), func.count(),
                   func.min(FollowUpTask.due_on).filter(overdue))
            .select_from(FollowUpTask).join(Referral, Referral.id == FollowUpTask.referral_id)
            .join(Candidate, Candidate.id == Referral.candidate_id)
            .join(JudicialOffice, JudicialOffice.id == Candidate.office_id)
            .where(FollowUpTask.status == TaskStatus.OPEN)
            .group_by(JudicialOffice.id, JudicialOffice.name))
    stmt = _scoped(stmt, actor)
    prefix = district_prefix(session, actor, district)
    if prefix:
        stmt = stmt.where(Candidate.residence_code.startswith(prefix))
    rows = [{"office": {"id": office_id, "name": name}, "overdue": late or 0, "open": total or 0,
             "oldest_due_on": oldest} for office_id, name, late, total, oldest in session.execute(stmt)]
    return sorted(rows, key=lambda row: (-row["overdue"], row["office"]["name"]))


# ---- completing a check ---------------------------------------------------------------------------

def _confirm_stays(session: Session, actor: Account, referral: Referral, *, upto: S | None, on_date: dt.date,
                   due_only: bool) -> list[S]:
    """Move a placement forward through the stays, each a recorded move, up to `upto` (or the longest one
    whose days have passed on `on_date` when `due_only`). Returns the statuses reached."""
    if referral.status not in PLACED:
        raise Conflict(_l("This placement has ended; there is no stay to confirm."), field="result")
    reached = []
    for status in PLACED[PLACED.index(referral.status) + 1:]:
        if upto is not None and PLACED.index(status) > PLACED.index(upto):
            break
        if due_only and on_date < referral.started_on + dt.timedelta(days=STAY_DAYS[status]):
            break
        move_referral(session, actor, referral, status, on_date=on_date, reason=None)
        reached.append(status)
    return reached


def complete_task(*, session: Session, actor: Account, task_id: int, result: Result, on_date: dt.date | None = None,
                  reason: str | None = None, note: str | None = None) -> FollowUpTask:
    """Record what a check found.

    staying: the placement moves to stayed_<days> (through the earlier stays first, if they were never
    confirmed), which the referral service allows only once the days have passed; the task is done.
    left: the placement ends (a reason is required); this task is done, the later ones are cancelled.
    unreachable: the attempt is noted on the task, which stays open (caseworkers and administrators)."""
    task = get_task(session=session, actor=actor, task_id=task_id)
    on_date = on_date or today()
    try:
        if task.status != TaskStatus.OPEN:
            raise Conflict(_l("This check is closed already."), field="result")
        if on_date > today():
            raise Invalid(_l("The date cannot be in the future."), field="on_date")
        referral = task.referral
        if result == Result.STAYING:
            _confirm_stays(session, actor, referral, upto=STAY_FOR_DAYS[task.days], on_date=on_date, due_only=False)
        elif result == Result.LEFT:
            if not reason:
                raise Invalid(_l("Say why: a reason is required."), field="reason")
            move_referral(session, actor, referral, S.LEFT, on_date=on_date, reason=reason)
        else:
            if actor.role == Role.EMPLOYER:
                raise Forbidden(_l("The office records that a person could not be reached."))
            attempt = f"{on_date.isoformat()} {note or ''}".strip()
            task.note = attempt[:UNREACHABLE_NOTE_LENGTH]
        if result != Result.UNREACHABLE:
            # The listener has closed it already for a stay or a leaving dated after its due date; say who.
            task.status, task.done_on, task.done_by_id = TaskStatus.DONE, on_date, actor.id
            if note:
                task.note = note[:UNREACHABLE_NOTE_LENGTH]
        session.commit()
    except Exception:
        session.rollback()
        raise
    return task


# ---- visits that record the employment state ------------------------------------------------------

def apply_employment_state(session: Session, actor: Account, candidate: Candidate, *, referral_id: int | None,
                           state: EmploymentState | None, on_date: dt.date, note: str | None) -> int | None:
    """What a visit found about a placement, applied inside the visit's transaction (no commit).

    The placement is `referral_id` (a started or staying referral of this candidate) or, when only a state
    is given, the candidate's one running placement. working: every stay whose days have passed on the
    visit's date is confirmed, in order, each a recorded move. left: the placement ends, the reason being
    the visit's note (or "visit"). Returns the placement's id (None when the visit names none)."""
    if referral_id is None and state is None:
        return None
    running = select(Referral).where(Referral.candidate_id == candidate.id, Referral.status.in_(PLACED))
    if referral_id is None:
        placements = list(session.scalars(running))
        if len(placements) != 1:
            raise Invalid(_l("Choose the placement the visit looked at."), field="referral_id")
        referral = placements[0]
    else:
        referral = session.scalar(running.where(Referral.id == referral_id))
        if referral is None:
            raise Invalid(_l("Choose a placement of this person that has started and not ended."),
                          field="referral_id")
    try:
        if state == EmploymentState.WORKING:
            _confirm_stays(session, actor, referral, upto=None, on_date=on_date, due_only=True)
        elif state == EmploymentState.LEFT:
            reason = (note or "").strip()[:500] or VISIT_LEFT_REASON
            move_referral(session, actor, referral, S.LEFT, on_date=on_date, reason=reason)
    except DomainError as exc:
        # The move's fields are the visit form's: its date is the visit's, its target the state found.
        renamed = {"on_date": "visited_on", "to": "employment_state", "result": "employment_state"}
        exc.errors = {renamed.get(key, key): value for key, value in exc.errors.items()}
        raise
    return referral.id


def running_placements(*, session: Session, actor: Account, candidate_id: int) -> list[Referral]:
    """The candidate's started or staying referrals (what a visit can look at)."""
    candidate = get_candidate(session=session, actor=actor, candidate_id=candidate_id)
    return list(session.scalars(select(Referral).where(Referral.candidate_id == candidate.id,
                                                       Referral.status.in_(PLACED)).order_by(Referral.id)))


# ---- re-offending ---------------------------------------------------------------------------------

def record_reoffence(*, session: Session, actor: Account, candidate_id: int, data: dict) -> Reoffence:
    """Record a new offence (重新犯罪) of a person under assistance: the keeping office or the bureau."""
    require_role(actor, Role.ADMINISTRATOR, Role.CASEWORKER)
    candidate = get_candidate(session=session, actor=actor, candidate_id=candidate_id)
    if actor.role == Role.CASEWORKER and candidate.office_id != actor.office_id:
        raise Forbidden(_l("This file is kept by %(office)s; your office can read it but not change it.",
                           office=candidate.office.name))
    if data["recorded_on"] > today():
        raise Invalid(_l("The date cannot be in the future."), field="recorded_on")
    if data["recorded_on"] < candidate.release_date:
        raise Invalid(_l("A re-offence is recorded after the release (%(day)s).",
                         day=candidate.release_date.isoformat()), field="recorded_on")
    reoffence = Reoffence(candidate_id=candidate.id, recorded_by_id=actor.id, **data)
    session.add(reoffence)
    session.commit()
    return reoffence


def list_reoffences(*, session: Session, actor: Account, candidate_id: int) -> list[Reoffence]:
    candidate = get_candidate(session=session, actor=actor, candidate_id=candidate_id)
    return list(session.scalars(select(Reoffence).where(Reoffence.candidate_id == candidate.id)
                                .order_by(Reoffence.recorded_on.desc(), Reoffence.id.desc())))
