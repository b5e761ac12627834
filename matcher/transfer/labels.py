"""What a file shows for a stored code, in the language of its headers: a file with Chinese headers holds 男, 绿色,
职务犯罪 and 义乌市稠城街道, never male, green, duty_crime or 330782003; a file with English headers holds the codes
(the public contract of the API and the command line) unless English labels are asked for (the pages ask: their
files are for people).

The labels are the pages' own (matcher.vocabulary, translated the same way), and an import reads them back: a
value from a fixed list as the code, a page label in either language, or one of the Chinese forms the columns
list; a place by its name; a course or skill by its name. Columns that stay codes are headed as codes (职业编码)
or are ids.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flask_babel import force_locale, gettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from matcher.reference.models import Course, Skill
from matcher.transfer import columns as C
from matcher.transfer.columns import BOOL, ENUM, LIST, PLACE, SKILLS, Column
from matcher.vocabulary import LABELS

# Each column's fixed list, by the Chinese forms the columns module gives it.
GROUPS: list[tuple[Mapping[str, tuple[str, ...]], str]] = [
    (C.SEX, "sex"), (C.RISK_GRADE, "risk_grade"), (C.EDUCATION, "education"), (C.OFFENCE, "offence_category"),
    (C.CANDIDATE_STATUS, "candidate_status"), (C.CONSENT, "consent_kind"),
    (C.CERTIFICATION, "certification_status"), (C.SLOT_KIND, "slot_kind"), (C.SLOT_STATUS, "slot_status"),
    (C.REFERRAL_STATUS, "referral_status"), (C.MILESTONE, "milestone"),
    (C.END_REASON, "end_reason"),
]
# The pages' labels of each of those lists, by the list's codes (matcher.vocabulary).
PAGE_LABELS: dict[str, dict[str, str]] = {group: LABELS[group] for _forms, group in GROUPS}
BOOL_WORDS = {"zh": ("是", "否"), "en": ("yes", "no")}


def group_of(column: Column) -> str | None:
    for choices, group in GROUPS:
        if column.choices is choices:
            return group
    return None


def label_in(group: str, code: str, language: str) -> str:
    """A code's page label in `language` (zh or en); an unknown code as it is."""
    text = PAGE_LABELS.get(group, {}).get(code)
    if text is None:
        return code
    with force_locale("zh_CN" if language == "zh" else "en"):
        return gettext(text)


def page_labels(column: Column) -> dict[str, str]:
    """Page label (either language, lower-cased) -> code: what an import also reads for a column's fixed list."""
    group = group_of(column)
    if group is None:
        return {}
    found = {}
    for code in PAGE_LABELS[group]:
        for language in ("en", "zh"):
            found[label_in(group, code, language).strip().lower()] = code
    return found


class Labeller:
    """Writes the rows of an export with labels in one language; place, course and skill names read once."""

    def __init__(self, session: Session, language: str):
        self.language = language
        self.session = session
        self._places: dict[str, str] | None = None
        zh = language == "zh"
        self.courses = {code: (name_zh if zh else name_en) for code, name_zh, name_en in
                        session.execute(select(Course.code, Course.name_zh, Course.name_en))}
        self.skills = {code: (name_zh if zh else name_en) for code, name_zh, name_en in
                       session.execute(select(Skill.code, Skill.name_zh, Skill.name_en))}
        self.cache: dict[tuple[str, str], str] = {}

    def places(self, codes: Iterable[str]) -> dict[str, str]:
        from matcher.places.models import Place

        wanted = sorted({code for code in codes if code})
        found: dict[str, str] = {}
        for start in range(0, len(wanted), 500):
            found.update(self.session.execute(select(Place.code, Place.full_name)
                                              .where(Place.code.in_(wanted[start:start + 500]))).all())
        return found

    def rows(self, columns: list[Column], rows: list[dict]) -> list[dict]:
        place_columns = [c.name for c in columns if c.type == PLACE]
        names = self.places(row.get(name) for row in rows for name in place_columns) if place_columns else {}
        return [{name: self.value(column, row.get(name), names) for column in columns
                 if (name := column.name) in row} for row in rows]

    def _label(self, group: str, code: str) -> str:
        key = (group, code)
        if key not in self.cache:
            self.cache[key] = label_in(group, code, self.language)
        return self.cache[key]

    def value(self, column: Column, value: Any, places: dict[str, str]) -> Any:
        if value is None or value == "":
            return value
        if column.type == ENUM and (group := group_of(column)):
            return self._label(group, str(value))
        if column.type == BOOL and isinstance(value, bool):
            yes, no = BOOL_WORDS[self.language]
            return yes if value else no
        if column.type == PLACE:
            return places.get(str(value), value)
        if column.type == LIST and column.choices and (group := group_of(column)):
            return ";".join(self._label(group, item) for item in str(value).split(";"))
        if column.lookup == C.COURSE:
            return ";".join(self.courses.get(item, item) for item in str(value).split(";"))
        if column.type == SKILLS:
            return ";".join(self._skill(item) for item in str(value).split(";"))
        return value

    def _skill(self, item: str) -> str:
        code, _, level = item.rpartition(":")
        if not code:
            code, level = item, ""
        name = self.skills.get(code, code)
        return f"{name}:{level}" if level else name
