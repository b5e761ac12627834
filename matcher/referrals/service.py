"""Referrals: proposing a candidate for a slot and moving the referral along its lifecycle.

Who may make which move is one table (matcher.referrals.lifecycle.TRANSITIONS); seats are taken when a referral is
accepted or started and freed when it ends. An ending gives its reason as a code (all a base learns of it); free text
is either shared between the office and the base or the office's internal note, and a base's words are always shared.
"""

from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, case, func, or_, select, update
from sqlalchemy.orm import Session, defaultload

from matcher import policy, uow
from matcher.apiutil import apply_sort
from matcher.audit.service import record as audit
from matcher.auth.models import Account, Role
from matcher.bases.answers import check_may_refer
from matcher.candidates.models import Candidate, CandidateStatus, ConsentKind
from matcher.candidates.service import get_candidate, has_consent
from matcher.clock import today
from matcher.errors import Conflict, Forbidden, Invalid, NotFound
from matcher.i18n_messages import ShownDate
from matcher.referrals.lifecycle import (
    AWAITING_BASE,
    END_REASONS,
    ENDED,
    IN_WORK,
    MILESTONE_OF,
    NEXT_STAY,
    PATH,
    SEAT_HOLDING,
    STAY_DAYS,
    TRANSITIONS,
    WAITING,
    EndReason,
    Mover,
    moves_from,
)
from matcher.referrals.lifecycle import ReferralStatus as S
from matcher.referrals.models import Referral, ReferralEvent
from matcher.referrals.signals import referral_moved
from matcher.slots.models import Slot, SlotStatus
from matcher.slots.service import free_seat, get_slot, take_seat

# Who moves a referral, by role; administrators may make any move (None), organisers none.
MOVER = {Role.CASEWORKER: Mover.OFFICE, Role.EMPLOYER: Mover.BASE}


def allowed_moves(status: S, role: Role) -> list[S]:
    if role == Role.ADMINISTRATOR:
        return moves_from(status, None)
    return moves_from(status, MOVER[role]) if role in MOVER else []


def list_referrals(*, session: Session, actor: Account, filters: dict) -> Select:
    stmt = policy.referrals(actor)
    for key, column in (("status", Referral.status), ("slot_id", Referral.slot_id),
                        ("candidate_id", Referral.candidate_id)):
        if filters.get(key) is not None:
            stmt = stmt.where(column == filters[key])
    if filters.get("open") is True:
        stmt = stmt.where(Referral.status.not_in(ENDED))
    if filters.get("ended") is True:
        stmt = stmt.where(Referral.status.in_(ENDED))
    columns = {"created_at": Referral.created_at, "updated_at": Referral.updated_at}
    return apply_sort(stmt, filters.get("sort", "-updated_at"), columns, Referral.id)


def get_referral(*, session: Session, actor: Account, referral_id: int) -> Referral:
    return policy.find(session, actor, policy.referrals(actor), Referral, referral_id, _l("No such referral."),
                       object_type="referral")


def create_referral(*, session: Session, actor: Account, candidate_id: int, slot_id: int,
                    shared_note: str | None = None, internal_note: str | None = None, send: bool = False,
                    score: float | None = None, model_version: str | None = None) -> Referral:
    """Propose a candidate for a slot (and send it to the base at once if `send`). `shared_note` is written for
    the base; `internal_note` stays with the office."""
    policy.require(actor, policy.Rule.REFERRAL_CREATE, object_type="referral")
    try:
        candidate = get_candidate(session=session, actor=actor, candidate_id=candidate_id)
    except NotFound:
        raise Invalid(_l("No such candidate."), field="candidate_id") from None
    if not policy.keeps_file(actor, candidate):
        raise policy.forbid(actor, _l("Only the office that keeps the file refers the candidate."),
                            object_type="candidate", object_id=candidate.id)
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
    # A base that leaves referrals unanswered is paused, and one that had its month's referrals takes no more.
    check_may_refer(session, slot.company)
    referral = Referral(candidate_id=candidate.id, slot_id=slot.id, status=S.PROPOSED, shared_note=shared_note,
                        internal_note=internal_note, score=score, model_version=model_version,
                        created_by_id=actor.id)
    session.add(referral)
    uow.flush_or(Conflict(_l("This candidate already has a live referral to this slot."), field="slot_id"), session)
    audit(session, actor=actor, action="create", object_type="referral", object_id=referral.id,
          fields=("candidate_id", "slot_id", "status"))
    session.add(ReferralEvent(referral_id=referral.id, from_status=None, to_status=S.PROPOSED,
                              on_date=today(), actor_id=actor.id))
    if send:
        move(session, actor, referral, S.SENT, on_date=today())
    uow.flush(session)
    return referral


