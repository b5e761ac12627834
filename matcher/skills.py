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


# The grades of the national occupational skill standards (国家职业技能标准), from the lowest: a taxonomy skill taken
# from a standard (seed/reference/skills.csv: standard_occupation, standard_grade) names the lowest grade that asks
# for it. Shown in Chinese as the standards write them.
STANDARD_GRADES = (5, 4, 3, 2, 1)


def standard_grade_label(grade: int | None) -> str:
    """五级/初级工 ... 一级/高级技师 (English: Grade 5 / junior worker ...); '' for none."""
    from flask_babel import lazy_gettext as _l

    labels = {5: _l("Grade 5 / junior worker"), 4: _l("Grade 4 / intermediate worker"),
              3: _l("Grade 3 / senior worker"), 2: _l("Grade 2 / technician"), 1: _l("Grade 1 / senior technician")}
    return str(labels.get(grade, "")) if grade else ""
