"""Slots (job vacancies and training seats) and the skills they require."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from matcher import clock
from matcher.bases.models import Company
from matcher.dbtypes import UtcDateTime
from matcher.extensions import db
from matcher.places.models import Place, str_enum
from matcher.skills import SkillEntryMixin


class SlotKind(enum.StrEnum):
    JOB = "job"
    TRAINING = "training"


class SlotStatus(enum.StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


class Slot(db.Model):
    __tablename__ = "slots"
    __table_args__ = (
        # The database itself refuses an over-filled slot, whatever the code above it does.
        CheckConstraint("seats_taken >= 0 AND seats_taken <= seats", name="seats_not_overfilled"),
        CheckConstraint("seats >= 1", name="at_least_one_seat"),
        CheckConstraint("pay_min IS NULL OR pay_max IS NULL OR pay_min <= pay_max", name="pay_range"),
        CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="dates_in_order"),
        CheckConstraint("kind != 'training' OR course_code IS NOT NULL", name="training_has_course"),
        UniqueConstraint("external_scope", "external_id", name="uq_slots_external_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), index=True)
    # The bureau's own reference (本单位编号) and the county it belongs to (matcher.external_ids).
    external_id: Mapped[str | None] = mapped_column(String(64))
    external_scope: Mapped[str | None] = mapped_column(String(12))
    kind: Mapped[SlotKind] = mapped_column(str_enum(SlotKind))
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    occupation_code: Mapped[str | None] = mapped_column(ForeignKey("occupations.code"))
    course_code: Mapped[str | None] = mapped_column(ForeignKey("courses.code"), index=True)
    seats: Mapped[int] = mapped_column(Integer)
    seats_taken: Mapped[int] = mapped_column(Integer, default=0)
    place_code: Mapped[str] = mapped_column(ForeignKey("places.code"), index=True)
    address: Mapped[str | None] = mapped_column(String(200))
    lat: Mapped[float] = mapped_column(Float)
    lng: Mapped[float] = mapped_column(Float)
    pay_min: Mapped[int | None] = mapped_column(Integer)  # CNY a month
    pay_max: Mapped[int | None] = mapped_column(Integer)
    hours_per_week: Mapped[int | None] = mapped_column(Integer)
    housing_provided: Mapped[bool] = mapped_column(Boolean, default=False)
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date | None] = mapped_column(Date)
    # A recognised certificate at the end is what makes a trainee eligible for the training subsidy.
    certificate_awarded: Mapped[bool] = mapped_column(Boolean, default=False)
    min_age: Mapped[int] = mapped_column(Integer, default=18)
    status: Mapped[SlotStatus] = mapped_column(str_enum(SlotStatus), default=SlotStatus.DRAFT, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=clock.now)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=clock.now, onupdate=clock.now)

    company: Mapped[Company] = relationship(lazy="joined")
    place: Mapped[Place] = relationship(lazy="joined")
    required_skills: Mapped[list[SlotSkill]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="SlotSkill.id"
    )

    @property
    def seats_free(self) -> int:
        return self.seats - self.seats_taken

    @property
    def subsidy_eligible(self) -> bool:
        return self.kind == SlotKind.TRAINING and self.certificate_awarded


class SlotSkill(SkillEntryMixin, db.Model):
    __tablename__ = "slot_skills"

    id: Mapped[int] = mapped_column(primary_key=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id", ondelete="CASCADE"), index=True)