def transition(*, session: Session, actor: Account, referral_id: int, to: S, on_date: dt.date | None = None,
               reason_code: EndReason | None = None, shared_note: str | None = None,
               internal_note: str | None = None) -> Referral:
    """Move a referral one step, checking the role, the dates, the reason, consent and seats."""
    referral = get_referral(session=session, actor=actor, referral_id=referral_id)
    if internal_note and actor.role == Role.EMPLOYER:
        raise Invalid(_l("A base's note is always shared with the office: write it as the shared note."),
                      field="internal_note")
    move(session, actor, referral, to, on_date=on_date or today(), reason_code=reason_code,
         shared_note=shared_note, internal_note=internal_note)
    uow.flush(session)
    return referral


# The way forward from a new referral to each step an interview can end in (job fairs).
_INTERVIEW_PATH = PATH[:PATH.index(S.OFFERED) + 1]


def record_interview_result(session: Session, actor: Account, *, candidate_id: int, slot_id: int, to: S,
                            on_date: dt.date, internal_note: str, shared_note: str | None = None
                            ) -> Referral | None:
    """What an interview at a job fair means for the pair's referral: `to` is INTERVIEW (a second
    interview), OFFERED or DECLINED. The live referral is moved forward along the usual path (or a new one
    is created and moved), one recorded event per step, with `actor` (the organiser or the booth's
    employer, who saw the interview) as the one who moved it. Consent, dates and seats are checked as for
    any move; the caller owns the transaction. A referral already at or past `to` is left as it is, and a
    DECLINED with no live referral creates none (there is nothing to end). `internal_note` (where the interview
    was) goes on each move, `shared_note` (a base's words) on the last; a "no" ends the referral as not suitable."""
    referral = session.scalar(select(Referral).where(
        Referral.candidate_id == candidate_id, Referral.slot_id == slot_id, Referral.status.not_in(ENDED)))
    if to == S.DECLINED:
        if referral is None or (S.DECLINED not in allowed_moves(referral.status, Role.ADMINISTRATOR)):
            return referral
        move(session, actor, referral, S.DECLINED, on_date=on_date, reason_code=EndReason.NOT_SUITABLE,
             internal_note=internal_note, shared_note=shared_note, check_role=False)
        return referral
    if referral is None:
        referral = Referral(candidate_id=candidate_id, slot_id=slot_id, status=S.PROPOSED, created_by_id=actor.id,
                            internal_note=internal_note)
        session.add(referral)
        session.flush()
        referral.events.append(ReferralEvent(from_status=None, to_status=S.PROPOSED, on_date=on_date,
                                             actor_id=actor.id, internal_note=internal_note))
    if referral.status not in _INTERVIEW_PATH:
        return referral  # accepted, started or staying: already past what an interview decides
    steps = _INTERVIEW_PATH[_INTERVIEW_PATH.index(referral.status) + 1:_INTERVIEW_PATH.index(to) + 1]
    for step in steps:
        move(session, actor, referral, step, on_date=on_date, internal_note=internal_note,
             shared_note=shared_note if step == steps[-1] else None, check_role=False)
    return referral


