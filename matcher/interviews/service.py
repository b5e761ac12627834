"""Arranging an interview for a referral, between the base and the office that keeps the person's file.

The base proposes a time (an instant, entered and shown in China time), a place, a contact person and a phone;
the office confirms it or asks for another time; either side may cancel; after the time either side records
whether the person came. Each step tells the other side in the app (matcher.notify). Once confirmed, the person is
told by a printed slip (the office's print page) and, where a text-message provider is configured
(matcher.notify.sms), by a text message to the phone in the file; the day before, the daily sweep reminds both
sides and the person (once). The base reads the phone number only as the referral's card lets it (consent).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from matcher import clock, policy, uow
from matcher.audit.service import record as audit
from matcher.auth.models import Account, Role
from matcher.candidates.models import Candidate
from matcher.errors import Conflict, Invalid
from matcher.interviews.models import LIVE, ReferralInterview
from matcher.interviews.models import InterviewStatus as S
from matcher.notify.channels import RecipientRefused
from matcher.notify.models import NotificationKind
from matcher.notify.service import (
    caseworkers_of,
    complete_tasks,
    employers_of,
    interview_task,
    notification_row,
    notify,
)
from matcher.notify.sms import TextMessenger, error_code
from matcher.referrals.lifecycle import ReferralStatus
from matcher.referrals.models import Referral
from matcher.referrals.service import get_referral, move

log = logging.getLogger(__name__)
K = NotificationKind

# A referral at these stages may have an interview arranged (a sent one becomes "interview" when it is).
OPEN_FOR_INTERVIEW = (ReferralStatus.SENT, ReferralStatus.INTERVIEW, ReferralStatus.OFFERED)
MAX_DAYS_AHEAD = 180
DEFAULT_BRING = "身份证、个人简历，有职业资格或技能证书的请一并带上"


class Action:
    CONFIRM = "confirm"
    OTHER_TIME = "other_time"
    CANCEL = "cancel"
    ATTENDED = "attended"
    NO_SHOW = "no_show"

    ALL = ("confirm", "other_time", "cancel", "attended", "no_show")


# action -> (the statuses it starts from, the status it leads to, who may take it: "office", "base")
ACTIONS: dict[str, tuple[tuple[S, ...], S, frozenset[str]]] = {
    Action.CONFIRM: ((S.PROPOSED,), S.CONFIRMED, frozenset({"office"})),
    Action.OTHER_TIME: ((S.PROPOSED,), S.OTHER_TIME, frozenset({"office"})),
    Action.CANCEL: (LIVE, S.CANCELLED, frozenset({"office", "base"})),
    Action.ATTENDED: ((S.CONFIRMED,), S.ATTENDED, frozenset({"office", "base"})),
    Action.NO_SHOW: ((S.CONFIRMED,), S.NO_SHOW, frozenset({"office", "base"})),
}
# Who is told of each step: the other side.
NOTICE = {Action.CONFIRM: K.INTERVIEW_CONFIRMED, Action.OTHER_TIME: K.INTERVIEW_OTHER_TIME,
          Action.CANCEL: K.INTERVIEW_CANCELLED}


def side_of(actor: Account, referral: Referral) -> set[str]:
    """Which side the actor speaks for on this referral: the office keeping the file, the base, or (an
    administrator of the area) both."""
    if actor.role == Role.ADMINISTRATOR:
        return {"office", "base"} if policy.keeps_file(actor, referral.candidate) else set()
    if actor.role == Role.CASEWORKER and policy.keeps_file(actor, referral.candidate):
        return {"office"}
    if actor.role == Role.EMPLOYER and referral.slot.company_id == actor.company_id:
        return {"base"}
    return set()


def min_start_text() -> str:
    """Now on China's wall clock, as a datetime-local input's `min` (2026-12-06T17:05)."""
    return f"{clock.china_now():%Y-%m-%dT%H:%M}"


def china_text(moment: dt.datetime) -> str:
    """An instant on China's wall clock, as a notice stores it (2026-12-08 09:30; shown in the reader's style)."""
    return f"{clock.in_china(moment):%Y-%m-%d %H:%M}"


def message_time(moment: dt.datetime) -> str:
    """An instant on China's wall clock as a text message to the person writes it: 2026年12月8日 09:30."""
    local = clock.in_china(moment)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


