"""The candidate file and what hangs off it: skills, certificates, wishes, risk grades, consents, visits."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from matcher import clock
from matcher.bases.models import Company
from matcher.clock import today
from matcher.dbtypes import UtcDateTime
from matcher.extensions import db
from matcher.offices.models import JudicialOffice
from matcher.places.models import str_enum
from matcher.skills import SkillEntryMixin


class Sex(enum.StrEnum):
    MALE = "male"
    FEMALE = "female"


class Education(enum.StrEnum):
    NONE = "none"
    PRIMARY = "primary"
    JUNIOR_SECONDARY = "junior_secondary"
    SENIOR_SECONDARY = "senior_secondary"
    VOCATIONAL = "vocational"
    COLLEGE = "college"
    BACHELOR_OR_ABOVE = "bachelor_or_above"


class RiskGrade(enum.StrEnum):
    """Four-colour management (四色管控)."""

    RED = "red"
    ORANGE = "orange"
    YELLOW = "yellow"
    GREEN = "green"


class OffenceCategory(enum.StrEnum):
    THEFT = "theft"
    FRAUD = "fraud"
    ROBBERY = "robbery"
    ASSAULT = "assault"
    DRUGS = "drugs"
    DANGEROUS_DRIVING = "dangerous_driving"
    GAMBLING = "gambling"
    FOOD_SAFETY = "food_safety"
    DUTY_CRIME = "duty_crime"
    PUBLIC_ORDER = "public_order"
    OTHER = "other"


class CandidateStatus(enum.StrEnum):
    PRE_RELEASE = "pre_release"  # handed over by the prison before release (预释放)
    ACTIVE = "active"  # released, under assistance, looking for work or training
    PLACED = "placed"  # started a job or course
    CLOSED = "closed"  # assistance period over, moved away, or otherwise ended


class ConsentKind(enum.StrEnum):
    DATA_PROCESSING = "data_processing"  # keep the file and match it
    REFERRAL = "referral"  # send a pseudonymous profile to bases
    DISCLOSE_IDENTITY = "disclose_identity"  # name and contact to one named base, for one purpose


class DisclosurePurpose(enum.StrEnum):
    """Why a base may learn a candidate's name and contact; each needs its own consent."""

    INTERVIEW = "interview"  # arranging an interview on a referral to that base
    JOB_FAIR = "job_fair"  # the booth's interview list at a job fair
    EMPLOYMENT = "employment"  # the contract and payroll once the candidate starts there


