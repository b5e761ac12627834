"""An interview arranged for a referral: proposed by the base, confirmed by the office that keeps the file,
cancelled by either, and after its time marked attended or not."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from matcher import clock
from matcher.dbtypes import UtcDateTime
from matcher.extensions import db
from matcher.places.models import str_enum
from matcher.referrals.models import Referral


class InterviewStatus(enum.StrEnum):
    PROPOSED = "proposed"  # the base proposed it; the office has not answered
    CONFIRMED = "confirmed"  # the office confirmed it: the person is told (slip, text message)
    OTHER_TIME = "other_time"  # the office asked for another time; the base proposes again
    CANCELLED = "cancelled"  # by the base or the office
    ATTENDED = "attended"
    NO_SHOW = "no_show"


S = InterviewStatus
LIVE = (S.PROPOSED, S.CONFIRMED)  # still to happen
HELD_OR_MISSED = (S.ATTENDED, S.NO_SHOW)
# Counted as scheduled in the report: confirmed, and then held, missed or still to come (not cancelled).
SCHEDULED = (S.CONFIRMED, *HELD_OR_MISSED)


class ReferralInterview(db.Model):
    __tablename__ = "referral_interviews"
    __table_args__ = (Index("ix_referral_interviews_status_starts", "status", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"), index=True)
    status: Mapped[InterviewStatus] = mapped_column(str_enum(InterviewStatus, name="referral_interview_status"),
                                                    default=InterviewStatus.PROPOSED)
    starts_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)  # an instant; shown in China time
    place: Mapped[str] = mapped_column(String(200))
    contact_name: Mapped[str] = mapped_column(String(40))  # the base's contact person (not the candidate)
    contact_phone: Mapped[str] = mapped_column(String(20))
    bring: Mapped[str | None] = mapped_column(String(200))  # what the person should bring
    # Written for the other side: why another time is asked for, why it was cancelled (shared, never internal).
    note: Mapped[str | None] = mapped_column(String(300))
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    # The text messages to the person: when sent, or why not (a short code, never the number).
    appointment_texted_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    reminder_texted_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    text_error: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=clock.now)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=clock.now, onupdate=clock.now)

    referral: Mapped[Referral] = relationship(lazy="joined")
