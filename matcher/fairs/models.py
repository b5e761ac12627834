"""Tables of job fairs: the fair and its time blocks, booths (a base with the slots it brings), the
candidates invited, the interview plan runs, and the interviews with their outcomes."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from matcher import clock
from matcher.bases.models import Company
from matcher.candidates.models import Candidate
from matcher.dbtypes import UtcDateTime
from matcher.extensions import db
from matcher.places.models import str_enum
from matcher.slots.models import Slot


class FairStatus(enum.StrEnum):
    PREPARING = "preparing"  # registering bases, inviting candidates, planning
    CLOSED = "closed"  # the day is over; outcomes may still be recorded, nothing is re-planned
    CANCELLED = "cancelled"


class Fair(db.Model):
    """One day of booths and candidates. Blocks are numbered 0..n_blocks-1 from `starts_at`."""

    __tablename__ = "fairs"
    __table_args__ = (
        CheckConstraint("n_blocks BETWEEN 1 AND 48", name="blocks_range"),
        CheckConstraint("block_minutes BETWEEN 5 AND 240", name="block_minutes_range"),
        CheckConstraint("max_interviews BETWEEN 1 AND 10", name="max_interviews_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    held_on: Mapped[dt.date] = mapped_column(Date, index=True)
    venue: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[dt.time] = mapped_column(Time)
    block_minutes: Mapped[int] = mapped_column(SmallInteger, default=30)
    n_blocks: Mapped[int] = mapped_column(SmallInteger, default=8)
    max_interviews: Mapped[int] = mapped_column(SmallInteger, default=3)  # k per candidate
    # The organiser's priority weights (see engine.assignment.priority_weights).
    key_subject_weight: Mapped[float] = mapped_column(Float, default=0.0)
    waiting_weight_per_year: Mapped[float] = mapped_column(Float, default=0.0)
    # Only booths with a slot in one of the candidate's preferred courses (when they named any).
    preferred_courses_only: Mapped[bool] = mapped_column(default=True)
    status: Mapped[FairStatus] = mapped_column(str_enum(FairStatus), default=FairStatus.PREPARING)
    # The area whose organisers run it (the creating organiser's bureau).
    bureau_code: Mapped[str] = mapped_column(ForeignKey("places.code"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=clock.now)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=clock.now, onupdate=clock.now)

    booths: Mapped[list[FairBooth]] = relationship(
        back_populates="fair", cascade="all, delete-orphan", order_by="FairBooth.label", lazy="selectin")

    def block_start(self, block: int) -> dt.time:
        start = dt.datetime.combine(self.held_on, self.starts_at) + dt.timedelta(minutes=self.block_minutes * block)
        return start.time()

    def block_label(self, block: int) -> str:
        return f"{self.block_start(block):%H:%M}–{self.block_start(block + 1):%H:%M}"

    @property
    def ends_at(self) -> dt.time:
        return self.block_start(self.n_blocks)


class FairBooth(db.Model):
    """A participating base at a booth: the slots it brings and how many interviews it holds per block."""

    __tablename__ = "fair_booths"
    __table_args__ = (
        UniqueConstraint("fair_id", "company_id", name="uq_fair_booths_company"),
        UniqueConstraint("fair_id", "label", name="uq_fair_booths_label"),
        CheckConstraint("interviews_per_block BETWEEN 0 AND 20", name="capacity_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    fair_id: Mapped[int] = mapped_column(ForeignKey("fairs.id", ondelete="CASCADE"), index=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    label: Mapped[str] = mapped_column(String(12))  # the booth's number at the venue, e.g. "A03"
    interviews_per_block: Mapped[int] = mapped_column(SmallInteger, default=1)
    # A base that withdraws holds no interview from this block on (0: it never came).
    withdrawn_from_block: Mapped[int | None] = mapped_column(SmallInteger)
    withdrawn_reason: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=clock.now)

    fair: Mapped[Fair] = relationship(back_populates="booths")
    company: Mapped[Company] = relationship(lazy="joined")
    slots: Mapped[list[Slot]] = relationship(secondary="fair_booth_slots", order_by="Slot.id", lazy="selectin")

    def capacity(self, block: int) -> int:
        if self.withdrawn_from_block is not None and block >= self.withdrawn_from_block:
            return 0
        return self.interviews_per_block


class FairBoothSlot(db.Model):
    __tablename__ = "fair_booth_slots"

    booth_id: Mapped[int] = mapped_column(ForeignKey("fair_booths.id", ondelete="CASCADE"), primary_key=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id"), primary_key=True)


class InvitationStatus(enum.StrEnum):
    INVITED = "invited"  # waiting for the caseworker
    CONFIRMED = "confirmed"  # the caseworker confirmed attendance and the candidate's consent
    DECLINED = "declined"  # the caseworker said the candidate will not come
    CANCELLED = "cancelled"  # cancelled late (on or just before the day)


class InvitationSource(enum.StrEnum):
    OFFICE = "office"
    COURSE = "course"
    READINESS = "readiness"
    SINGLE = "single"
    WALK_IN = "walk_in"


class FairInvitation(db.Model):
    """A candidate's place at a fair, from the invitation to checking in on the day."""

    __tablename__ = "fair_invitations"
    __table_args__ = (
        UniqueConstraint("fair_id", "candidate_id", name="uq_fair_invitations_candidate"),
        Index("ix_fair_invitations_fair_status", "fair_id", "status"),
        CheckConstraint("arrives_block >= 0", name="arrives_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    fair_id: Mapped[int] = mapped_column(ForeignKey("fairs.id", ondelete="CASCADE"))
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidates.id"), index=True)
    status: Mapped[InvitationStatus] = mapped_column(str_enum(InvitationStatus), default=InvitationStatus.INVITED)
    source: Mapped[InvitationSource] = mapped_column(str_enum(InvitationSource))
    # The first block the candidate can be interviewed in (walk-ins arrive during the day).
    arrives_block: Mapped[int] = mapped_column(SmallInteger, default=0)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    invited_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=clock.now)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    answered_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    answer_note: Mapped[str | None] = mapped_column(String(300))
    checked_in_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)

    candidate: Mapped[Candidate] = relationship(lazy="joined")


