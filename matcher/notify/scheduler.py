"""The daily sweep: the notices that come due with time, then the emails still to send.

`flask --app matcher notify run [--on DATE]` runs it (from cron or a systemd timer, once a day; see README).
Every notice has a key, so a second run on the same day, or two runs at once, create nothing new:

* ANSWER_DUE: a referral sent (or at interview) that has waited 7 days in that status -> the base's employers
  (once per referral and status);
* CHECK_DUE: a follow-up check due within 7 days -> the file's caseworkers and the base's employers;
* CHECK_OVERDUE: a check past its date -> the file's caseworkers (once per check), and to administrators one
  notice a day with the number overdue in their area;
* CERTIFICATION_EXPIRING: a certification ending within 30 days -> the area's administrators and the base's
  employers (once per valid-until date, so a renewal warns again a month before the new date);
* AGREEMENT_EXPIRING: an assistance agreement ending within 30 days, not followed by a later one -> the area's
  administrators;
* INTERVIEW_REMINDER: an interview arranged for a referral and confirmed, on the next day -> the file's caseworkers
  and the base's employers (once per interview); and the person gets a text message (once), where a provider is
  configured (matcher.notify.sms);
* BASE_FLAGGED: a base that `matcher.bases.records.base_records` flags for review (never answers, loses most
  people, many open complaints; its expiry flags are the two notices above) -> the area's administrators, once a
  month while the flags hold (and again when the set of flags changes).

Then `send_pending` emails what has not been emailed yet (see matcher.notify.channels).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from matcher import clock, uow
from matcher.auth.models import Account
from matcher.bases.models import Agreement, CertificationStatus, Company
from matcher.candidates.models import Candidate
from matcher.clock import today
from matcher.followup.models import FollowUpTask, TaskStatus
from matcher.interviews.service import reminder_rows, send_reminder_texts
from matcher.notify.channels import Channel, RecipientRefused, short_error
from matcher.notify.models import Notification, NotificationKind
from matcher.notify.service import (
    add_notifications,
    administrators,
    administrators_for,
    caseworkers_of,
    email_text,
    employers_of,
    notification_row,
)
from matcher.notify.sms import TextMessenger
from matcher.offices.models import JudicialOffice
from matcher.referrals.lifecycle import ReferralStatus
from matcher.referrals.models import Referral, ReferralEvent
from matcher.slots.models import Slot

log = logging.getLogger(__name__)
K = NotificationKind

ANSWER_WAIT_DAYS = 7  # a referral unanswered this long reminds the base
CHECK_AHEAD_DAYS = 7  # a follow-up check is announced this long before its date
EXPIRY_AHEAD_DAYS = 30  # certifications and agreements are flagged a month ahead
EMAIL_RETRY_DAYS = 3  # an email that keeps failing is retried on each sweep for this long, then given up
EMAIL_BATCH = 1000  # at most this many emails per sweep; the rest go on the next one
AWAITING_ANSWER = (ReferralStatus.SENT, ReferralStatus.INTERVIEW)
# Base-record flags that have their own notices (CERTIFICATION_EXPIRING, AGREEMENT_EXPIRING), not BASE_FLAGGED.
EXPIRY_FLAGS = frozenset({"certification_expiring", "agreement_expiring"})


@dataclass
class SweepReport:
    as_of: dt.date
    created: dict[str, int] = field(default_factory=dict)
    emailed: int = 0
    email_failed: int = 0
    email_channel: bool = False
    texts: dict[str, int] = field(default_factory=dict)

    def __str__(self) -> str:
        made = ", ".join(f"{count} {kind}" for kind, count in self.created.items() if count) or "nothing new"
        mail = (f"{self.emailed} emailed, {self.email_failed} failed" if self.email_channel
                else "no outbound channel configured (in-app only)")
        texts = ", ".join(f"{count} {outcome}" for outcome, count in sorted(self.texts.items()))
        return f"{self.as_of.isoformat()}: {made}; {mail}" + (f"; reminder texts: {texts}" if texts else "")


def run_sweep(session: Session, *, as_of: dt.date | None = None, channel: Channel | None = None,
              messenger: TextMessenger | None = None) -> SweepReport:
    """Create the notices due on `as_of` (today by default), commit, then send pending emails through
    `channel` (none: in-app only) and tomorrow's interview reminders by text through `messenger` (none: no
    text messages)."""
    as_of = as_of or today()
    before = _counts(session)
    from matcher.exports.service import expire_due

    expire_due(session)  # approvals past their time expire, and their requesters are told, though nobody looked
    from matcher.bases.answers import check_pauses

    check_pauses(session, as_of=as_of)  # bases that left too many referrals unanswered are paused, and told
    rows: list[dict[str, Any]] = []
    admins = administrators(session)
    rows += answer_due(session, as_of)
    rows += checks(session, as_of, admins)
    rows += certifications_expiring(session, as_of, admins)
    rows += agreements_expiring(session, as_of, admins)
    rows += bases_flagged(session, as_of, admins)
    rows += reminder_rows(session, as_of)
    add_notifications(session, rows)
    uow.flush(session)
    after = _counts(session)
    report = SweepReport(as_of=as_of, created={kind.value: after.get(kind, 0) - before.get(kind, 0) for kind in K},
                         email_channel=channel is not None)
    if messenger is not None:
        report.texts = send_reminder_texts(session, as_of, messenger)
        uow.flush(session)
    if channel is not None:
        report.emailed, report.email_failed = send_pending(session, channel)
    return report


def _counts(session: Session) -> dict[NotificationKind, int]:
    return dict(session.execute(select(Notification.kind, func.count()).group_by(Notification.kind)).all())


# ---- the notices ------------------------------------------------------------------------------------

def answer_due(session: Session, as_of: dt.date) -> list[dict[str, Any]]:
    """Referrals waiting for the base's answer for ANSWER_WAIT_DAYS or more since they entered their status."""
    since = (select(ReferralEvent.referral_id, func.max(ReferralEvent.on_date).label("since"))
             .join(Referral, Referral.id == ReferralEvent.referral_id)
             .where(Referral.status.in_(AWAITING_ANSWER), ReferralEvent.to_status == Referral.status)
             .group_by(ReferralEvent.referral_id).subquery())
    found = session.execute(
        select(Referral.id, Referral.status, since.c.since, Candidate.public_id, Slot.title, Slot.company_id)
        .join(since, since.c.referral_id == Referral.id)
        .join(Candidate, Candidate.id == Referral.candidate_id).join(Slot, Slot.id == Referral.slot_id)
        .where(since.c.since <= as_of - dt.timedelta(days=ANSWER_WAIT_DAYS))).all()
    employers = employers_of(session, {row.company_id for row in found})
    return [notification_row(account_id, K.ANSWER_DUE, f"referral:{row.id}:{row.status.value}",
                             subject_type="referral", subject_id=row.id,
                             params={"public_id": row.public_id, "slot": row.title, "days": (as_of - row.since).days})
            for row in found for account_id in employers.get(row.company_id, [])]