# ---- reading ------------------------------------------------------------------------------------------

def list_for_referral(*, session: Session, actor: Account, referral_id: int) -> list[ReferralInterview]:
    """A referral's interviews, newest first (the referral through the actor's scope: 404 outside it)."""
    referral = get_referral(session=session, actor=actor, referral_id=referral_id)
    return list(session.scalars(select(ReferralInterview).where(ReferralInterview.referral_id == referral.id)
                                .order_by(ReferralInterview.id.desc())))


def get_interview(*, session: Session, actor: Account, interview_id: int) -> ReferralInterview:
    return policy.find(session, actor, policy.referral_interviews(actor), ReferralInterview, interview_id,
                       _l("No such interview."), object_type="referral_interview")


def allowed_actions(actor: Account, interview: ReferralInterview) -> list[str]:
    """The actions open to the actor now (attendance only once the time has come)."""
    sides = side_of(actor, interview.referral)
    started = clock.now() >= interview.starts_at
    return [name for name, (frm, _to, who) in ACTIONS.items()
            if interview.status in frm and sides & who
            and (started if name in (Action.ATTENDED, Action.NO_SHOW) else True)]


def live_interview(session: Session, referral_id: int) -> ReferralInterview | None:
    return session.scalar(select(ReferralInterview).where(ReferralInterview.referral_id == referral_id,
                                                          ReferralInterview.status.in_(LIVE)).limit(1))


def live_between(*, session: Session, actor: Account, start: dt.datetime, end: dt.datetime,
                 limit: int | None = None) -> list[ReferralInterview]:
    """Interviews still to happen (proposed or confirmed) starting in [start, end), soonest first, of the
    referrals the actor reads."""
    stmt = policy.referral_interviews(actor).where(
        ReferralInterview.status.in_(LIVE), ReferralInterview.starts_at >= start, ReferralInterview.starts_at < end
    ).order_by(ReferralInterview.starts_at, ReferralInterview.id)
    return list(session.scalars(stmt if limit is None else stmt.limit(limit)).unique())


def upcoming(*, session: Session, actor: Account, days: int = 7, limit: int = 20) -> list[ReferralInterview]:
    """From now to `days` China days ahead: an office's list of slips to print and people to remind."""
    until = clock.china_midnight(clock.today() + dt.timedelta(days=days + 1))
    return live_between(session=session, actor=actor, start=clock.now(), end=until, limit=limit)


@dataclass(frozen=True)
class CandidateInterview:
    """One interview of a person, for the file page: arranged for a referral, or planned at a job fair."""

    source: str  # "referral" or "fair"
    starts_at: dt.datetime
    company: str
    slot: str
    status: str  # the status's code in its own vocabulary (referral_interview_status, fair_interview_status)
    place: str | None
    referral_id: int | None = None
    interview_id: int | None = None
    fair_id: int | None = None
    fair_name: str | None = None


def candidate_interviews(*, session: Session, actor: Account, candidate_id: int) -> list[CandidateInterview]:
    """The person's interviews, arranged for referrals and planned at job fairs (read-only here), latest first.
    The file through the actor's scope; referral interviews through the referral scope."""
    from matcher.candidates.service import get_candidate
    from matcher.fairs.models import Fair, FairBooth, FairInterview, FairInvitation
    from matcher.fairs.models import InterviewStatus as FairStatus

    candidate = get_candidate(session=session, actor=actor, candidate_id=candidate_id)
    found: list[CandidateInterview] = []
    for interview in session.scalars(policy.referral_interviews(actor).where(
            Referral.candidate_id == candidate.id)):
        referral = interview.referral
        found.append(CandidateInterview("referral", interview.starts_at, referral.slot.company.name,
                                        referral.slot.title, interview.status.value, interview.place,
                                        referral_id=referral.id, interview_id=interview.id))
    rows = session.execute(
        select(FairInterview, Fair).join(FairInvitation, FairInvitation.id == FairInterview.invitation_id)
        .join(Fair, Fair.id == FairInterview.fair_id).join(FairBooth, FairBooth.id == FairInterview.booth_id)
        .where(FairInvitation.candidate_id == candidate.id, FairInterview.status != FairStatus.CANCELLED)).all()
    for interview, fair in rows:
        starts = clock.at_china_time(fair.held_on, fair.block_start(interview.block))
        found.append(CandidateInterview("fair", starts, interview.booth.company.name, interview.slot.title,
                                        interview.status.value, fair.venue, fair_id=fair.id, fair_name=fair.name))
    return sorted(found, key=lambda item: item.starts_at, reverse=True)


