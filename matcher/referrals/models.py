"""Referrals and every move along their lifecycle (whose words live in matcher.referrals.lifecycle)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from matcher import clock
from matcher.candidates.models import Candidate
from matcher.dbtypes import UtcDateTime
from matcher.extensions import db
from matcher.places.models import str_enum
from matcher.referrals.lifecycle import NOT_ENDED_SQL, EndReason, Milestone, ReferralStatus
from matcher.slots.models import Slot


class Referral(db.Model):
    __tablename__ = "referrals"
    __table_args__ = (
        # One live referral per candidate and slot; ended ones may be followed by a new one.
        Index("uq_referrals_live_pair", "candidate_id", "slot_id", unique=True,
              sqlite_where=text(NOT_ENDED_SQL), postgresql_where=text(NOT_ENDED_SQL)),
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
    # The furthest the placement got (started, stayed_30/90/180), kept when it ends: the outcome labels read it.
    milestone: Mapped[Milestone | None] = mapped_column(str_enum(Milestone))
    # Why it ended, as a code: all a base learns of it. Free text about a referral is on its events.
    end_code: Mapped[EndReason | None] = mapped_column(str_enum(EndReason, name="end_code"))
    # Written by the office when referring: for the base (shared with it), and for the office only (internal).
    shared_note: Mapped[str | None] = mapped_column(String(500))
    internal_note: Mapped[str | None] = mapped_column(String(500))
    # Filled by the matching engine when a recommendation produced the referral.
    score: Mapped[float | None] = mapped_column(Float)
    model_version: Mapped[str | None] = mapped_column(String(40))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=clock.now, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=clock.now, onupdate=clock.now)

    # Loaded by a second query each (IN the referrals' ids), not joined: PostgreSQL plans seven eager outer joins
    # (the person, the office, the slot, the base, three places) before a list's filter and limit, joining every
    # referral of the city (a base's waiting list: 13 ms, against 2 for the referrals and 2 for the rest).
    candidate: Mapped[Candidate] = relationship(lazy="selectin")
    slot: Mapped[Slot] = relationship(lazy="selectin")
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
    # Why an ending happened, as a code; free text shared between the office and the base (a base's words are
    # always shared), and the office's internal note, which no base reads.
    reason_code: Mapped[EndReason | None] = mapped_column(str_enum(EndReason, name="reason_code"))
    shared_note: Mapped[str | None] = mapped_column(String(500))
    internal_note: Mapped[str | None] = mapped_column(String(500))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=clock.now)
