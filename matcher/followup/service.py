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

from matcher import policy, uow
from matcher.audit.service import record as audit
from matcher.auth.models import Account, Role
from matcher.candidates.models import Candidate, CandidateStatus, EmploymentState, Reoffence, Visit
from matcher.candidates.rules import VISIT_SAYS_NOTHING
from matcher.candidates.service import editable_candidate, get_candidate, record_read
from matcher.clock import today
from matcher.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from matcher.followup.models import FollowUpTask, TaskStatus
from matcher.i18n_messages import ShownDate
from matcher.offices.models import JudicialOffice
from matcher.places.models import Place, PlaceLevel, code_prefix
from matcher.referrals.lifecycle import IN_WORK, STAY_DAYS, STAY_FOR_DAYS, EndReason
from matcher.referrals.lifecycle import ReferralStatus as S
from matcher.referrals.models import Referral
from matcher.referrals.service import move as move_referral

# A placement runs from the start through the confirmed stays, in this order.
PLACED = IN_WORK
VISIT_LEFT_NOTE = "visit"  # the ending's internal note when a visit finds the person gone (the visit keeps its own)
UNREACHABLE_NOTE_LENGTH = 300


class Result(enum.StrEnum):
    """What a check found."""

    STAYING = "staying"  # still in the job or course: the stay is confirmed (once its days have passed)
    LEFT = "left"  # gone: the placement ends, with a reason
    UNREACHABLE = "unreachable"  # nobody could be reached: noted, the check stays open


# ---- scope ----------------------------------------------------------------------------------------

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
    stmt = policy.follow_up_tasks(actor)
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
    return policy.find(session, actor, policy.follow_up_tasks(actor), FollowUpTask, task_id,
                       _l("No such follow-up check."), object_type="follow_up_task")


def overdue_by_office(*, session: Session, actor: Account, district: str | None = None) -> list[dict]:
    """Per office with open checks in scope: how many are overdue, how many are open, the oldest overdue
    date; most overdue first. The bureau's view (a caseworker gets their own office's line)."""
    policy.require(actor, policy.Rule.FOLLOW_UP_OVERDUE)
    day = today()
    overdue = FollowUpTask.due_on < day
    stmt = (select(JudicialOffice.id, JudicialOffice.name, func.count().filter(overdue), func.count(),
                   func.min(FollowUpTask.due_on).filter(overdue))
            .select_from(FollowUpTask).join(Referral, Referral.id == FollowUpTask.referral_id)
            .join(Candidate, Candidate.id == Referral.candidate_id)
            .join(JudicialOffice, JudicialOffice.id == Candidate.office_id)
            .where(FollowUpTask.status == TaskStatus.OPEN)
            .group_by(JudicialOffice.id, JudicialOffice.name))
    stmt = policy.narrow_to_follow_up(stmt, actor)
    prefix = district_prefix(session, actor, district)
    if prefix:
        stmt = stmt.where(Candidate.residence_code.startswith(prefix))
    rows = [{"office": {"id": office_id, "name": name}, "overdue": late or 0, "open": total or 0,
             "oldest_due_on": oldest} for office_id, name, late, total, oldest in session.execute(stmt)]
    return sorted(rows, key=lambda row: (-row["overdue"], row["office"]["name"]))


# ---- completing a check ---------------------------------------------------------------------------

def _confirm_stays(session: Session, actor: Account, referral: Referral, *, upto: S | None, on_date: dt.date,
                   due_only: bool, shared_note: str | None = None) -> list[S]:
    """Move a placement forward through the stays, each a recorded move, up to `upto` (or the longest one
    whose days have passed on `on_date` when `due_only`); `shared_note` goes with the last. Returns the statuses
    reached."""
    if referral.status not in PLACED:
        raise Conflict(_l("This placement has ended; there is no stay to confirm."), field="result")
    due = []
    for status in PLACED[PLACED.index(referral.status) + 1:]:
        if upto is not None and PLACED.index(status) > PLACED.index(upto):
            break
        if due_only and on_date < referral.started_on + dt.timedelta(days=STAY_DAYS[status]):
            break
        due.append(status)
    for status in due:
        move_referral(session, actor, referral, status, on_date=on_date,
                      shared_note=shared_note if status == due[-1] else None)
    return due