def move(session: Session, actor: Account, referral: Referral, to: S, *, on_date: dt.date,
         reason_code: EndReason | None = None, shared_note: str | None = None, internal_note: str | None = None,
         check_role: bool = True) -> None:
    """One step of a referral's lifecycle with every rule checked (role, office, dates, reason, consent, seats),
    recorded as an event. The caller owns the transaction (transition() commits one move; a visit commits its
    moves together with the visit)."""
    frm = referral.status
    if (frm, to) not in TRANSITIONS:
        raise Conflict(_l("A referral that is %(frm)s cannot become %(to)s.", frm=frm.value, to=to.value),
                       field="to")
    if check_role and to not in allowed_moves(frm, actor.role):
        raise Forbidden(_l("Your role cannot make this move."))
    if check_role and actor.role != Role.EMPLOYER and not policy.keeps_file(actor, referral.candidate):
        raise policy.forbid(actor, _l("Only the office that keeps the file moves its referrals."),
                            object_type="referral", object_id=referral.id)
    if on_date > today():
        raise Invalid(_l("The date cannot be in the future."), field="on_date")
    last = referral.events[-1].on_date if referral.events else None
    if last is not None and on_date < last:
        raise Invalid(_l("The date is before the referral's previous step (%(day)s).", day=ShownDate(last)),
                      field="on_date")
    _check_reason(to, reason_code)
    if to == S.SENT and not has_consent(session, referral.candidate_id, ConsentKind.REFERRAL):
        raise Conflict(_l("The candidate has not consented to being referred to bases."), field="to")
    if to in STAY_DAYS and on_date < referral.started_on + dt.timedelta(days=STAY_DAYS[to]):
        raise Invalid(_l("Staying %(days)s days can be confirmed from %(day)s on.", days=STAY_DAYS[to],
                         day=ShownDate(referral.started_on + dt.timedelta(days=STAY_DAYS[to]))),
                      field="on_date")

    # A seat is taken on entering the seat-holding statuses (a live referral in them always holds one); a referral
    # of the history that is past its intake holds none, and a further stay confirmed for it takes none.
    if to in SEAT_HOLDING and frm not in SEAT_HOLDING and not referral.holds_seat:
        if not referral.slot.company.can_post_and_fill():
            raise Conflict(_l("This base's certification is not in force."), field="to")
        if not take_seat(session, referral.slot_id):
            raise Conflict(_l("No seat is free on this slot."), field="to")
        referral.holds_seat = True
    elif to in ENDED and referral.holds_seat:
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
    if to in MILESTONE_OF:  # kept when the placement ends: the outcome it reached
        referral.milestone = MILESTONE_OF[to]
    if to in ENDED:
        referral.ended_on, referral.end_code = on_date, reason_code
        if frm in IN_WORK:
            _candidate_back_to_active(session, referral)
    referral.events.append(ReferralEvent(from_status=frm, to_status=to, on_date=on_date, reason_code=reason_code,
                                         shared_note=shared_note, internal_note=internal_note, actor_id=actor.id))
    # Follow-up tasks and notifications listen here; they write in the same transaction as the move.
    referral_moved.send(session, referral=referral, frm=frm, to=to, on_date=on_date, actor=actor)


def read_legacy_reason(data: dict, actor: Account) -> dict:
    """API input of before the reason became a code (`reason`, free text): the text becomes the mover's note (a
    base's words are shared with the office, an office's stay internal) and an ending without a code is 'other'.
    Deprecated; accepted for one more version."""
    data = dict(data)
    reason = data.pop("reason", None)
    if reason:
        data.setdefault("shared_note" if actor.role == Role.EMPLOYER else "internal_note", reason)
        if data.get("to") in END_REASONS and data.get("reason_code") is None:
            data["reason_code"] = EndReason.OTHER
    return data


def _check_reason(to: S, reason_code: EndReason | None) -> None:
    """An ending says why, with a code that fits it; nothing else has a reason."""
    if to in END_REASONS:
        if reason_code is None:
            raise Invalid(_l("Say why: choose a reason."), field="reason_code")
        if reason_code not in END_REASONS[to]:
            raise Invalid(_l("This reason does not fit this ending."), field="reason_code")
    elif reason_code is not None:
        raise Invalid(_l("Only an ending has a reason."), field="reason_code")


def _candidate_back_to_active(session: Session, referral: Referral) -> None:
    still_placed = session.scalar(
        select(Referral.id).where(Referral.candidate_id == referral.candidate_id, Referral.id != referral.id,
                                  Referral.status.in_(IN_WORK))
        .limit(1))
    if still_placed is None and referral.candidate.status == CandidateStatus.PLACED:
        referral.candidate.status = CandidateStatus.ACTIVE


def refer_from_recommendation(*, session: Session, actor: Account, candidate_id: int, slot_id: int,
                              send: bool | None = None, shared_note: str | None = None,
                              internal_note: str | None = None) -> Referral:
    """Refer a candidate to a slot a recommendation showed: the referral keeps the active model's score of the pair
    and its version. `send=None` sends it to the base at once if the candidate has consented to being referred,
    and otherwise leaves it proposed (the office sends it once the consent is recorded)."""
    from matcher.matching.service import score_pair  # matching reads referrals' outcomes: imported when used

    score, version = score_pair(session, candidate_id, slot_id)
    if send is None:
        send = has_consent(session, candidate_id, ConsentKind.REFERRAL)
    return create_referral(session=session, actor=actor, candidate_id=candidate_id, slot_id=slot_id, send=send,
                           shared_note=shared_note, internal_note=internal_note, score=score, model_version=version)


# ---- what the pages list ----------------------------------------------------------------------------------

