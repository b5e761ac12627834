"""Human labels for stored codes (statuses, grades, kinds), translated at render time; and the reference data's
names (courses, occupations, skills) in the page's language."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping

from flask_babel import gettext

from matcher.extensions import db
from matcher.reference.service import get_occupation, list_courses, list_occupations, list_skills
from matcher.skills import standard_grade_label
from matcher.vocabulary import LABELS
from matcher.web.forms import lang_code


def label(value, group: str) -> str:
    """`{{ candidate.status|label('candidate_status') }}` -> 求职中 / Seeking work."""
    if value is None:
        return "—"
    code = getattr(value, "value", value)
    text = LABELS.get(group, {}).get(code)
    return gettext(text) if text else str(code)


def _name(row) -> str:
    return row.name_en if lang_code() == "en" else row.name_zh


def course_choices() -> list[tuple[str, str]]:
    """The courses as a select's (code, name) options, in the reference data's order."""
    return [(c.code, _name(c)) for c in list_courses(session=db.session)]


class _OccupationNames(Mapping):
    """Occupation names by code, read one code at a time: the classification has some 1,600 occupations and a
    page names a few."""

    def __getitem__(self, code: str) -> str:
        occupation = get_occupation(session=db.session, code=code)
        if occupation is None:
            raise KeyError(code)
        return _name(occupation)

    def __iter__(self) -> Iterator[str]:
        return iter([o.code for o in list_occupations(session=db.session, level=None)])

    def __len__(self) -> int:
        return len(list_occupations(session=db.session, level=None))


def reference_names() -> dict[str, Mapping[str, str]]:
    """Course, occupation and skill names by code, in the page's language."""
    return {"courses": dict(course_choices()), "occupations": _OccupationNames(),
            "skills": {s.code: _name(s) for s in list_skills(session=db.session)}}


def skill_label(skill) -> str:
    """A skill's name, with the national skill standard's grade that asks for it: 冷菜拼摆（四级/中级工）."""
    grade = standard_grade_label(skill.standard_grade)
    if not grade:
        return _name(skill)
    return f"{_name(skill)}（{grade}）" if lang_code() == "zh" else f"{_name(skill)} ({grade})"


def skill_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """The skills grouped by course, for a select with option groups."""
    courses = dict(course_choices())
    groups: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for skill in list_skills(session=db.session):
        groups[skill.course_code or ""].append((skill.code, skill_label(skill)))
    other = gettext("Other skills")
    return sorted(((courses.get(code, other), items) for code, items in groups.items()), key=lambda g: g[0])


def reason_choices(codes) -> list[tuple[str, str]]:
    """Why a referral ends, as a select's (code, label) options in the order given."""
    return [(code.value, label(code, "end_reason")) for code in codes]
