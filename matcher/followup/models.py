"""Follow-up tasks: the checks a started placement gets at 30, 90 and 180 days."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Date, ForeignKey, Index, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from matcher import clock
from matcher.dbtypes import UtcDateTime
from matcher.extensions import db
from matcher.places.models import str_enum
from matcher.referrals.models import Referral

CHECK_DAYS = (30, 90, 180)


class TaskStatus(enum.StrEnum):
    OPEN = "open"  # due (or coming); overdue is an open task past its date
    DONE = "done"  # the stay was confirmed, or the person was found to have left
    CANCELLED = "cancelled"  # the placement ended before the check was due


class FollowUpTask(db.Model):
    """A check of a started placement, `days` after the start: for the caseworker of the file (and, as a
    confirmation request, for the base's employer)."""

    __tablename__ = "follow_up_tasks"
    __table_args__ = (
        UniqueConstraint("referral_id", "days", name="uq_follow_up_tasks_referral_days"),
        Index("ix_follow_up_tasks_status_due", "status", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"), index=True)
    days: Mapped[int] = mapped_column(SmallInteger)  # 30, 90 or 180
    due_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[TaskStatus] = mapped_column(str_enum(TaskStatus), default=TaskStatus.OPEN)
    done_on: Mapped[dt.date | None] = mapped_column(Date)
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    note: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=clock.now)

    referral: Mapped[Referral] = relationship(lazy="joined")