def find_referrals(*, session: Session, actor: Account, filters: dict, limit: int | None = None,
                   options: tuple = ()) -> list[Referral]:
    """The referrals `list_referrals` selects (at most `limit`), loaded (with the loader `options` given)."""
    stmt = list_referrals(session=session, actor=actor, filters=filters).options(*options)
    return list(session.scalars(stmt if limit is None else stmt.limit(limit)).unique())


def live_slot_ids(*, session: Session, actor: Account, candidate_id: int) -> set[int]:
    """The slots a candidate has a referral under way to (not ended)."""
    return set(session.scalars(list_referrals(session=session, actor=actor,
                                              filters={"candidate_id": candidate_id, "open": True})
                               .with_only_columns(Referral.slot_id)))


def awaiting_base(*, session: Session, actor: Account, limit: int = 200) -> list[Referral]:
    """Referrals in a status the base answers, newest first (one query per status)."""
    waiting = [r for status in AWAITING_BASE for r in find_referrals(
        session=session, actor=actor, filters={"status": status, "sort": "-updated_at"}, limit=limit)]
    return sorted(waiting, key=lambda r: (r.updated_at, r.id), reverse=True)[:limit]


def _kept_by_office(session: Session, actor: Account, statuses) -> Select:
    """The actor's referrals of the files their office keeps, in these statuses, last changed first."""
    return list_referrals(session=session, actor=actor, filters={"sort": "updated_at"}).where(
        Referral.candidate.has(Candidate.office_id == actor.office_id), Referral.status.in_(list(statuses)))


def office_waiting(*, session: Session, actor: Account, limit: int) -> tuple[list[Referral], dict[str, int]]:
    """The office's referrals waiting for someone's answer (at most `limit`), and how many there are by status."""
    stmt = _kept_by_office(session, actor, WAITING)
    sub = stmt.order_by(None).subquery()
    counts = {getattr(status, "value", status): number for status, number in session.execute(
        select(sub.c.status, func.count()).group_by(sub.c.status))}
    return list(session.scalars(stmt.limit(limit)).unique()), counts


def stay_milestones(*, session: Session, actor: Account, within_days: int) -> list[dict]:
    """The office's placements reaching their next stay (30, 90, 180 days) within `within_days` or already past
    it: {referral, target, due, days, reached}, soonest first."""
    day = today()
    milestones = []
    for referral in session.scalars(_kept_by_office(session, actor, NEXT_STAY)).unique():
        if referral.started_on is None:
            continue
        target, days = NEXT_STAY[referral.status]
        due = referral.started_on + dt.timedelta(days=days)
        if due <= day + dt.timedelta(days=within_days):
            milestones.append({"referral": referral, "target": target, "due": due, "days": days,
                               "reached": due <= day})
    return sorted(milestones, key=lambda m: m["due"])


# The columns the office's referral list sorts by.
SEARCH_SORTS = ("name", "public_id", "base", "slot", "status", "created_at", "updated_at")


def search_referrals(*, session: Session, actor: Account, q: str | None = None, status: S | None = None,
                     sort: str = "-updated_at") -> Select:
    """The actor's referrals matching `q` (any part of the person's name, the file number, the base's name or the
    slot's title), in one status or any, sorted by a column of SEARCH_SORTS ('-' in front: descending). A name is
    searched only by those who read names (the office's caseworkers and administrators), never by a base."""
    from sqlalchemy.orm import aliased

    from matcher.bases.models import Company
    from matcher.slots.models import Slot

    slot, company = aliased(Slot), aliased(Company)
    stmt = (list_referrals(session=session, actor=actor, filters={"status": status})
            .order_by(None).join(Candidate, Candidate.id == Referral.candidate_id)
            .join(slot, slot.id == Referral.slot_id).join(company, company.id == slot.company_id))
    text = (q or "").strip()
    if text:
        matches = [Candidate.public_id.contains(text.upper(), autoescape=True),
                   company.name.contains(text, autoescape=True), slot.title.contains(text, autoescape=True)]
        if actor.role in (Role.CASEWORKER, Role.ADMINISTRATOR):
            matches.append(Candidate.name.contains(text, autoescape=True))
        stmt = stmt.where(or_(*matches))
    columns = {"name": Candidate.name, "public_id": Candidate.public_id, "base": company.name, "slot": slot.title,
               "status": Referral.status, "created_at": Referral.created_at, "updated_at": Referral.updated_at}
    if sort.lstrip("-") not in columns:
        sort = "-updated_at"
    return apply_sort(stmt, sort, columns, Referral.id)


