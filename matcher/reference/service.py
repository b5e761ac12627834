"""Loading and reading the reference vocabularies."""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from matcher.reference.models import Course, Occupation, Skill

SEED_REFERENCE = Path(__file__).resolve().parent.parent.parent / "seed" / "reference"


def _read(name: str) -> list[dict]:
    with (SEED_REFERENCE / name).open(encoding="utf-8") as handle:
        return [{k: (v if v != "" else None) for k, v in row.items()} for row in csv.DictReader(handle)]


def load_reference_vocabularies(session: Session) -> dict[str, int]:
    """Load (or refresh) courses, skills and occupations from the shipped reference data."""
    courses = _read("courses.csv")
    for row in courses:
        row["min_age"] = int(row["min_age"])
        row["duration_days"] = int(row["duration_days"])
    skills = _read("skills.csv")
    occupations = _read("occupations.csv")
    # Merge rather than replace: slots and candidates already point at these rows.
    for model, rows in ((Course, courses), (Skill, skills), (Occupation, occupations)):
        for row in rows:
            session.merge(model(**row))
    session.flush()
    return {"courses": len(courses), "skills": len(skills), "occupations": len(occupations)}


def list_courses(*, session: Session) -> list[Course]:
    return list(session.scalars(select(Course).order_by(Course.code)))


def list_skills(*, session: Session, course: str | None = None) -> list[Skill]:
    stmt = select(Skill).order_by(Skill.code)
    if course:
        stmt = stmt.where(Skill.course_code == course)
    return list(session.scalars(stmt))


def list_occupations(*, session: Session) -> list[Occupation]:
    return list(session.scalars(select(Occupation).order_by(Occupation.code)))


def _skill_index(session: Session) -> tuple[dict[str, Skill], dict[str, str]]:
    """The taxonomy by code and by name, read once per session (an import resolves thousands of rows)."""
    cached = session.info.get("skill_index")
    if cached is None:
        skills = session.scalars(select(Skill)).all()
        by_code = {s.code: s for s in skills}
        by_name = {s.name_zh: s.code for s in skills} | {s.name_en.lower(): s.code for s in skills}
        cached = session.info["skill_index"] = (by_code, by_name)
    return cached


def skill_index(session: Session) -> tuple[dict[str, Skill], dict[str, str]]:
    """The skill taxonomy by code and by name (read once per session)."""
    return _skill_index(session)


def resolve_skill_entries(*, session: Session, entries: list[dict], field: str) -> list[dict]:
    """Check taxonomy codes; a free text that is exactly a taxonomy name becomes that entry."""
    from flask_babel import lazy_gettext as _l

    from matcher.errors import Invalid

    by_code, by_name = _skill_index(session)
    resolved, errors = [], {}
    for index, entry in enumerate(entries):
        code, text = entry.get("skill_code"), (entry.get("free_text") or "").strip() or None
        if code and code not in by_code:
            errors[str(index)] = {"skill_code": [_l("Unknown skill %(code)s.", code=code)]}
            continue
        if not code and text:
            code = by_name.get(text) or by_name.get(text.lower())
            if code:
                text = None
        resolved.append({"skill_code": code, "free_text": text, "level": entry.get("level", 2)})
    if errors:
        raise Invalid(_l("Some skills are not valid."), errors={field: errors})
    return resolved


def require_course(session: Session, code: str | None, field: str) -> None:
    from flask_babel import lazy_gettext as _l

    from matcher.errors import Invalid

    if code is not None and session.get(Course, code) is None:
        raise Invalid(_l("Unknown course %(code)s.", code=code), field=field)


def require_occupation(session: Session, code: str | None, field: str) -> None:
    from flask_babel import lazy_gettext as _l

    from matcher.errors import Invalid

    if code is not None and session.get(Occupation, code) is None:
        raise Invalid(_l("Unknown occupation %(code)s.", code=code), field=field)


def require_skill(session: Session, code: str | None, field: str) -> None:
    from flask_babel import lazy_gettext as _l

    from matcher.errors import Invalid

    if code is not None and code not in _skill_index(session)[0]:
        raise Invalid(_l("Unknown skill %(code)s.", code=code), field=field)
