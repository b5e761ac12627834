"""Companies, their certification history and assistance agreements."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import CheckConstraint, Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint, and_
from sqlalchemy.orm import Mapped, mapped_column, relationship

from matcher import clock
from matcher.clock import today
from matcher.dbtypes import UtcDateTime
from matcher.extensions import db
from matcher.places.models import Place, str_enum


class CertificationStatus(enum.StrEnum):
    APPLIED = "applied"
    CERTIFIED = "certified"
    SUSPENDED = "suspended"
    EXPIRED = "expired"
    REVOKED = "revoked"
    REFUSED = "refused"  # an application the bureau decided not to certify (不予认定)


class Company(db.Model):
    """A company or social organisation; a resettlement base once the bureau certifies it."""

    __tablename__ = "companies"
    __table_args__ = (
        CheckConstraint("certification_status != 'certified' OR certified_until IS NOT NULL",
                        name="certified_has_end"),
        UniqueConstraint("external_scope", "external_id", name="uq_companies_external_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    # The bureau's own reference (本单位编号) and the county it belongs to (matcher.external_ids).
    external_id: Mapped[str | None] = mapped_column(String(64))
    external_scope: Mapped[str | None] = mapped_column(String(12))
    industry: Mapped[str] = mapped_column(String(60))
    address: Mapped[str | None] = mapped_column(String(200))
    place_code: Mapped[str] = mapped_column(ForeignKey("places.code"), index=True)
    lat: Mapped[float] = mapped_column(Float)
    lng: Mapped[float] = mapped_column(Float)
    contact_name: Mapped[str | None] = mapped_column(String(40))
    contact_phone: Mapped[str | None] = mapped_column(String(20))
    description: Mapped[str | None] = mapped_column(Text)
    # How many people the base employs: its size band sets how many referrals it receives a month
    # (matcher.bases.answers). None: not recorded, the smallest band's limit applies.
    employees: Mapped[int | None] = mapped_column(Integer)
    # Paused for new referrals (since that day) for leaving too many unanswered; None: taking referrals.
    referrals_paused_on: Mapped[dt.date | None] = mapped_column(Date)
    # The day an administrator last lifted a pause: referrals sent before it no longer count towards one.
    pause_lifted_on: Mapped[dt.date | None] = mapped_column(Date)
    certification_status: Mapped[CertificationStatus] = mapped_column(
        str_enum(CertificationStatus), default=CertificationStatus.APPLIED, index=True
    )
    certified_until: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=clock.now)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=clock.now, onupdate=clock.now)

    place: Mapped[Place] = relationship(lazy="joined")

    def effective_status(self, on: dt.date | None = None) -> CertificationStatus:
        """A certification past its valid-until date is expired, whether or not a job has marked it."""
        on = on or today()
        if self.certification_status == CertificationStatus.CERTIFIED and self.certified_until < on:
            return CertificationStatus.EXPIRED
        return self.certification_status

    def can_post_and_fill(self, on: dt.date | None = None) -> bool:
        return self.effective_status(on) == CertificationStatus.CERTIFIED


def certified_in_date(on: dt.date | None = None):
    """SQL condition: a base that may post and fill slots on a day (today in China by default), as
    `Company.can_post_and_fill` decides it for one loaded base."""
    return and_(Company.certification_status == CertificationStatus.CERTIFIED,
                Company.certified_until >= (on or today()))


class CertificationEvent(db.Model):
    """One decision on a base's certification: who decided, when, why."""

    __tablename__ = "certification_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[CertificationStatus | None] = mapped_column(str_enum(CertificationStatus, name="from_status"))
    to_status: Mapped[CertificationStatus] = mapped_column(str_enum(CertificationStatus, name="to_status"))
    valid_until: Mapped[dt.date | None] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(String(500))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    decided_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=clock.now)


class Agreement(db.Model):
    """An assistance agreement (安置帮教协议书) signed between the bureau and the base."""

    __tablename__ = "agreements"
    __table_args__ = (CheckConstraint("term_months > 0", name="positive_term"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    reference_no: Mapped[str | None] = mapped_column(String(40))
    signed_on: Mapped[dt.date] = mapped_column(Date)
    term_months: Mapped[int] = mapped_column(Integer)
    ends_on: Mapped[dt.date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(String(500))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=clock.now)


class Complaint(db.Model):
    """A complaint about a base (from a candidate, a caseworker or the bureau), part of the base's record."""

    __tablename__ = "base_complaints"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    received_on: Mapped[dt.date] = mapped_column(Date)
    summary: Mapped[str] = mapped_column(String(500))
    resolved_on: Mapped[dt.date | None] = mapped_column(Date)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=clock.now)


class SizeBand(db.Model):
    """A band of base sizes and the referrals a base of that size receives in a calendar month (an
    administrator's setting). A band runs from `min_employees` up to the next band's minimum."""

    __tablename__ = "base_size_bands"
    __table_args__ = (CheckConstraint("min_employees >= 1", name="positive_min"),
                      CheckConstraint("monthly_referrals >= 0", name="nonnegative_cap"))

    id: Mapped[int] = mapped_column(primary_key=True)
    min_employees: Mapped[int] = mapped_column(Integer, unique=True)
    monthly_referrals: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=clock.now, onupdate=clock.now)


class AnswerRules(db.Model):
    """The administrator's settings for bases that do not answer: one row (none: the shipped defaults)."""

    __tablename__ = "base_answer_rules"
    __table_args__ = (CheckConstraint("pause_after >= 1", name="positive_pause_after"),
                      CheckConstraint("target_share > 0 AND target_share <= 1", name="target_share_range"))

    id: Mapped[int] = mapped_column(primary_key=True)
    # Unanswered referrals (each waiting past the answer days) after which a base is paused.
    pause_after: Mapped[int] = mapped_column(Integer)
    # The response rate a base should reach (a public placement service's is 30 %).
    target_share: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=clock.now, onupdate=clock.now)
