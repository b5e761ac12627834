"""Notifications: creating them once (by key), reading one's own, and their text in the reader's language.

A notification stores its kind and the values of its message (`params_json`), never the text: the text is
rendered when read, in the reader's language (English message ids, Chinese translations), and for an email in
the bureau's default language. The values are chosen so that no message can carry personal data: candidates
appear by their public file number (XT-…) only, with slot titles, base names, dates and counts; never a name,
offence, risk grade, ID number, address or household registration.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask_babel import format_date, get_locale, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, case, func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from matcher import clock, policy, uow
from matcher.apiutil import apply_sort
from matcher.auth.models import Account, Role
from matcher.notify.models import Notification, NotificationKind
from matcher.places.models import code_prefix

N_ = str  # marks a msgid for extraction; translated when rendered

K = NotificationKind
# (kind, the reader's role or None for any) -> (subject, body). Placeholders are filled from params_json.
MESSAGES: dict[tuple[NotificationKind, Role | None], tuple[str, str]] = {
    (K.NEW_REFERRAL, None): (
        N_("New referral: %(public_id)s for %(slot)s"),
        N_("A judicial office referred candidate %(public_id)s to your slot “%(slot)s”. Open the referral to "
           "answer: interview, offer or decline.")),
    (K.ANSWER_DUE, None): (
        N_("Waiting for your answer: %(public_id)s for %(slot)s"),
        N_("The referral of %(public_id)s to “%(slot)s” has waited %(days)s days for your answer. Please arrange "
           "an interview, make an offer, or decline with a reason.")),
    (K.CHECK_DUE, Role.EMPLOYER): (
        N_("Please confirm the %(days)s-day stay of %(public_id)s"),
        N_("%(public_id)s started in “%(slot)s”. By %(due_on)s, please confirm whether the person is still with "
           "you %(days)s days after starting.")),
    (K.CHECK_DUE, None): (
        N_("%(days)s-day check due: %(public_id)s"),
        N_("The %(days)s-day check of %(public_id)s at %(company)s (“%(slot)s”) is due on %(due_on)s. Visit or "
           "call, and record whether the person is still there.")),
    (K.CHECK_OVERDUE, Role.ADMINISTRATOR): (
        N_("%(count)s follow-up checks overdue"),
        N_("On %(on)s, %(count)s follow-up checks of placements in your area are past their date.")),
    (K.CHECK_OVERDUE, None): (
        N_("Check overdue: %(public_id)s"),
        N_("The %(days)s-day check of %(public_id)s at %(company)s (“%(slot)s”) was due on %(due_on)s and has "
           "not been recorded.")),
    (K.CERTIFICATION_EXPIRING, Role.EMPLOYER): (
        N_("Your base's certification ends on %(until)s"),
        N_("The certification of %(company)s as a resettlement base ends on %(until)s. Contact the justice "
           "bureau to renew it; after that date the base cannot post or fill slots.")),
    (K.CERTIFICATION_EXPIRING, None): (
        N_("Certification ends soon: %(company)s"),
        N_("The certification of %(company)s as a resettlement base ends on %(until)s. Renew it after review, "
           "or let it lapse.")),
    (K.CERTIFICATION_REFUSED, None): (
        N_("Not certified: %(company)s"),
        N_("The justice bureau decided on %(on)s not to certify %(company)s as a resettlement base. The reason is "
           "on your base's page; you may apply again once it is dealt with.")),
    (K.AGREEMENT_EXPIRING, None): (
        N_("Agreement ends soon: %(company)s"),
        N_("The assistance agreement (no. %(reference)s) with %(company)s ends on %(ends_on)s.")),
    (K.BASE_FLAGGED, None): (
        N_("Base to review: %(company)s"),
        N_("%(company)s is flagged for review: %(flags)s. See its record.")),
    (K.PRE_RELEASE, None): (
        N_("Pre-release hand-over: %(public_id)s"),
        N_("%(public_id)s, due for release on %(release_date)s, was handed over to your office.")),
    (K.FAIR_INVITATION, None): (
        N_("Job-fair invitation: %(public_id)s"),
        N_("%(public_id)s is invited to the job fair on %(fair_date)s. Confirm attendance and consent, or "
           "decline.")),
    (K.TRANSFER_REQUEST, None): (
        N_("Transfer requested: %(public_id)s"),
        N_("%(office)s met the person of file %(public_id)s, kept by another office, and asks for the file to be "
           "transferred to it. If the person now lives there, move the file to that office.")),
    (K.EXPORT_REQUESTED, None): (
        N_("Export to decide: request no. %(number)s"),
        N_("%(requester)s asks for an identified export (%(export)s). Another administrator must approve or refuse "
           "it on the export approvals page.")),
    (K.EXPORT_APPROVED, None): (
        N_("Your export is approved: request no. %(number)s"),
        N_("Your identified export (%(export)s) was approved. Download it once from the exports page before "
           "%(until)s.")),
    (K.EXPORT_REFUSED, None): (
        N_("Your export was refused: request no. %(number)s"),
        N_("Your identified export (%(export)s) was refused. The administrator's note is on the exports page.")),
    (K.EXPORT_EXPIRED, None): (
        N_("Your export approval expired: request no. %(number)s"),
        N_("The approval of your identified export (%(export)s) expired before the file was downloaded. Ask again "
           "if you still need it.")),
    (K.INTERVIEW_PROPOSED, None): (
        N_("Interview proposed: %(public_id)s, %(at)s"),
        N_("The base proposes an interview of %(public_id)s for “%(slot)s” at %(at)s. Open the referral to "
           "confirm it or ask for another time.")),
    (K.INTERVIEW_CONFIRMED, None): (
        N_("Interview confirmed: %(public_id)s, %(at)s"),
        N_("The judicial office confirmed the interview of %(public_id)s for “%(slot)s” at %(at)s.")),
    (K.INTERVIEW_OTHER_TIME, None): (
        N_("Another time asked for: %(public_id)s"),
        N_("The judicial office asks for another time for the interview of %(public_id)s for “%(slot)s” "
           "(proposed for %(at)s). Open the referral to propose a new time.")),
    (K.INTERVIEW_CANCELLED, None): (
        N_("Interview cancelled: %(public_id)s, %(at)s"),
        N_("The interview of %(public_id)s for “%(slot)s” at %(at)s was cancelled.")),
    (K.INTERVIEW_REMINDER, None): (
        N_("Interview tomorrow: %(public_id)s, %(at)s"),
        N_("Reminder: the interview of %(public_id)s for “%(slot)s” is tomorrow, %(at)s.")),
    (K.BASE_PAUSED, Role.EMPLOYER): (
        N_("Your base is paused for new referrals"),
        N_("%(count)s referrals to %(company)s have waited more than %(days)s days for your answer, so from %(on)s "
           "judicial offices cannot refer anyone to the base. Answer the waiting referrals (interview, offer or "
           "decline with a reason) and referrals resume at once.")),
    (K.BASE_PAUSED, None): (
        N_("Base paused for unanswered referrals: %(company)s"),
        N_("%(company)s has left %(count)s referrals unanswered for more than %(days)s days and is paused for new "
           "referrals from %(on)s: its slots are left out of recommendations and assignment plans. It resumes when "
           "it answers them; an administrator may lift the pause on the base's page.")),
}
FALLBACK = (N_("Notification"), N_("You have a new notification."))
# What an identified export holds (matcher.exports.service.IDENTIFIED_KINDS), as its notices name it.
EXPORT_LABELS = {"candidates": N_("candidates' files"), "referrals": N_("referral history"),
                 "fair_plan": N_("job fair interview plan")}
# Why a base is flagged (codes from matcher.bases.records); an unknown code is shown as it is.
FLAG_LABELS = {
    "never_answers": N_("never answers referrals"),
    "loses_most": N_("loses most of the people placed there"),
    "many_complaints": N_("has many open complaints"),
}
DATE_PARAMS = {"due_on", "until", "ends_on", "on", "release_date", "fair_date"}
TIME_PARAMS = {"at"}  # a China wall-clock time, "2026-12-09 09:30", shown labelled: 2026年12月9日 09:30（北京时间）
EMAIL_FOOTER = N_("Read and manage your notifications in Xintu, under “Notifications”. This message was sent "
                  "automatically; please do not reply.")
# The values a message may hold. Anything else handed to `notify` is dropped, so personal data cannot slip in.
ALLOWED_PARAMS = {"public_id", "slot", "company", "days", "due_on", "until", "ends_on", "reference", "flags",
                  "count", "on", "release_date", "fair_date", "number", "export", "requester", "at", "office"}


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


class _Values(dict):
    """A missing placeholder renders as a dash instead of failing the whole page."""

    def __missing__(self, key):
        return "—"


# ---- creating ------------------------------------------------------------------------------------

def notification_row(account_id: int, kind: NotificationKind, key: str, *, subject_type: str | None = None,
                     subject_id: int | None = None, params: dict[str, Any] | None = None,
                     task: str | None = None) -> dict[str, Any]:
    """One row for `add_notifications`. `task`: the task the notice announces (see Notification), by default the
    one its kind implies (`task_key`); a notice of no task only informs."""
    clean = {name: _plain(value) for name, value in (params or {}).items() if name in ALLOWED_PARAMS}
    task = task or task_key(kind, key, subject_type=subject_type, subject_id=subject_id)
    return {"account_id": account_id, "kind": kind, "key": key[:80], "subject_type": subject_type,
            "subject_id": subject_id, "params_json": json.dumps(clean, ensure_ascii=False, sort_keys=True),
            "created_at": clock.now(), "task_key": task[:80] if task else None}


def task_key(kind: NotificationKind, key: str, *, subject_type: str | None = None,
             subject_id: int | None = None) -> str | None:
    """The task a notice of this kind announces, named as matcher.notify.tasks finishes it; None: it informs."""
    if kind == K.NEW_REFERRAL and subject_id is not None:
        return referral_task(subject_id, "sent")  # answer the referral: it leaves `sent`
    if kind == K.ANSWER_DUE:
        return key  # referral:ID:STATUS, the status it waits in
    if kind in (K.CHECK_DUE, K.CHECK_OVERDUE) and key.startswith("task:"):
        return follow_up_task(int(key.split(":")[1]))
    if kind == K.CERTIFICATION_EXPIRING and subject_id is not None:
        return certification_task(subject_id)
    if kind == K.FAIR_INVITATION and subject_type == "fair_invitation" and subject_id is not None:
        return f"fair_invitation:{subject_id}"
    if kind == K.EXPORT_REQUESTED and subject_id is not None:
        return export_decision_task(subject_id)
    if kind == K.EXPORT_APPROVED and subject_id is not None:
        return export_download_task(subject_id)
    if kind in (K.INTERVIEW_PROPOSED, K.INTERVIEW_OTHER_TIME) and subject_id is not None:
        return interview_task(subject_id)  # answer the proposal, or propose another time
    return None


def referral_task(referral_id: int, status: str) -> str:
    return f"referral:{referral_id}:{status}"


def follow_up_task(task_id: int) -> str:
    return f"follow_up:{task_id}"


def certification_task(company_id: int) -> str:
    return f"company:{company_id}:certification"


def interview_task(referral_id: int) -> str:
    """The open step of a referral's interview: the office answers a proposal, the base proposes another time.
    Done when the other side takes its step (matcher.interviews.service)."""
    return f"referral:{referral_id}:interview"


def export_decision_task(request_id: int) -> str:
    return f"export_request:{request_id}"


def export_download_task(request_id: int) -> str:
    return f"export_request:{request_id}:download"


def complete_tasks(session: Session, task_keys: Iterable[str]) -> int:
    """The notices of these tasks are done (and read), in the caller's unit of work; how many changed. A Core
    UPDATE on the session's connection, so it may run inside a flush (matcher.notify.tasks)."""
    keys = sorted({key[:80] for key in task_keys})
    if not keys:
        return 0
    now = clock.now()
    table = Notification.__table__
    changed = 0
    for start in range(0, len(keys), 500):
        changed += session.connection().execute(
            update(table).where(table.c.task_key.in_(keys[start:start + 500]), table.c.done_at.is_(None))
            .values(done_at=now, read_at=func.coalesce(table.c.read_at, now))).rowcount or 0
    return changed


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def add_notifications(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert the rows; one whose (account, kind, key) exists already is skipped, so running a sweep twice,
    or two sweeps at once, creates each notice once. Part of the caller's transaction (no commit)."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    if dialect in ("sqlite", "postgresql"):
        if dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert
        else:
            from sqlalchemy.dialects.postgresql import insert
        statement = insert(Notification).on_conflict_do_nothing(index_elements=["account_id", "kind", "key"])
        for start in range(0, len(rows), 1000):
            session.execute(statement, rows[start:start + 1000])
        return
    for row in rows:  # another database: look first (a concurrent duplicate still fails on the constraint)
        exists = session.scalar(select(Notification.id).where(
            Notification.account_id == row["account_id"], Notification.kind == row["kind"],
            Notification.key == row["key"]))
        if exists is None:
            session.add(Notification(**row))
    session.flush()


def notify(session: Session, *, account_ids: Iterable[int], kind: NotificationKind, key: str,
           subject_type: str | None = None, subject_id: int | None = None,
           params: dict[str, Any] | None = None, task: str | None = None) -> None:
    """The same notice to each account (once per account, kind and key); part of the caller's transaction.
    `task`: the task it announces, when not the one its kind implies (see `task_key`)."""
    add_notifications(session, [notification_row(account_id, kind, key, subject_type=subject_type,
                                                 subject_id=subject_id, params=params, task=task)
                                for account_id in dict.fromkeys(account_ids)])


# ---- who receives ----------------------------------------------------------------------------------

def employers_of(session: Session, company_ids: Iterable[int]) -> dict[int, list[int]]:
    """Active employer accounts by company."""
    ids = set(company_ids)
    found: dict[int, list[int]] = defaultdict(list)
    if ids:
        for account_id, company_id in session.execute(select(Account.id, Account.company_id).where(
                Account.role == Role.EMPLOYER, Account.company_id.in_(ids), Account.is_active_account)
                .order_by(Account.id)):
            found[company_id].append(account_id)
    return found


def caseworkers_of(session: Session, office_ids: Iterable[int]) -> dict[int, list[int]]:
    """Active caseworker accounts by judicial office (the office that keeps the file)."""
    ids = set(office_ids)
    found: dict[int, list[int]] = defaultdict(list)
    if ids:
        for account_id, office_id in session.execute(select(Account.id, Account.office_id).where(
                Account.role == Role.CASEWORKER, Account.office_id.in_(ids), Account.is_active_account)
                .order_by(Account.id)):
            found[office_id].append(account_id)
    return found


def administrators(session: Session) -> list[tuple[int, str]]:
    """Active administrators with the place-code prefix of their bureau's area."""
    return [(account_id, code_prefix(bureau_code or "")) for account_id, bureau_code in session.execute(
        select(Account.id, Account.bureau_code).where(Account.role == Role.ADMINISTRATOR,
                                                      Account.is_active_account).order_by(Account.id))]


def administrators_for(admins: list[tuple[int, str]], place_code: str) -> list[int]:
    """The administrators whose area holds the place."""
    return [account_id for account_id, prefix in admins if place_code.startswith(prefix)]


# ---- reading one's own -------------------------------------------------------------------------------

# The columns the list may be sorted by besides its own order (open first, unread first, newest first).
SORT_COLUMNS = {"created_at": Notification.created_at, "kind": Notification.kind}
SHOWS = ("all", "open", "unread", "done")


def is_open(notification: Notification) -> bool:
    return notification.done_at is None


def list_notifications(*, session: Session, actor: Account, unread: bool | None = None, show: str | None = None,
                       q: str | None = None, sort: str | None = None) -> Select:
    """Open first (tasks not done yet, and notices not yet read), unread first among them, then newest first;
    done ones last. `show`: open, unread (open and not read) or done; `q`: any part of the values a notice holds
    (a file number, a slot's title, a base's name); `sort`: created_at or kind ("-" in front: descending)."""
    stmt = policy.notifications(actor)
    if unread is True or show == "unread":
        stmt = stmt.where(Notification.read_at.is_(None), Notification.done_at.is_(None))
    elif unread is False:
        stmt = stmt.where(Notification.read_at.is_not(None))
    if show == "open":
        stmt = stmt.where(Notification.done_at.is_(None))
    elif show == "done":
        stmt = stmt.where(Notification.done_at.is_not(None))
    if q and q.strip():
        stmt = stmt.where(Notification.params_json.contains(q.strip(), autoescape=True))
    if sort and sort.lstrip("-") in SORT_COLUMNS:
        return apply_sort(stmt, sort, SORT_COLUMNS, Notification.id.desc())
    return stmt.order_by(case((Notification.done_at.is_(None), 0), else_=1),
                         case((Notification.read_at.is_(None), 0), else_=1), Notification.created_at.desc(),
                         Notification.id.desc())


def unread_count(*, session: Session, actor: Account) -> int:
    """Open notices not read yet (the badge): one COUNT over the (account_id, read_at) index."""
    return session.scalar(select(func.count(Notification.id)).where(
        Notification.account_id == actor.id, Notification.read_at.is_(None), Notification.done_at.is_(None))) or 0


def open_count(*, session: Session, actor: Account) -> int:
    """Open notices, read or not: tasks still to do and notices not yet read."""
    return session.scalar(select(func.count(Notification.id)).where(
        Notification.account_id == actor.id, Notification.done_at.is_(None))) or 0


def get_notification(*, session: Session, actor: Account, notification_id: int) -> Notification:
    return policy.find(session, actor, policy.notifications(actor), Notification, notification_id,
                       _l("No such notification."), object_type="notification")


def mark_read(*, session: Session, actor: Account, notification_id: int) -> Notification:
    """Read: a notice that only informs is then done; one that announces a task stays open until the task is."""
    notification = get_notification(session=session, actor=actor, notification_id=notification_id)
    if notification.read_at is None:
        notification.read_at = clock.now()
        if notification.task_key is None and notification.done_at is None:
            notification.done_at = notification.read_at
        uow.flush(session)
    return notification


def mark_all_read(*, session: Session, actor: Account) -> int:
    """Marks every unread notification of the actor read (those that only inform are then done); how many."""
    now = clock.now()
    changed = session.execute(update(Notification).where(
        Notification.account_id == actor.id, Notification.read_at.is_(None))
        .values(read_at=now, done_at=case((Notification.task_key.is_(None), func.coalesce(Notification.done_at, now)),
                                          else_=Notification.done_at))
        .execution_options(synchronize_session=False)).rowcount
    uow.flush(session)
    return changed or 0


# ---- the text --------------------------------------------------------------------------------------

def params_of(notification: Notification) -> dict[str, Any]:
    try:
        params = json.loads(notification.params_json or "{}")
    except ValueError:
        return {}
    return params if isinstance(params, dict) else {}


def render(notification: Notification, role: Role | None = None) -> Rendered:
    """Subject and body in the current locale (the request's, or the one forced for an email)."""
    subject, body = MESSAGES.get((notification.kind, role)) or MESSAGES.get((notification.kind, None)) or FALLBACK
    values = _Values(params_of(notification))
    for name in DATE_PARAMS & set(values):  # a date in the one style of the pages (2026年12月14日, Dec 14, 2026)
        try:
            values[name] = format_date(dt.date.fromisoformat(str(values[name])), "medium")
        except ValueError:
            pass
    for name in TIME_PARAMS & set(values):  # the same date style, then the time: 2026年12月9日 09:30
        try:
            moment = dt.datetime.fromisoformat(str(values[name]))
            values[name] = gettext("%(moment)s (China time)",
                                   moment=f"{format_date(moment.date(), 'medium')} {moment:%H:%M}")
        except ValueError:
            pass
    if values.get("export") in EXPORT_LABELS:
        values["export"] = gettext(EXPORT_LABELS[values["export"]])
    if "flags" in values:
        values["flags"] = _flag_list(values["flags"])
    try:
        return Rendered(gettext(subject) % values, gettext(body) % values)
    except (TypeError, ValueError):  # params that do not fit the message: say something rather than fail
        return Rendered(gettext(FALLBACK[0]), gettext(FALLBACK[1]))


def _flag_list(flags: Any) -> str:
    codes = flags if isinstance(flags, list) else [flags]
    locale = get_locale()
    separator = "、" if locale is not None and locale.language == "zh" else ", "
    return separator.join(gettext(FLAG_LABELS[code]) if code in FLAG_LABELS else str(code) for code in codes)


def email_text(notification: Notification, role: Role | None) -> Rendered:
    rendered = render(notification, role)
    return Rendered(rendered.subject, f"{rendered.body}\n\n--\n{gettext(EMAIL_FOOTER)}\n")


def unread_badge(*, session: Session, actor: Account) -> int:
    """The header's unread count; 0 when the database cannot answer, so that an error page about a broken
    database still renders. In a savepoint, so a failed count leaves the request's unit of work usable."""
    try:
        with session.begin_nested():
            return unread_count(session=session, actor=actor)
    except SQLAlchemyError:
        return 0
