"""What skill rows share: a taxonomy entry or free text, with a level from 1 (basic) to 4 (expert)."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, SmallInteger, String
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

SKILL_LEVELS = (1, 2, 3, 4)


class SkillEntryMixin:
    skill_code: Mapped[str | None] = mapped_column(ForeignKey("skills.code"))
    # Kept as typed when it names no taxonomy entry; matched as text.
    free_text: Mapped[str | None] = mapped_column(String(60))
    level: Mapped[int] = mapped_column(SmallInteger, default=2)

    @declared_attr.directive
    def __table_args__(cls):
        return (
            CheckConstraint("skill_code IS NOT NULL OR free_text IS NOT NULL", name="names_a_skill"),
            CheckConstraint("level BETWEEN 1 AND 4", name="level_range"),
        )
