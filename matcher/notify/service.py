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

from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, case, func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from matcher import clock, policy, uow
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
    (K.INTERVIEW_PROPOSED, None): (
        N_("Interview proposed: %(public_id)s, %(at)s"),
        N_("The base proposes an interview of %(public_id)s for “%(slot)s” at %(at)s (China time). Open the "
           "referral to confirm it or ask for another time.")),
    (K.INTERVIEW_CONFIRMED, None): (
        N_("Interview confirmed: %(public_id)s, %(at)s"),
        N_("The judicial office confirmed the interview of %(public_id)s for “%(slot)s” at %(at)s (China time).")),
    (K.INTERVIEW_OTHER_TIME, None): (
        N_("Another time asked for: %(public_id)s"),
        N_("The judicial office asks for another time for the interview of %(public_id)s for “%(slot)s” "
           "(proposed for %(at)s, China time). Open the referral to propose a new time.")),
    (K.INTERVIEW_CANCELLED, None): (
        N_("Interview cancelled: %(public_id)s, %(at)s"),
        N_("The interview of %(public_id)s for “%(slot)s” at %(at)s (China time) was cancelled.")),
    (K.INTERVIEW_REMINDER, None): (
        N_("Interview tomorrow: %(public_id)s, %(at)s"),
        N_("Reminder: the interview of %(public_id)s for “%(slot)s” is tomorrow, %(at)s (China time).")),
}
FALLBACK = (N_("Notification"), N_("You have a new notification."))
# Why a base is flagged (codes from matcher.bases.records); an unknown code is shown as it is.
FLAG_LABELS = {
    "never_answers": N_("never answers referrals"),
    "loses_most": N_("loses most of the people placed there"),
    "many_complaints": N_("has many open complaints"),
}
EMAIL_FOOTER = N_("Read and manage your notifications in Xintu, under “Notifications”. This message was sent "
                  "automatically; please do not reply.")
# The values a message may hold. Anything else handed to `notify` is dropped, so personal data cannot slip in.
ALLOWED_PARAMS = {"public_id", "slot", "company", "days", "due_on", "until", "ends_on", "reference", "flags",
                  "count", "on", "release_date", "fair_date", "at"}


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
                     subject_id: int | None = None, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """One row for `add_notifications`."""
    clean = {name: _plain(value) for name, value in (params or {}).items() if name in ALLOWED_PARAMS}
    return {"account_id": account_id, "kind": kind, "key": key[:80], "subject_type": subject_type,
            "subject_id": subject_id, "params_json": json.dumps(clean, ensure_ascii=False, sort_keys=True),
            "created_at": clock.now()}


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
           params: dict[str, Any] | None = None) -> None:
    """The same notice to each account (once per account, kind and key); part of the caller's transaction."""
    add_notifications(session, [notification_row(account_id, kind, key, subject_type=subject_type,
                                                 subject_id=subject_id, params=params)
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

def list_notifications(*, session: Session, actor: Account, unread: bool | None = None) -> Select:
    """Unread first, then newest first."""
    stmt = policy.notifications(actor)
    if unread is True:
        stmt = stmt.where(Notification.read_at.is_(None))
    elif unread is False:
        stmt = stmt.where(Notification.read_at.is_not(None))
    return stmt.order_by(case((Notification.read_at.is_(None), 0), else_=1), Notification.created_at.desc(),
                         Notification.id.desc())


def unread_count(*, session: Session, actor: Account) -> int:
    """One COUNT over the (account_id, read_at) index."""
    return session.scalar(select(func.count(Notification.id)).where(
        Notification.account_id == actor.id, Notification.read_at.is_(None))) or 0


def get_notification(*, session: Session, actor: Account, notification_id: int) -> Notification:
    return policy.find(session, actor, policy.notifications(actor), Notification, notification_id,
                       _l("No such notification."), object_type="notification")


def mark_read(*, session: Session, actor: Account, notification_id: int) -> Notification:
    notification = get_notification(session=session, actor=actor, notification_id=notification_id)
    if notification.read_at is None:
        notification.read_at = clock.now()
        uow.flush(session)
    return notification


def mark_all_read(*, session: Session, actor: Account) -> int:
    """Marks every unread notification of the actor read; returns how many."""
    changed = session.execute(update(Notification).where(
        Notification.account_id == actor.id, Notification.read_at.is_(None)).values(read_at=clock.now())
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