def checks(session: Session, as_of: dt.date, admins: list[tuple[int, str]]) -> list[dict[str, Any]]:
    """Open follow-up checks due within CHECK_AHEAD_DAYS (due) or past their date (overdue)."""
    found = session.execute(
        select(FollowUpTask.id, FollowUpTask.referral_id, FollowUpTask.days, FollowUpTask.due_on,
               Candidate.public_id, Candidate.office_id, JudicialOffice.township_code, Slot.title, Slot.company_id,
               Company.name.label("company"))
        .join(Referral, Referral.id == FollowUpTask.referral_id)
        .join(Candidate, Candidate.id == Referral.candidate_id)
        .join(JudicialOffice, JudicialOffice.id == Candidate.office_id)
        .join(Slot, Slot.id == Referral.slot_id).join(Company, Company.id == Slot.company_id)
        .where(FollowUpTask.status == TaskStatus.OPEN,
               FollowUpTask.due_on <= as_of + dt.timedelta(days=CHECK_AHEAD_DAYS))).all()
    caseworkers = caseworkers_of(session, {row.office_id for row in found})
    employers = employers_of(session, {row.company_id for row in found if row.due_on >= as_of})
    rows: list[dict[str, Any]] = []
    overdue_by_township: dict[str, int] = defaultdict(int)
    for row in found:
        params = {"public_id": row.public_id, "slot": row.title, "company": row.company, "days": row.days,
                  "due_on": row.due_on}
        kind = K.CHECK_DUE if row.due_on >= as_of else K.CHECK_OVERDUE
        recipients = caseworkers.get(row.office_id, [])
        if kind == K.CHECK_DUE:
            recipients = recipients + employers.get(row.company_id, [])
        else:
            overdue_by_township[row.township_code] += 1
        rows += [notification_row(account_id, kind, f"task:{row.id}", subject_type="referral",
                                  subject_id=row.referral_id, params=params) for account_id in recipients]
    for account_id, prefix in admins:
        count = sum(n for township, n in overdue_by_township.items() if township.startswith(prefix))
        if count:
            rows.append(notification_row(account_id, K.CHECK_OVERDUE, f"overdue:{as_of.isoformat()}",
                                         subject_type="follow_up", params={"count": count, "on": as_of}))
    return rows