# ---- proposing and answering ------------------------------------------------------------------------------

def propose(*, session: Session, actor: Account, referral_id: int, starts_at: dt.datetime, place: str,
            contact_name: str, contact_phone: str, bring: str | None = None, note: str | None = None
            ) -> ReferralInterview:
    """The base proposes an interview for a referral sent to it. A sent referral moves on to "interview"."""
    referral = get_referral(session=session, actor=actor, referral_id=referral_id)
    if "base" not in side_of(actor, referral):
        raise policy.forbid(actor, _l("The base proposes the interview; the office confirms it."),
                            object_type="referral", object_id=referral.id)
    if referral.status not in OPEN_FOR_INTERVIEW:
        raise Conflict(_l("An interview can be arranged only while the referral waits for the base's answer."),
                       field="referral_id")
    starts_at = clock.as_utc(starts_at)
    errors: dict[str, list[Any]] = {}
    if starts_at <= clock.now():
        errors["starts_at"] = [_l("The interview's time must be in the future.")]
    elif starts_at <= referral.created_at:
        errors["starts_at"] = [_l("The interview cannot be before the referral was made.")]
    elif starts_at > clock.now() + dt.timedelta(days=MAX_DAYS_AHEAD):
        errors["starts_at"] = [_l("The interview must be within %(days)s days.", days=MAX_DAYS_AHEAD)]
    if errors:
        raise Invalid(_l("Some fields are not valid."), errors=errors)
    if live_interview(session, referral.id) is not None:
        raise Conflict(_l("This referral already has an interview arranged; cancel it first."), field="starts_at")
    interview = ReferralInterview(referral_id=referral.id, status=S.PROPOSED, starts_at=starts_at,
                                  place=place.strip(), contact_name=contact_name.strip(),
                                  contact_phone=contact_phone.strip(), bring=(bring or "").strip() or None,
                                  note=(note or "").strip() or None, proposed_by_id=actor.id)
    session.add(interview)
    if referral.status == ReferralStatus.SENT:
        move(session, actor, referral, ReferralStatus.INTERVIEW, on_date=clock.today())
    session.flush()
    complete_tasks(session, [interview_task(referral.id)])  # the base's "another time, please" is answered
    audit(session, actor=actor, action="create", object_type="referral_interview", object_id=interview.id,
          fields=("referral_id", "starts_at", "place", "contact_name", "contact_phone"))
    _tell(session, interview, K.INTERVIEW_PROPOSED, office=True)
    uow.flush(session)
    return interview


def act(*, session: Session, actor: Account, interview_id: int, action: str, note: str | None = None
        ) -> ReferralInterview:
    """Confirm, ask for another time, cancel, or record attended / no-show."""
    interview = get_interview(session=session, actor=actor, interview_id=interview_id)
    if action not in ACTIONS:
        raise Invalid(_l("Unknown action."), field="action")
    frm, to, who = ACTIONS[action]
    sides = side_of(actor, interview.referral)
    if not sides & who:
        raise policy.forbid(actor, _l("Your side cannot take this step."), object_type="referral_interview",
                            object_id=interview.id, field="action")
    if interview.status not in frm:
        raise Conflict(_l("This interview is no longer open to this step."), field="action")
    now = clock.now()
    if action in (Action.ATTENDED, Action.NO_SHOW) and now < interview.starts_at:
        raise Conflict(_l("Attendance can be recorded once the interview's time has come."), field="action")
    if action == Action.CONFIRM and now >= interview.starts_at:
        raise Conflict(_l("The proposed time has passed; ask the base for another time."), field="action")
    moved = session.execute(
        update(ReferralInterview)
        .where(ReferralInterview.id == interview.id, ReferralInterview.status == interview.status)
        .values(status=to, decided_by_id=actor.id, decided_at=now, updated_at=now,
                note=(note or "").strip() or interview.note)
        .execution_options(synchronize_session=False)).rowcount
    if moved != 1:
        raise Conflict(_l("Someone else changed this interview just now; reload and try again."), field="action")
    session.expire(interview)
    complete_tasks(session, [interview_task(interview.referral_id)])  # the step the last notice asked for is taken
    audit(session, actor=actor, action="update", object_type="referral_interview", object_id=interview.id,
          fields=("status",))
    if action in NOTICE:
        # The office's steps go to the base; a cancellation goes to the side that did not cancel.
        office = action == Action.CANCEL and "office" not in sides
        _tell(session, interview, NOTICE[action], office=office, base=not office)
    uow.flush(session)
    return interview


