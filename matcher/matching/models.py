"""Tables of the matching feature: the model registry, occupational bans, assignment drafts."""

from __future__ import annotations

import datetime as dt
import enum
import json

from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, Integer, String, Text, select, text
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from matcher import clock
from matcher.candidates.models import Candidate
from matcher.dbtypes import UtcDateTime
from matcher.extensions import db
from matcher.places.models import str_enum
from matcher.slots.models import Slot


class ScoringModel(db.Model):
    """A trained scoring model known to this installation; the artefact and its card live in models/."""

    __tablename__ = "scoring_models"
    __table_args__ = (
        # At most one active model.
        Index("uq_scoring_models_one_active", "active", unique=True,
              sqlite_where=text("active"), postgresql_where=text("active")),
    )

    version: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))  # "learned" or "prior"
    horizon_days: Mapped[int] = mapped_column(Integer)
    card_json: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=clock.now)
    activated_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    activated_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))


class OccupationalBan(db.Model):
    """A court-ordered ban (从业禁止) on a candidate: no placement in these courses/occupations until a date."""

    __tablename__ = "occupational_bans"

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidates.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(24), default="court_order")
    courses: Mapped[str] = mapped_column(String(200), default="")  # course codes, comma-separated
    occupations: Mapped[str] = mapped_column(String(200), default="")  # occupation codes, comma-separated
    until: Mapped[dt.date | None] = mapped_column(Date)  # None: permanent
    note: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=clock.now)


class DraftStatus(enum.StrEnum):
    DRAFT = "draft"
    CONFIRMED = "confirmed"
    DISCARDED = "discarded"


class AssignmentDraft(db.Model):
    """A batch plan: who goes where. A draft until a person confirms it; confirming creates referrals."""

    __tablename__ = "assignment_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[DraftStatus] = mapped_column(str_enum(DraftStatus), default=DraftStatus.DRAFT)
    model_version: Mapped[str] = mapped_column(String(40))
    params_json: Mapped[str] = mapped_column(Text)
    summary_json: Mapped[str] = mapped_column(Text)
    objective: Mapped[float] = mapped_column(Float)
    greedy_objective: Mapped[float] = mapped_column(Float)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=clock.now)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)

    items: Mapped[list[AssignmentDraftItem]] = relationship(
        cascade="all, delete-orphan", order_by="AssignmentDraftItem.id", lazy="selectin")

    @property
    def holding(self) -> dict | None:
        """A plan that looked ahead at people released soon: the seats held and the expected gain (kept in the
        summary, dates as ISO text; here as dates; see matcher.matching.service.assignment)."""
        holding = json.loads(self.summary_json).get("holding")
        for seat in (holding or {}).get("held", ()):
            for key in ("release_date", "starts_on"):
                seat[key] = dt.date.fromisoformat(seat[key])
        return holding


class AssignmentDraftItem(db.Model):
    __tablename__ = "assignment_draft_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("assignment_drafts.id", ondelete="CASCADE"), index=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidates.id"))
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id"))
    score: Mapped[float] = mapped_column(Float)  # predicted probability of starting and staying
    value: Mapped[float] = mapped_column(Float)  # score x priority weight: what the plan maximises
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referrals.id"))

    # How the bureau knows the pair (its own references) and the file's public id, read with the item in the same
    # query, so a plan of thousands of pairs goes back to the bureau's records without a query per pair.
    candidate_public_id: Mapped[str] = column_property(
        select(Candidate.public_id).where(Candidate.id == candidate_id).correlate_except(Candidate).scalar_subquery())
    candidate_external_id: Mapped[str | None] = column_property(
        select(Candidate.external_id).where(Candidate.id == candidate_id).correlate_except(Candidate)
        .scalar_subquery())
    slot_external_id: Mapped[str | None] = column_property(
        select(Slot.external_id).where(Slot.id == slot_id).correlate_except(Slot).scalar_subquery())