def certifications_expiring(session: Session, as_of: dt.date, admins: list[tuple[int, str]]) -> list[dict[str, Any]]:
    found = session.execute(select(Company.id, Company.name, Company.place_code, Company.certified_until).where(
        Company.certification_status == CertificationStatus.CERTIFIED,
        Company.certified_until.between(as_of, as_of + dt.timedelta(days=EXPIRY_AHEAD_DAYS)))).all()
    employers = employers_of(session, {row.id for row in found})
    rows = []
    for row in found:
        recipients = administrators_for(admins, row.place_code) + employers.get(row.id, [])
        rows += [notification_row(account_id, K.CERTIFICATION_EXPIRING,
                                  f"company:{row.id}:{row.certified_until.isoformat()}", subject_type="company",
                                  subject_id=row.id, params={"company": row.name, "until": row.certified_until})
                 for account_id in recipients]
    return rows


def agreements_expiring(session: Session, as_of: dt.date, admins: list[tuple[int, str]]) -> list[dict[str, Any]]:
    """Agreements ending within EXPIRY_AHEAD_DAYS of bases still certified or applying, unless the base has
    signed a later one that runs beyond."""
    horizon = as_of + dt.timedelta(days=EXPIRY_AHEAD_DAYS)
    renewal = aliased(Agreement)
    later = select(renewal.id).where(renewal.company_id == Company.id, renewal.ends_on > horizon).exists()
    found = session.execute(
        select(Agreement.id, Agreement.reference_no, Agreement.ends_on, Company.id.label("company_id"),
               Company.name, Company.place_code)
        .join(Company, Company.id == Agreement.company_id)
        .where(Agreement.ends_on.between(as_of, horizon), ~later,
               Company.certification_status.in_([CertificationStatus.CERTIFIED, CertificationStatus.APPLIED,
                                                 CertificationStatus.SUSPENDED]))).all()
    return [notification_row(account_id, K.AGREEMENT_EXPIRING, f"agreement:{row.id}:{row.ends_on.isoformat()}",
                             subject_type="company", subject_id=row.company_id,
                             params={"company": row.name, "reference": row.reference_no or "—",
                                     "ends_on": row.ends_on})
            for row in found for account_id in administrators_for(admins, row.place_code)]


def bases_flagged(session: Session, as_of: dt.date, admins: list[tuple[int, str]]) -> list[dict[str, Any]]:
    """One call of base_records per bureau area; each flagged base goes to that area's administrators."""
    try:
        from matcher.bases.records import base_records
    except ImportError:  # the base records are not in this build
        return []
    by_area: dict[str, list[int]] = defaultdict(list)
    for account_id, prefix in admins:
        by_area[prefix].append(account_id)
    rows = []
    for prefix, account_ids in by_area.items():
        for record in base_records(session, area_prefix=prefix, as_of=as_of):
            flags = sorted(set(record.flags or ()) - EXPIRY_FLAGS)
            if not flags:
                continue
            key = f"company:{record.company_id}:{as_of:%Y-%m}:{','.join(flags)}"
            rows += [notification_row(account_id, K.BASE_FLAGGED, key, subject_type="company",
                                      subject_id=record.company_id,
                                      params={"company": record.company_name, "flags": flags})
                     for account_id in account_ids]
    return rows


# ---- sending -----------------------------------------------------------------------------------------

def send_pending(session: Session, channel: Channel, *, now: dt.datetime | None = None) -> tuple[int, int]:
    """Email the unread notifications not yet emailed (created in the last EMAIL_RETRY_DAYS) to accounts with an
    address, in the bureau's default language. A success sets `emailed_at`; a failure stores a short
    `email_error` (its type and code, no address) and is tried again on the next sweep. A failure that is not
    about one recipient means the channel is down: the rest wait for the next sweep. Returns (sent, failed)."""
    now = now or clock.now()
    pending = session.execute(
        select(Notification, Account.email, Account.role).join(Account, Account.id == Notification.account_id)
        .where(Notification.emailed_at.is_(None), Notification.read_at.is_(None),
               Notification.created_at >= now - dt.timedelta(days=EMAIL_RETRY_DAYS),
               Account.email.is_not(None), Account.email != "", Account.is_active_account)
        .order_by(Notification.id).limit(EMAIL_BATCH)).all()
    sent = failed = 0
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        for notification, address, role in pending:
            text = email_text(notification, role)
            try:
                channel.send(address, text.subject, text.body)
            except Exception as exc:  # noqa: BLE001 - any failure of the channel is recorded, never raised
                failed += 1
                notification.email_error = short_error(exc)
                uow.flush(session)
                log.warning("notification %s: email failed (%s)", notification.id, notification.email_error)
                if isinstance(exc, RecipientRefused):
                    continue
                break
            notification.emailed_at, notification.email_error = clock.now(), None
            uow.flush(session)
            sent += 1
    return sent, failed
