"""A request to export identified personal data, and the administrator's decision on it."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from matcher import clock
from matcher.dbtypes import UtcDateTime
from matcher.extensions import db
from matcher.places.models import str_enum


class ExportRequestStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for an administrator
    APPROVED = "approved"  # may be downloaded until `expires_at`
    REFUSED = "refused"
    USED = "used"  # downloaded; an approval is good for one file
    EXPIRED = "expired"


class ExportRequest(db.Model):
    __tablename__ = "export_requests"
    __table_args__ = (Index("ix_export_requests_status", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # the export kind (candidates, fair_plan ...)
    params_json: Mapped[str] = mapped_column(Text, default="{}")  # the export's own options (format, fair ...)
    reason: Mapped[str] = mapped_column(String(300))  # why identified data must leave the service
    status: Mapped[ExportRequestStatus] = mapped_column(str_enum(ExportRequestStatus),
                                                        default=ExportRequestStatus.PENDING)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    requested_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=clock.now)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    decision_note: Mapped[str | None] = mapped_column(String(300))
    expires_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
