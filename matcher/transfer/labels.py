"""What a file shows for a stored code, in the language of its headers: a file with Chinese headers holds 男, 绿色,
职务犯罪 and 义乌市稠城街道, never male, green, duty_crime or 330782003; a file with English headers holds the codes
(the public contract of the API and the command line) unless English labels are asked for (the pages ask: their
files are for people).

The labels are the pages' own (the same English message ids as matcher.web.labels.LABELS, translated the same
way; tests/transfer/test_export_labels.py keeps the two equal), and an import reads them back: a value from a
fixed list as the code, a page label in either language, or one of the Chinese forms the columns list; a place
by its name; a course or skill by its name. Columns that stay codes are headed as codes (职业编码) or are ids.
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

N_ = str  # marks a msgid for extraction (these are also the pages' labels, in matcher.web.labels)

# The pages' English labels of each fixed list, by the list's codes.
PAGE_LABELS: dict[str, dict[str, str]] = {
    "sex": {"male": N_("Male"), "female": N_("Female")},
    "risk_grade": {"red": N_("Red"), "orange": N_("Orange"), "yellow": N_("Yellow"), "green": N_("Green")},
    "education": {"none": N_("No schooling"), "primary": N_("Primary school"),
                  "junior_secondary": N_("Junior secondary"), "senior_secondary": N_("Senior secondary"),
                  "vocational": N_("Vocational school"), "college": N_("College"),
                  "bachelor_or_above": N_("Bachelor or above")},
    "offence_category": {"theft": N_("Theft"), "fraud": N_("Fraud"), "robbery": N_("Robbery"),
                         "assault": N_("Assault"), "drugs": N_("Drug offence"),
                         "dangerous_driving": N_("Dangerous driving"), "gambling": N_("Gambling"),
                         "food_safety": N_("Food-safety crime"), "duty_crime": N_("Duty crime"),
                         "public_order": N_("Public order"), "other": N_("Other")},
    "candidate_status": {"pre_release": N_("Pre-release hand-over"), "active": N_("Seeking work"),
                         "placed": N_("Placed"), "closed": N_("Closed")},
    "consent_kind": {"data_processing": N_("Keep and match the file"), "referral": N_("Refer to bases"),
                     "disclose_identity": N_("Give name and phone to a base")},
    "certification_status": {"applied": N_("Applied"), "certified": N_("Certified"), "suspended": N_("Suspended"),
                             "expired": N_("Expired"), "revoked": N_("Revoked")},
    "slot_kind": {"job": N_("Job"), "training": N_("Training")},
    "slot_status": {"draft": N_("Draft"), "open": N_("Open"), "closed": N_("Closed")},
    "referral_status": {"proposed": N_("Proposed"), "sent": N_("Sent to base"), "interview": N_("Interview"),
                        "offered": N_("Offered"), "accepted": N_("Accepted"), "started": N_("Started"),
                        "stayed_30": N_("Stayed 30 days"), "stayed_90": N_("Stayed 90 days"),
                        "stayed_180": N_("Stayed 180 days"), "declined": N_("Declined"),
                        "withdrawn": N_("Withdrawn"), "left": N_("Left")},
    "end_reason": {"not_suitable": N_("Not suitable"), "position_filled": N_("Position filled"),
                   "no_show": N_("Did not come"), "candidate_declined": N_("The candidate declined"),
                   "other_job": N_("Took another job or course"), "health": N_("Health"),
                   "moved_away": N_("Moved away"), "family": N_("Family reasons"), "dismissed": N_("Dismissed"),
                   "contract_ended": N_("The job or course ended"), "personal": N_("Personal reasons"),
                   "other": N_("Other")},
}
# Each column's fixed list, by the Chinese forms the columns module gives it.
GROUPS: list[tuple[Mapping[str, tuple[str, ...]], str]] = [
    (C.SEX, "sex"), (C.RISK_GRADE, "risk_grade"), (C.EDUCATION, "education"), (C.OFFENCE, "offence_category"),
    (C.CANDIDATE_STATUS, "candidate_status"), (C.CONSENT, "consent_kind"),
    (C.CERTIFICATION, "certification_status"), (C.SLOT_KIND, "slot_kind"), (C.SLOT_STATUS, "slot_status"),
    (C.REFERRAL_STATUS, "referral_status"), (C.END_REASON, "end_reason"),
]
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