def complete_task(*, session: Session, actor: Account, task_id: int, result: Result, on_date: dt.date | None = None,
                  reason_code: EndReason | None = None, note: str | None = None) -> FollowUpTask:
    """Record what a check found.

    staying: the placement moves to stayed_<days> (through the earlier stays first, if they were never
    confirmed), which the referral service allows only once the days have passed; the task is done.
    left: the placement ends (why, as a code, is required); this task is done, the later ones are cancelled.
    unreachable: the attempt is noted on the task, which stays open (caseworkers and administrators).

    `note` is the office's internal note on the check; a base's words go on the referral's move, shared with the
    office (a base never reads the check's note)."""
    task = get_task(session=session, actor=actor, task_id=task_id)
    on_date = on_date or today()
    if task.status != TaskStatus.OPEN:
        raise Conflict(_l("This check is closed already."), field="result")
    if on_date > today():
        raise Invalid(_l("The date cannot be in the future."), field="on_date")
    referral = task.referral
    by_base = actor.role == Role.EMPLOYER
    if result == Result.STAYING:
        _confirm_stays(session, actor, referral, upto=STAY_FOR_DAYS[task.days], on_date=on_date, due_only=False,
                       shared_note=note if by_base else None)
    elif result == Result.LEFT:
        move_referral(session, actor, referral, S.LEFT, on_date=on_date, reason_code=reason_code,
                      shared_note=note if by_base else None)
    else:
        if actor.role == Role.EMPLOYER:
            raise Forbidden(_l("The office records that a person could not be reached."))
        attempt = f"{on_date.isoformat()} {note or ''}".strip()
        task.note = attempt[:UNREACHABLE_NOTE_LENGTH]
    if result != Result.UNREACHABLE:
        # The listener has closed it already for a stay or a leaving dated after its due date; say who.
        task.status, task.done_on, task.done_by_id = TaskStatus.DONE, on_date, actor.id
        if note and not by_base:
            task.note = note[:UNREACHABLE_NOTE_LENGTH]
    uow.flush(session)
    return task


MAX_TASKS_AT_ONCE = 200


def complete_tasks(*, session: Session, actor: Account, task_ids, result: Result) -> tuple[list[FollowUpTask],
                                                                                           dict[int, object]]:
    """Several checks found alike at once (an office that called five people, all still working): each completed
    as `complete_task` would, in its own savepoint, so a check refused (its days not yet passed, closed already, not
    in scope) leaves the others done. Returns the checks done and, by id, why each other one was refused."""
    ids = list(dict.fromkeys(task_ids))
    if not ids:
        raise Invalid(_l("Choose the checks first."), field="task_id")
    if len(ids) > MAX_TASKS_AT_ONCE:
        raise Invalid(_l("At most %(n)s checks at once.", n=MAX_TASKS_AT_ONCE), field="task_id")
    done: list[FollowUpTask] = []
    refused: dict[int, object] = {}
    for task_id in ids:
        try:
            with session.begin_nested():
                done.append(complete_task(session=session, actor=actor, task_id=task_id, result=result))
        except DomainError as exc:
            refused[task_id] = exc.message
    return done, refused


# ---- visits that record the employment state ------------------------------------------------------

def apply_employment_state(session: Session, actor: Account, candidate: Candidate, *, referral_id: int | None,
                           state: EmploymentState | None, on_date: dt.date,
                           end_code: EndReason | None = None) -> int | None:
    """What a visit found about a placement, applied inside the visit's transaction (no commit).

    The placement is `referral_id` (a started or staying referral of this candidate) or, when only a state
    is given, the candidate's one running placement. working: every stay whose days have passed on the
    visit's date is confirmed, in order, each a recorded move. left: the placement ends with `end_code` (why, as
    the visit form asks; "other" when not given). The visit's note stays on the visit: it is the office's and
    never reaches the base. Returns the placement's id (None when the visit names none)."""
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
            move_referral(session, actor, referral, S.LEFT, on_date=on_date, reason_code=end_code or EndReason.OTHER,
                          internal_note=VISIT_LEFT_NOTE)
    except DomainError as exc:
        # The move's fields are the visit form's: its date is the visit's, its target the state found.
        renamed = {"on_date": "visited_on", "to": "employment_state", "result": "employment_state",
                   "reason_code": "end_code"}
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
    policy.require(actor, policy.Rule.CANDIDATE_CHANGE)
    candidate = editable_candidate(session, actor, candidate_id)
    if data["recorded_on"] > today():
        raise Invalid(_l("The date cannot be in the future."), field="recorded_on")
    if data["recorded_on"] < candidate.release_date:
        raise Invalid(_l("A re-offence is recorded after the release (%(day)s).",
                         day=ShownDate(candidate.release_date)), field="recorded_on")
    reoffence = Reoffence(candidate_id=candidate.id, recorded_by_id=actor.id, **data)
    session.add(reoffence)
    uow.flush(session)
    return reoffence


