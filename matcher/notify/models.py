"""Notifications: one row per message to one account, read in the app and, where configured, sent by email."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from matcher import clock
from matcher.dbtypes import UtcDateTime
from matcher.extensions import db
from matcher.places.models import str_enum


class NotificationKind(enum.StrEnum):
    NEW_REFERRAL = "new_referral"  # employer: a referral was sent to the base
    ANSWER_DUE = "answer_due"  # employer: a referral waits for an answer too long
    CHECK_DUE = "check_due"  # caseworker / employer: a follow-up check is due
    CHECK_OVERDUE = "check_overdue"  # caseworker: a follow-up check is past its date
    CERTIFICATION_EXPIRING = "certification_expiring"  # administrator / employer: within a month
    AGREEMENT_EXPIRING = "agreement_expiring"  # administrator: within a month
    BASE_FLAGGED = "base_flagged"  # administrator: a base never answers or loses most people
    PRE_RELEASE = "pre_release"  # caseworker: a person due for release was handed over to the office
    FAIR_INVITATION = "fair_invitation"  # caseworker: a candidate was invited to a job fair
    TRANSFER_REQUEST = "transfer_request"  # administrator: an office asks for a file kept elsewhere
    CERTIFICATION_REFUSED = "certification_refused"  # employer: the base's application was not certified
    EXPORT_REQUESTED = "export_requested"  # administrator: another administrator asks for an identified export
    EXPORT_APPROVED = "export_approved"  # the requester: the export may be downloaded (once, until it expires)
    EXPORT_REFUSED = "export_refused"  # the requester: the export was refused, with the note
    EXPORT_EXPIRED = "export_expired"  # the requester: the approval expired before the download
    INTERVIEW_PROPOSED = "interview_proposed"  # caseworker: a base proposed an interview time
    INTERVIEW_CONFIRMED = "interview_confirmed"  # employer: the office confirmed it
    INTERVIEW_OTHER_TIME = "interview_other_time"  # employer: the office asks for another time
    INTERVIEW_CANCELLED = "interview_cancelled"  # the other side: an interview was cancelled
    INTERVIEW_REMINDER = "interview_reminder"  # caseworker / employer: an interview tomorrow
    BASE_PAUSED = "base_paused"  # administrator / employer: a base paused for leaving referrals unanswered


class Notification(db.Model):
    """`key` makes a scheduled notice idempotent: the same (account, kind, key) is created once.

    A notice that announces a task (answer a referral, record a check, decide an export ...) names it in
    `task_key` (the kind of record and its id, and the step when a record has several: "referral:12:sent",
    "follow_up:45", "export_request:3"); when the task is done, `done_at` is set in the same unit of work
    (matcher.notify.tasks). A notice that only informs is done once read. Open: `done_at` is empty."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("account_id", "kind", "key", name="uq_notifications_once"),
        Index("ix_notifications_account_unread", "account_id", "read_at"),
        Index("ix_notifications_task_key", "task_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    kind: Mapped[NotificationKind] = mapped_column(str_enum(NotificationKind, length=32))
    key: Mapped[str] = mapped_column(String(80))  # e.g. "referral:123", "task:45", "company:7:2026-12-01"
    # What the message is about, for the link (no personal data: ids and public numbers only).
    subject_type: Mapped[str | None] = mapped_column(String(24))
    subject_id: Mapped[int | None] = mapped_column(Integer)
    params_json: Mapped[str] = mapped_column(Text, default="{}")  # values for the message's placeholders
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=clock.now, index=True)
    read_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    task_key: Mapped[str | None] = mapped_column(String(80))  # the task announced; None: a notice that informs
    done_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)  # the task done (or an informing notice read)
    emailed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    email_error: Mapped[str | None] = mapped_column(String(200))
