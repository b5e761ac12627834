"""Courses, skills and occupations: tables loaded from seed/reference; and the administrators' readings of free
text onto the skill taxonomy (learned from confirmations)."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import CheckConstraint, ForeignKey, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from matcher import clock
from matcher.dbtypes import UtcDateTime
from matcher.extensions import db
from matcher.places.models import str_enum


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
    """An entry of the skills taxonomy; free-text skills live beside these, not in them.

    A skill taken from a national occupational skill standard (国家职业技能标准) names the standard's occupation
    and the lowest grade at which the standard asks for it (5 = 五级/初级工 ... 1 = 一级/高级技师)."""

    __tablename__ = "skills"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(40))
    name_en: Mapped[str] = mapped_column(String(60))
    course_code: Mapped[str | None] = mapped_column(ForeignKey("courses.code"))
    standard_occupation: Mapped[str | None] = mapped_column(String(16))
    standard_grade: Mapped[int | None] = mapped_column(SmallInteger)


class Occupation(db.Model):
    """An occupation of the national classification (职业分类大典 2022) that job slots name. Level 1-3 rows are its
    major, middle and minor groups (大类, 中类, 小类); level 4 rows (细类) are the occupations a slot takes."""

    __tablename__ = "occupations"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(40))
    name_en: Mapped[str] = mapped_column(String(60))
    level: Mapped[int] = mapped_column(SmallInteger, default=4, server_default="4")
    # The classification's marks: L a green occupation (绿色职业), S a digital one (数字职业).
    marks: Mapped[str | None] = mapped_column(String(8))
    aliases: Mapped[str | None] = mapped_column(Text)  # job titles used for it, comma separated
    definition: Mapped[str | None] = mapped_column(Text)


class MappingStatus(enum.StrEnum):
    SUGGESTED = "suggested"  # someone proposed a reading; it counts only once confirmed
    CONFIRMED = "confirmed"  # an administrator decided: the matcher reads the text so from now on


class SkillTextMapping(db.Model):
    """How one free text (normalised, as matcher.engine.skill_text reads it) is to be read: as a taxonomy skill,
    or (confirmed with no skill) as naming nothing in the taxonomy."""

    __tablename__ = "skill_text_mappings"
    __table_args__ = (
        CheckConstraint("status != 'suggested' OR suggested_code IS NOT NULL", name="suggestion_names_a_skill"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    text_key: Mapped[str] = mapped_column(String(60), unique=True)
    text: Mapped[str] = mapped_column(String(60))  # as first typed
    status: Mapped[MappingStatus] = mapped_column(str_enum(MappingStatus, length=16, name="mapping_status"),
                                                  index=True)
    skill_code: Mapped[str | None] = mapped_column(ForeignKey("skills.code"))
    suggested_code: Mapped[str | None] = mapped_column(ForeignKey("skills.code"))
    suggested_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    suggested_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=clock.now)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=clock.now, onupdate=clock.now)

    decided_by = relationship("Account", foreign_keys=[decided_by_id], lazy="joined")
    suggested_by = relationship("Account", foreign_keys=[suggested_by_id], lazy="joined")
