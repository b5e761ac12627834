"""The judicial office table."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from matcher.extensions import db
from matcher.places.models import Place


class JudicialOffice(db.Model):
    __tablename__ = "judicial_offices"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    township_code: Mapped[str] = mapped_column(ForeignKey("places.code"), unique=True)
    phone: Mapped[str | None] = mapped_column(String(20))

    township: Mapped[Place] = relationship(lazy="joined")