def list_reoffences(*, session: Session, actor: Account, candidate_id: int) -> list[Reoffence]:
    candidate = get_candidate(session=session, actor=actor, candidate_id=candidate_id)
    record_read(session=session, actor=actor, candidate_id=candidate.id, fields=("reoffences",))
    return list(session.scalars(select(Reoffence).where(Reoffence.candidate_id == candidate.id)
                                .order_by(Reoffence.recorded_on.desc(), Reoffence.id.desc())))


def add_visit(*, session: Session, actor: Account, candidate_id: int, data: dict) -> Visit:
    """Record a visit. One that names a placement (referral_id) and what it found (employment_state) moves
    the referral too, in the same transaction: working confirms the stays whose days have passed, left ends
    the placement with the reason `end_code` (apply_employment_state). The visit's note
    is the office's alone: it is never copied to the referral, which the base reads."""
    candidate = editable_candidate(session, actor, candidate_id)
    if data["visited_on"] > today():
        raise Invalid(_l("A visit cannot be dated in the future."), field="visited_on")
    if not (data.get("note") or "").strip() and data.get("employment_state") is None:
        raise Invalid(VISIT_SAYS_NOTHING, field="note")
    data = dict(data)
    end_code = data.pop("end_code", None)  # the referral's, not the visit's
    if end_code is not None and data.get("employment_state") != EmploymentState.LEFT:
        raise Invalid(_l("Say why only when the person has left."), field="end_code")
    if data.get("referral_id") is not None or data.get("employment_state") is not None:
        data["referral_id"] = apply_employment_state(
            session, actor, candidate, referral_id=data.get("referral_id"),
            state=data.get("employment_state"), on_date=data["visited_on"], end_code=end_code)
    visit = Visit(candidate_id=candidate.id, recorded_by_id=actor.id, **data)
    session.add(visit)
    audit(session, actor=actor, action="visit", object_type="candidate", object_id=candidate.id,
          fields={"visits"} | ({"employment_state"} if data.get("employment_state") is not None else set()))
    uow.flush(session)
    return visit


def correct_visit(*, session: Session, actor: Account, candidate_id: int, visit_id: int, data: dict) -> Visit:
    """Correct a visit's date, kind or note: the caseworkers of the office that keeps the file (or the bureau),
    while the file is open (not closed or archived). The change is written to the audit log (`update`, visits).
    What the visit found about a placement moved the referral on the visit's date, so that finding and that date
    stay; a visit keeps a note or a finding. Every problem is told at once."""
    policy.require(actor, policy.Rule.CANDIDATE_CHANGE)
    candidate = editable_candidate(session, actor, candidate_id)
    if candidate.status == CandidateStatus.CLOSED or candidate.archived_at is not None:
        raise Conflict(_l("The file is closed: its visits are kept as they are."))
    visit = session.scalar(select(Visit).where(Visit.id == visit_id, Visit.candidate_id == candidate.id))
    if visit is None:
        raise NotFound(_l("No such visit."))
    errors: dict[str, list] = {}
    day = data.get("visited_on", visit.visited_on)
    if day > today():
        errors.setdefault("visited_on", []).append(_l("A visit cannot be dated in the future."))
    if day != visit.visited_on and visit.employment_state is not None:
        errors.setdefault("visited_on", []).append(_l(
            "This visit recorded the employment state on its date, which moved the placement: the date stays."))
    note = data["note"] if "note" in data else visit.note
    if not (note or "").strip() and visit.employment_state is None:
        errors.setdefault("note", []).append(VISIT_SAYS_NOTHING)
    if errors:
        raise Invalid(_l("Some fields are not valid."), errors=errors)
    changed = {key for key, value in data.items() if getattr(visit, key) != value}
    for key in changed:
        setattr(visit, key, data[key])
    if changed:
        audit(session, actor=actor, action="update", object_type="candidate", object_id=candidate.id,
              fields=("visits",))
    uow.flush(session)
    return visit


def get_visit(*, session: Session, actor: Account, candidate_id: int, visit_id: int) -> Visit:
    """One visit of a file in the actor's scope (its note is the office's: the read is written to the audit log)."""
    candidate = get_candidate(session=session, actor=actor, candidate_id=candidate_id)
    visit = session.scalar(select(Visit).where(Visit.id == visit_id, Visit.candidate_id == candidate.id))
    if visit is None:
        raise NotFound(_l("No such visit."))
    record_read(session=session, actor=actor, candidate_id=candidate.id, fields=("visits",))
    return visit


def find_tasks(*, session: Session, actor: Account, filters: dict, limit: int) -> list[FollowUpTask]:
    """At most `limit` of the tasks `list_tasks` selects, loaded (a page's list)."""
    return list(session.scalars(list_tasks(session=session, actor=actor, filters=filters).limit(limit)).unique())
