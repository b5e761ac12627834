"""Courses, skills and occupations: small tables loaded from seed/reference."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from matcher.extensions import db


class Course(db.Model):
    """A training course a base can teach (烹饪, 汽修, 电商运营 ...)."""

    __tablename__ = "courses"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(40))
    name_en: Mapped[str] = mapped_column(String(60))
    min_age: Mapped[int] = mapped_column(Integer, default=16)
    duration_days: Mapped[int] = mapped_column(Integer)
    certificate: Mapped[str | None] = mapped_column(String(40))


class Skill(db.Model):
    """An entry of the skills taxonomy; free-text skills live beside these, not in them."""

    __tablename__ = "skills"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(40))
    name_en: Mapped[str] = mapped_column(String(60))
    course_code: Mapped[str | None] = mapped_column(ForeignKey("courses.code"))


class Occupation(db.Model):
    """An occupation of the national classification (职业分类大典) that job slots name."""

    __tablename__ = "occupations"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(40))
    name_en: Mapped[str] = mapped_column(String(60))