def _tell(session: Session, interview: ReferralInterview, kind: NotificationKind, *, office: bool = False,
          base: bool = False) -> None:
    """The other side's notice (ids, the public file number, the slot and the time only)."""
    referral = interview.referral
    recipients: list[int] = []
    if office:
        recipients += caseworkers_of(session, [referral.candidate.office_id]).get(referral.candidate.office_id, [])
    if base:
        recipients += employers_of(session, [referral.slot.company_id]).get(referral.slot.company_id, [])
    notify(session, account_ids=recipients, kind=kind, key=f"interview:{interview.id}:{kind.value}",
           subject_type="referral", subject_id=referral.id,
           params={"public_id": referral.candidate.public_id, "slot": referral.slot.title,
                   "at": china_text(interview.starts_at)})


# ---- the person's text messages -----------------------------------------------------------------------

def text_params(interview: ReferralInterview) -> list[str]:
    """The values of the templates (matcher.notify.sms.TEMPLATES): time, place, contact person and phone."""
    return [message_time(interview.starts_at), interview.place, interview.contact_name, interview.contact_phone]


def send_appointment_text(session: Session, interview_id: int, messenger: TextMessenger | None) -> str:
    """Text the person their confirmed appointment, once. Answers what happened: "sent", "no_provider",
    "no_phone", "not_confirmed", "already_sent" or "failed" (the error's code kept on the interview)."""
    return _text(session, interview_id, messenger, "appointment")


def _text(session: Session, interview_id: int, messenger: TextMessenger | None, template: str) -> str:
    interview = session.get(ReferralInterview, interview_id)
    if interview is None or interview.status != S.CONFIRMED:
        return "not_confirmed"
    column = (ReferralInterview.appointment_texted_at if template == "appointment"
              else ReferralInterview.reminder_texted_at)
    if getattr(interview, column.key) is not None:
        return "already_sent"
    if messenger is None:
        return "no_provider"
    phone = session.scalar(select(Candidate.phone).join(Referral, Referral.candidate_id == Candidate.id)
                           .where(Referral.id == interview.referral_id))
    if not phone:
        return "no_phone"
    # Claimed first (a conditional update), so two sweeps at once send it once.
    claimed = session.execute(update(ReferralInterview).where(ReferralInterview.id == interview.id, column.is_(None))
                              .values({column.key: clock.now()}).execution_options(synchronize_session=False)
                              ).rowcount
    if claimed != 1:
        return "already_sent"
    try:
        messenger.send_text(phone, template, text_params(interview))
    except Exception as exc:  # noqa: BLE001 - a provider's failure is recorded, never raised into the page
        code = error_code(exc)
        session.execute(update(ReferralInterview).where(ReferralInterview.id == interview.id)
                        .values({column.key: None, "text_error": code}).execution_options(synchronize_session=False))
        log.warning("interview %s: %s text message failed (%s)", interview.id, template, code)
        session.expire(interview)
        return "refused" if isinstance(exc, RecipientRefused) else "failed"
    session.execute(update(ReferralInterview).where(ReferralInterview.id == interview.id)
                    .values(text_error=None).execution_options(synchronize_session=False))
    session.expire(interview)
    return "sent"


def text_after_confirming(interview_id: int, messenger: TextMessenger | None) -> None:
    """Have the appointment texted once the confirmation is committed (a kept write of the unit of work): a
    confirmation rolled back sends nothing, since the text goes only to a confirmed interview."""
    uow.keep(lambda session: send_appointment_text(session, interview_id, messenger))