class FairPlanRun(db.Model):
    """One run of the planner: the whole day (`from_block` 0) or the rest of it after changes."""

    __tablename__ = "fair_plan_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    fair_id: Mapped[int] = mapped_column(ForeignKey("fairs.id", ondelete="CASCADE"), index=True)
    from_block: Mapped[int] = mapped_column(SmallInteger, default=0)
    model_version: Mapped[str] = mapped_column(String(40))
    objective: Mapped[float] = mapped_column(Float)  # expected stays x priority, summed over the plan
    bound: Mapped[float] = mapped_column(Float)  # no plan can do better than this
    gap: Mapped[float] = mapped_column(Float)  # (bound - objective) / bound
    solver_status: Mapped[str] = mapped_column(String(12))  # "optimal" | "feasible"
    seconds: Mapped[float] = mapped_column(Float)
    # {"candidates": ..., "interviews": ..., "expected_stays": ..., "kept": ..., "unplaced": {invitation_id: reason}}
    summary_json: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=clock.now)


class InterviewStatus(enum.StrEnum):
    PLANNED = "planned"
    HELD = "held"  # an outcome was recorded
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"  # dropped by a re-plan, a withdrawal or a cancellation


class InterviewOutcome(enum.StrEnum):
    OFFER = "offer"  # 录用意向
    SECOND_INTERVIEW = "second_interview"  # 复试
    NO = "no"  # 不合适


_LIVE_INTERVIEW_SQL = "status IN ('planned', 'held')"


class FairInterview(db.Model):
    """One interview of the plan: a candidate at a booth in a block, for the booth's best slot for them."""

    __tablename__ = "fair_interviews"
    __table_args__ = (
        # The plan's rules, kept by the database too: one place per candidate per block, one interview per
        # candidate per booth (booth capacity per block is checked by the service, which holds the lock).
        Index("uq_fair_interviews_candidate_block", "invitation_id", "block", unique=True,
              sqlite_where=text(_LIVE_INTERVIEW_SQL), postgresql_where=text(_LIVE_INTERVIEW_SQL)),
        Index("uq_fair_interviews_candidate_booth", "invitation_id", "booth_id", unique=True,
              sqlite_where=text(_LIVE_INTERVIEW_SQL), postgresql_where=text(_LIVE_INTERVIEW_SQL)),
        Index("ix_fair_interviews_fair_block", "fair_id", "block"),
        CheckConstraint("block >= 0", name="block_non_negative"),
        CheckConstraint("(status = 'held') = (outcome IS NOT NULL)", name="held_has_outcome"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    fair_id: Mapped[int] = mapped_column(ForeignKey("fairs.id", ondelete="CASCADE"))
    invitation_id: Mapped[int] = mapped_column(ForeignKey("fair_invitations.id", ondelete="CASCADE"), index=True)
    booth_id: Mapped[int] = mapped_column(ForeignKey("fair_booths.id", ondelete="CASCADE"), index=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id"))
    block: Mapped[int] = mapped_column(SmallInteger)
    status: Mapped[InterviewStatus] = mapped_column(str_enum(InterviewStatus), default=InterviewStatus.PLANNED)
    score: Mapped[float] = mapped_column(Float)  # P(start and stay) for the slot
    value: Mapped[float] = mapped_column(Float)  # score x priority weight
    plan_run_id: Mapped[int | None] = mapped_column(ForeignKey("fair_plan_runs.id", ondelete="SET NULL"))
    outcome: Mapped[InterviewOutcome | None] = mapped_column(str_enum(InterviewOutcome))
    outcome_note: Mapped[str | None] = mapped_column(String(300))
    outcome_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    outcome_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referrals.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=clock.now)

    invitation: Mapped[FairInvitation] = relationship(lazy="joined")
    booth: Mapped[FairBooth] = relationship(lazy="joined")
    slot: Mapped[Slot] = relationship(lazy="joined")