def withdraw_referrals(*, session: Session, actor: Account, referral_ids: list[int], reason_code: EndReason,
                       internal_note: str | None = None) -> tuple[list[int], dict[int, object]]:
    """Withdraw several referrals at once, each on its own (a savepoint each): answers the ids withdrawn and, for
    the others, why not (a referral already ended, another office's file ...)."""
    _check_reason(S.WITHDRAWN, reason_code)
    done: list[int] = []
    refused: dict[int, object] = {}
    for referral_id in dict.fromkeys(referral_ids):
        try:
            with session.begin_nested():
                transition(session=session, actor=actor, referral_id=referral_id, to=S.WITHDRAWN,
                           reason_code=reason_code, internal_note=internal_note)
        except (Conflict, Forbidden, Invalid, NotFound) as exc:
            refused[referral_id] = exc.message
        else:
            done.append(referral_id)
    uow.flush(session)
    return done, refused


# The board shows each referral's person and slot by name, not their skills, certificates, wished courses or
# intakes: those are left to load if ever asked for, instead of with every one of the office's referrals.
_BOARD_LOADS = (defaultload(Referral.candidate).lazyload(Candidate.skills),
                defaultload(Referral.candidate).lazyload(Candidate.certificates),
                defaultload(Referral.candidate).lazyload(Candidate.preferred_courses),
                defaultload(Referral.slot).lazyload(Slot.required_skills),
                defaultload(Referral.slot).lazyload(Slot.intakes))


def referral_board(*, session: Session, actor: Account, ended_limit: int) -> tuple[list[Referral], list[Referral]]:
    """The referrals under way (last changed first) and the latest `ended_limit` that ended."""
    live = find_referrals(session=session, actor=actor, filters={"open": True, "sort": "updated_at"},
                          options=_BOARD_LOADS)
    ended = find_referrals(session=session, actor=actor, filters={"ended": True, "sort": "-updated_at"},
                           limit=ended_limit, options=_BOARD_LOADS)
    return live, ended


# ---- a base's list of its referrals ----------------------------------------------------------------

BASE_LIST_SORTS = ("since", "-since", "updated_at", "-updated_at", "slot", "person")


def _since_entered_status(of: Select | None = None):
    """Each referral's day of entering its current status (the last move to it): what it has waited since. `of`:
    a select of the referral ids wanted (the events of the others are then not grouped)."""
    stmt = (select(ReferralEvent.referral_id, func.max(ReferralEvent.on_date).label("since"))
            .join(Referral, Referral.id == ReferralEvent.referral_id)
            .where(ReferralEvent.to_status == Referral.status))
    if of is not None:
        stmt = stmt.where(ReferralEvent.referral_id.in_(of))
    return stmt.group_by(ReferralEvent.referral_id).subquery()


def base_referral_list(*, session: Session, actor: Account, filters: dict) -> Select:
    """A base's referrals for its list page: `waiting` (its turn: answer or confirm) or all, `q` any part of a
    file number (XT-…) or a slot's title. By default the referrals still waiting for a first answer come first,
    then the others waiting, each the longest-waiting first; `sort` (BASE_LIST_SORTS) orders otherwise."""
    scope = list_referrals(session=session, actor=actor, filters={}).order_by(None)
    since = _since_entered_status(of=scope.with_only_columns(Referral.id))
    stmt = scope.outerjoin(since, since.c.referral_id == Referral.id)
    if filters.get("waiting"):
        stmt = stmt.where(Referral.status.in_(AWAITING_BASE))
    if filters.get("q"):
        q = filters["q"]
        stmt = stmt.where(Referral.candidate.has(Candidate.public_id.contains(q, autoescape=True))
                          | Referral.slot.has(Slot.title.contains(q, autoescape=True)))
    sort = filters.get("sort")
    if not sort:
        first_answer = case((Referral.status == S.SENT, 0), else_=1)
        return stmt.order_by(first_answer, since.c.since.asc(), Referral.id)
    columns = {"since": since.c.since, "updated_at": Referral.updated_at,
               "slot": select(Slot.title).where(Slot.id == Referral.slot_id).scalar_subquery(),
               "person": select(Candidate.public_id).where(Candidate.id == Referral.candidate_id).scalar_subquery()}
    return apply_sort(stmt, sort, columns, Referral.id)


def waiting_days(*, session: Session, referrals: list[Referral]) -> dict[int, int]:
    """How many days each referral has been in its current status (China today), by referral id."""
    if not referrals:
        return {}
    ids = [r.id for r in referrals]
    since = _since_entered_status(of=select(Referral.id).where(Referral.id.in_(ids)))
    day = today()
    rows = session.execute(select(since.c.referral_id, since.c.since))
    return {referral_id: max(0, (day - entered).days) for referral_id, entered in rows}
