"""Referrals, their lifecycle, and every move along it."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from matcher import clock
from matcher.candidates.models import Candidate
from matcher.dbtypes import UtcDateTime
from matcher.extensions import db
from matcher.places.models import str_enum
from matcher.slots.models import Slot


class ReferralStatus(enum.StrEnum):
    PROPOSED = "proposed"
    SENT = "sent"
    INTERVIEW = "interview"
    OFFERED = "offered"
    ACCEPTED = "accepted"
    STARTED = "started"
    STAYED_30 = "stayed_30"
    STAYED_90 = "stayed_90"
    STAYED_180 = "stayed_180"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    LEFT = "left"


ENDED_STATUSES = (ReferralStatus.DECLINED, ReferralStatus.WITHDRAWN, ReferralStatus.LEFT)
_ENDED_SQL = "status NOT IN ('declined', 'withdrawn', 'left')"


class Referral(db.Model):
    __tablename__ = "referrals"
    __table_args__ = (
        # One live referral per candidate and slot; ended ones may be followed by a new one.
        Index("uq_referrals_live_pair", "candidate_id", "slot_id", unique=True,
              sqlite_where=text(_ENDED_SQL), postgresql_where=text(_ENDED_SQL)),
        Index("ix_referrals_slot_status", "slot_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidates.id"), index=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id"))
    status: Mapped[ReferralStatus] = mapped_column(str_enum(ReferralStatus), default=ReferralStatus.PROPOSED)
    # True while the referral occupies one of the slot's seats (accepted, started, staying).
    holds_seat: Mapped[bool] = mapped_column(Boolean, default=False)
    started_on: Mapped[dt.date | None] = mapped_column(Date)
    ended_on: Mapped[dt.date | None] = mapped_column(Date)
    end_reason: Mapped[str | None] = mapped_column(String(500))
    note: Mapped[str | None] = mapped_column(String(500))
    # Filled by the matching engine when a recommendation produced the referral.
    score: Mapped[float | None] = mapped_column(Float)
    model_version: Mapped[str | None] = mapped_column(String(40))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=clock.now, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=clock.now, onupdate=clock.now)

    candidate: Mapped[Candidate] = relationship(lazy="joined")
    slot: Mapped[Slot] = relationship(lazy="joined")
    events: Mapped[list[ReferralEvent]] = relationship(
        cascade="all, delete-orphan", order_by="ReferralEvent.id", lazy="selectin"
    )


class ReferralEvent(db.Model):
    """One move of a referral: from which status to which, by whom, when, and why."""

    __tablename__ = "referral_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[ReferralStatus | None] = mapped_column(str_enum(ReferralStatus, name="from_status"))
    to_status: Mapped[ReferralStatus] = mapped_column(str_enum(ReferralStatus, name="to_status"))
    on_date: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(String(500))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=clock.now)