# ---- the day before ---------------------------------------------------------------------------------------

def due_tomorrow(session: Session, as_of: dt.date) -> Select:
    """Confirmed interviews on the China day after `as_of`."""
    day = as_of + dt.timedelta(days=1)
    return select(ReferralInterview).where(
        ReferralInterview.status == S.CONFIRMED,
        ReferralInterview.starts_at >= clock.china_midnight(day),
        ReferralInterview.starts_at < clock.china_midnight(day + dt.timedelta(days=1)))


def reminder_rows(session: Session, as_of: dt.date) -> list[dict[str, Any]]:
    """The in-app reminders of tomorrow's interviews, to the office and the base (once per interview)."""
    interviews = list(session.scalars(due_tomorrow(session, as_of)))
    offices = caseworkers_of(session, {i.referral.candidate.office_id for i in interviews})
    companies = employers_of(session, {i.referral.slot.company_id for i in interviews})
    rows = []
    for interview in interviews:
        referral = interview.referral
        params = {"public_id": referral.candidate.public_id, "slot": referral.slot.title,
                  "at": china_text(interview.starts_at)}
        for account_id in (offices.get(referral.candidate.office_id, [])
                           + companies.get(referral.slot.company_id, [])):
            rows.append(notification_row(account_id, K.INTERVIEW_REMINDER, f"interview:{interview.id}:reminder",
                                         subject_type="referral", subject_id=referral.id, params=params))
    return rows


def send_reminder_texts(session: Session, as_of: dt.date, messenger: TextMessenger | None) -> dict[str, int]:
    """Text each person with a confirmed interview tomorrow, once; answers how many of each outcome."""
    outcomes: dict[str, int] = {}
    if messenger is None:
        return outcomes
    ids = list(session.scalars(due_tomorrow(session, as_of).with_only_columns(ReferralInterview.id)
                               .where(ReferralInterview.reminder_texted_at.is_(None))))
    for interview_id in ids:
        outcome = _text(session, interview_id, messenger, "reminder")
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        session.flush()
    return outcomes


# ---- attendance, for the reports -----------------------------------------------------------------------

def attendance_counts(session: Session, *, candidate_scope: Select, start: dt.datetime, end: dt.datetime
                      ) -> dict[str, int]:
    """Interviews confirmed for a time in [start, end) of the candidates in `candidate_scope` (a select of
    candidate ids): scheduled (confirmed, then held, missed or still to come), attended and no-show."""
    from sqlalchemy import func

    rows = session.execute(
        select(ReferralInterview.status, func.count()).join(Referral, Referral.id == ReferralInterview.referral_id)
        .where(Referral.candidate_id.in_(candidate_scope), ReferralInterview.starts_at >= start,
               ReferralInterview.starts_at < end, ReferralInterview.status.in_((S.CONFIRMED, S.ATTENDED, S.NO_SHOW)))
        .group_by(ReferralInterview.status)).all()
    counts = {status: count for status, count in rows}
    return {"scheduled": sum(counts.values()), "attended": counts.get(S.ATTENDED, 0),
            "no_show": counts.get(S.NO_SHOW, 0)}


WEEKDAYS = "一二三四五六日"


def chinese_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日（星期{WEEKDAYS[day.weekday()]}）"


def slip_view(interview: ReferralInterview) -> dict[str, Any]:
    """What the printed slip shows (for the office): no offence or risk data, only the appointment. The slip is
    for the person and written in Chinese, the time on China's clock."""
    referral = interview.referral
    local = clock.in_china(interview.starts_at)
    return {"when": f"{chinese_date(local.date())} {local:%H:%M}", "printed_on": chinese_date(clock.today()),
            "name": referral.candidate.name, "public_id": referral.candidate.public_id,
            "company": referral.slot.company.name, "slot": referral.slot.title,
            "starts_at": interview.starts_at, "place": interview.place, "contact_name": interview.contact_name,
            "contact_phone": interview.contact_phone, "bring": interview.bring or DEFAULT_BRING,
            "office": referral.candidate.office.name if referral.candidate.office else None,
            "office_phone": referral.candidate.office.phone if referral.candidate.office else None}