class Candidate(db.Model):
    __tablename__ = "candidates"
    __table_args__ = (
        CheckConstraint("max_travel_km >= 0", name="travel_non_negative"),
        CheckConstraint("birth_year BETWEEN 1900 AND 2100", name="birth_year_range"),
        Index("ix_candidates_office_status", "office_id", "status"),
        UniqueConstraint("external_scope", "external_id", name="uq_candidates_external_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(12), unique=True)
    # The bureau's own file reference (本单位编号) and the county it belongs to (matcher.external_ids).
    external_id: Mapped[str | None] = mapped_column(String(64))
    external_scope: Mapped[str | None] = mapped_column(String(12))
    name: Mapped[str] = mapped_column(String(40))
    id_number_hash: Mapped[str] = mapped_column(String(64), unique=True)
    id_number_masked: Mapped[str] = mapped_column(String(18))
    sex: Mapped[Sex] = mapped_column(str_enum(Sex))
    birth_year: Mapped[int] = mapped_column(SmallInteger)
    ethnicity: Mapped[str | None] = mapped_column(String(20))
    education: Mapped[Education] = mapped_column(str_enum(Education))
    phone: Mapped[str | None] = mapped_column(String(20))
    hukou_code: Mapped[str] = mapped_column(ForeignKey("places.code"), index=True)  # 户籍地
    residence_code: Mapped[str] = mapped_column(ForeignKey("places.code"), index=True)  # 居住地
    residence_address: Mapped[str | None] = mapped_column(String(200))
    residence_lat: Mapped[float] = mapped_column(Float)
    residence_lng: Mapped[float] = mapped_column(Float)
    release_institution: Mapped[str | None] = mapped_column(String(60))
    release_date: Mapped[dt.date] = mapped_column(Date, index=True)
    assistance_ends_on: Mapped[dt.date] = mapped_column(Date)
    key_subject: Mapped[bool] = mapped_column(Boolean, default=False)
    risk_grade: Mapped[RiskGrade] = mapped_column(str_enum(RiskGrade), default=RiskGrade.GREEN)
    offence_category: Mapped[OffenceCategory] = mapped_column(str_enum(OffenceCategory))
    max_travel_km: Mapped[int] = mapped_column(Integer, default=20)
    needs_housing: Mapped[bool] = mapped_column(Boolean, default=False)
    earliest_start: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[CandidateStatus] = mapped_column(str_enum(CandidateStatus), default=CandidateStatus.ACTIVE)
    # The day the file was closed (set whenever the status becomes closed, see `_stamp_closing_day`); None on an
    # open file, and on files closed before the day was recorded (they count as closed throughout).
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    # Set by the retention run when the personal data was removed; the file stays for the figures.
    archived_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    office_id: Mapped[int] = mapped_column(ForeignKey("judicial_offices.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=clock.now)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=clock.now, onupdate=clock.now)

    office: Mapped[JudicialOffice] = relationship(lazy="joined")
    skills: Mapped[list[CandidateSkill]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="CandidateSkill.id"
    )
    certificates: Mapped[list[Certificate]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="Certificate.id"
    )
    preferred_courses: Mapped[list[PreferredCourse]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="PreferredCourse.rank"
    )

    @property
    def dual_registration(self) -> bool:
        """双列管: registered in one township, living in another."""
        return self.hukou_code != self.residence_code


@event.listens_for(Candidate.status, "set")
def _stamp_closing_day(candidate: Candidate, value, old, _initiator) -> None:
    """Closing a file records the day (the reports count a file as registered until then); reopening forgets it.
    Setting `closed` again on a closed file keeps the first day."""
    if value == CandidateStatus.CLOSED and old != CandidateStatus.CLOSED:
        candidate.closed_on = today()
    elif value != CandidateStatus.CLOSED and value is not None:
        candidate.closed_on = None


class CandidateSkill(SkillEntryMixin, db.Model):
    __tablename__ = "candidate_skills"

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidates.id", ondelete="CASCADE"), index=True)


class Certificate(db.Model):
    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidates.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    skill_code: Mapped[str | None] = mapped_column(ForeignKey("skills.code"))
    issued_on: Mapped[dt.date | None] = mapped_column(Date)


class PreferredCourse(db.Model):
    __tablename__ = "preferred_courses"
    __table_args__ = (
        UniqueConstraint("candidate_id", "rank", name="uq_preferred_courses_rank"),
        UniqueConstraint("candidate_id", "course_code", name="uq_preferred_courses_course"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidates.id", ondelete="CASCADE"), index=True)
    course_code: Mapped[str] = mapped_column(ForeignKey("courses.code"))
    rank: Mapped[int] = mapped_column(SmallInteger)  # 1 is the first wish


class RiskAssessment(db.Model):
    """One monthly screening result; the latest sets the candidate's current grade."""

    __tablename__ = "risk_assessments"

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidates.id", ondelete="CASCADE"), index=True)
    grade: Mapped[RiskGrade] = mapped_column(str_enum(RiskGrade))
    assessed_on: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(String(500))
    assessed_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=clock.now)


class Consent(db.Model):
    """A consent given or withdrawn; the latest record of a kind is the one in force.

    Disclosure of identity is recorded per base and purpose (`base_id`, `purpose`): the latest record for
    that candidate, base and purpose is the one in force. Disclosure records without them (made before
    per-base consent existed) grant nothing."""

    __tablename__ = "consents"
    __table_args__ = (Index("ix_consents_candidate_kind_base", "candidate_id", "kind", "base_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidates.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ConsentKind] = mapped_column(str_enum(ConsentKind))
    granted: Mapped[bool] = mapped_column(Boolean)
    base_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id"))
    purpose: Mapped[DisclosurePurpose | None] = mapped_column(str_enum(DisclosurePurpose))
    recorded_on: Mapped[dt.date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(String(300))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=clock.now)

    base: Mapped[Company | None] = relationship(lazy="joined")


class VisitKind(enum.StrEnum):
    HOME = "home"
    PHONE = "phone"
    WORKPLACE = "workplace"
    OFFICE = "office"
    ONLINE = "online"


class EmploymentState(enum.StrEnum):
    """What a visit found about the person's placement (走访了解的就业状态)."""

    WORKING = "working"  # still in the job or course
    LEFT = "left"  # no longer there


class Visit(db.Model):
    __tablename__ = "visits"

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidates.id", ondelete="CASCADE"), index=True)
    visited_on: Mapped[dt.date] = mapped_column(Date, index=True)
    kind: Mapped[VisitKind] = mapped_column(str_enum(VisitKind))
    note: Mapped[str | None] = mapped_column(Text)
    # Optional: the placement the visit looked at, and what it found; this moves the referral.
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referrals.id", ondelete="SET NULL"))
    employment_state: Mapped[EmploymentState | None] = mapped_column(str_enum(EmploymentState))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=clock.now)


class Reoffence(db.Model):
    """A new offence recorded for a person under assistance (重新犯罪): counted in the bureau's figures."""

    __tablename__ = "reoffences"

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidates.id", ondelete="CASCADE"), index=True)
    recorded_on: Mapped[dt.date] = mapped_column(Date, index=True)
    note: Mapped[str | None] = mapped_column(String(300))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=clock.now)
