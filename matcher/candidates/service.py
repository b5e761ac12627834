"""The candidate file: who may see and change it, intake, updates, risk grades, consents and visits."""

from __future__ import annotations

import dataclasses
import datetime as dt

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, case, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from matcher import clock, policy, uow
from matcher.apiutil import apply_sort
from matcher.audit.service import SENSITIVE_FIELDS, record_many, search_statement
from matcher.audit.service import record as audit
from matcher.auth.models import Account, Role
from matcher.bases.models import Company
from matcher.bulk import column_default, insert_rows, reserve_ids
from matcher.candidates.models import (
    Candidate,
    CandidateSkill,
    CandidateStatus,
    Certificate,
    Consent,
    ConsentKind,
    DisclosurePurpose,
    PreferredCourse,
    RiskAssessment,
    RiskGrade,
    Sex,
    Visit,
)
from matcher.candidates.rules import ASSISTANCE_YEARS, date_problems, merge_errors
from matcher.clock import add_years, today
from matcher.errors import Conflict, DomainError, Invalid, NotFound
from matcher.external_ids import set_reference
from matcher.identifiers import (
    hash_id_number,
    id_number_birth_date,
    id_number_sex,
    mask_id_number,
    new_public_id,
    normalise_id_number,
)
from matcher.offices.models import JudicialOffice
from matcher.offices.service import office_for_township
from matcher.places.models import Place
from matcher.places.service import resolve_place
from matcher.reference.service import require_course, require_skill, resolve_skill_entries, skill_index


def list_candidates(*, session: Session, actor: Account, filters: dict) -> Select:
    policy.require(actor, policy.Rule.CANDIDATE_READ, object_type="candidate")
    stmt = policy.candidates(actor)
    if not filters.get("include_archived"):  # archived files (matcher.retention) are nobody's work any more
        stmt = stmt.where(Candidate.archived_at.is_(None))
    for key, column in (("status", Candidate.status), ("risk_grade", Candidate.risk_grade),
                        ("key_subject", Candidate.key_subject), ("office_id", Candidate.office_id)):
        if filters.get(key) is not None:
            stmt = stmt.where(column == filters[key])
    if filters.get("course"):
        stmt = stmt.where(exists().where(PreferredCourse.candidate_id == Candidate.id,
                                         PreferredCourse.course_code == filters["course"]))
    if filters.get("dual_registration") is not None:
        differs = Candidate.hukou_code != Candidate.residence_code
        stmt = stmt.where(differs if filters["dual_registration"] else ~differs)
    if filters.get("released_from"):
        stmt = stmt.where(Candidate.release_date >= filters["released_from"])
    if filters.get("released_to"):
        stmt = stmt.where(Candidate.release_date <= filters["released_to"])
    if filters.get("q"):
        # Any part of the name ("红" finds 周红) or of the file number ("7K3F", "xt-7k"), or the bureau's own
        # reference as a whole; an ID number is found through its keyed hash only (find_by_id_number), never as
        # text in a query string.
        q = filters["q"].strip()
        stmt = stmt.where(or_(Candidate.name.contains(q, autoescape=True),
                              Candidate.public_id.contains(q.upper(), autoescape=True), Candidate.external_id == q))
    # The lists show each file's wished courses: loaded in one query for the page, not one per row.
    stmt = stmt.options(selectinload(Candidate.preferred_courses))
    return apply_sort(stmt, filters.get("sort", "-release_date"), SORT_COLUMNS, Candidate.id)


# How a list of files sorts: a status in the order a file goes through them, a risk grade from green to red.
SORT_COLUMNS = {
    "release_date": Candidate.release_date, "created_at": Candidate.created_at, "public_id": Candidate.public_id,
    "name": Candidate.name,
    "status": case({status.value: rank for rank, status in enumerate(CandidateStatus)}, value=Candidate.status,
                   else_=len(CandidateStatus)),
    "risk_grade": case({grade.value: rank for rank, grade in enumerate(reversed(RiskGrade))},
                       value=Candidate.risk_grade, else_=len(RiskGrade)),
}


def get_candidate(*, session: Session, actor: Account, candidate_id: int) -> Candidate:
    return policy.find(session, actor, policy.candidates(actor), Candidate, candidate_id, _l("No such candidate."),
                       object_type="candidate")


def read_candidate(*, session: Session, actor: Account, candidate_id: int) -> Candidate:
    """A candidate's file shown with its sensitive fields: the read is written to the audit log."""
    candidate = get_candidate(session=session, actor=actor, candidate_id=candidate_id)
    record_read(session=session, actor=actor, candidate_id=candidate.id)
    return candidate


def record_read(*, session: Session, actor: Account, candidate_id: int | None = None,
                fields=SENSITIVE_FIELDS) -> None:
    """Sensitive fields of one file (candidate_id) or of a list of files (None: one event per request) were
    shown: write it to the audit log, in the request's unit of work. A read changes nothing the page shows, so
    the rows already loaded stay loaded (a plain flush, not `uow.flush`, which would have every row of a list
    page load again, one query each)."""
    audit(session, actor=actor, action="read", object_type="candidate", object_id=candidate_id, fields=fields)
    session.flush()


# Columns as the audit log names them (the ID number's hash and mask are one field, a place is its code).
_AUDIT_NAMES = {"id_number_hash": "id_number", "id_number_masked": "id_number", "hukou_code": "hukou",
                "residence_code": "residence", "residence_lat": "residence", "residence_lng": "residence",
                "external_scope": "external_id"}
_RELATIONSHIP_FIELDS = ("skills", "certificates", "preferred_courses")


_SNAPSHOT_KEYS = tuple(column.key for column in Candidate.__table__.columns
                       if column.key not in ("id", "created_at", "updated_at"))


def _snapshot(candidate: Candidate) -> dict:
    if isinstance(candidate, _Draft):  # its columns set so far, the others None (as getattr would say, faster)
        return dict.fromkeys(_SNAPSHOT_KEYS) | {key: candidate.__dict__[key] for key in _SNAPSHOT_KEYS
                                                if key in candidate.__dict__}
    return {key: getattr(candidate, key) for key in _SNAPSHOT_KEYS}


def _changed_fields(before: dict, candidate: Candidate, data: dict) -> set[str]:
    changed = {_AUDIT_NAMES.get(key, key) for key, value in _snapshot(candidate).items() if before.get(key) != value}
    return changed | {key for key in _RELATIONSHIP_FIELDS if key in data}


def editable_candidate(session: Session, actor: Account, candidate_id: int) -> Candidate:
    """The residence office does the daily work; the household-registration office only reads."""
    candidate = get_candidate(session=session, actor=actor, candidate_id=candidate_id)
    if not policy.keeps_file(actor, candidate):
        raise policy.forbid(actor, _l("This file is kept by %(office)s; your office can read it but not change it.",
                                      office=candidate.office.name), object_type="candidate", object_id=candidate.id)
    return candidate


def _responsible_office(session: Session, actor: Account | None, residence_code: str, hukou_code: str,
                        office_id: int | None, memo: dict | None = None) -> int:
    if office_id is not None and (actor is None or actor.role == Role.ADMINISTRATOR):
        office = session.get(JudicialOffice, office_id)
        if office is None or (actor is not None and not policy.in_area(actor, office.township_code)):
            raise Invalid(_l("No such judicial office."), field="office_id")
        return office_id
    office = _office_for(session, residence_code, memo) or _office_for(session, hukou_code, memo)
    if office is None:
        raise Invalid(_l("No judicial office covers the residence or the household registration."),
                      field="residence")
    if actor is not None and actor.role == Role.CASEWORKER and office.id != actor.office_id \
            and hukou_code != actor.office.township_code:
        raise Invalid(_l("This person neither lives nor is registered in your office's township."),
                      field="residence")
    if actor is not None and actor.role == Role.ADMINISTRATOR and not policy.in_area(actor, office.township_code):
        raise Invalid(_l("This is outside your bureau's area."), field="residence")
    return office.id


def _office_for(session: Session, township_code: str, memo: dict | None) -> JudicialOffice | None:
    if memo is None:
        return office_for_township(session, township_code)
    key = ("office_for_township", township_code)
    if key not in memo:
        memo[key] = office_for_township(session, township_code)
    return memo[key]


@dataclasses.dataclass
class _Resolved:
    """A file's data checked against the reference data, the ID number, the dates and the actor's office: what to
    store, and every problem found (by field), all at once."""

    errors: dict = dataclasses.field(default_factory=dict)
    places: dict = dataclasses.field(default_factory=dict)  # hukou / residence -> ResolvedPlace
    skills: list | None = None
    office_id: int | None = None
    # A batch's answers to the reference look-ups (places, skills, courses, offices), shared by its files: each
    # distinct question is asked once. Only reference data, which the batch does not change, is remembered.
    memo: dict | None = None

    def attempt(self, check, *args, remember: bool = True, **kwargs):
        """Run one check; an Invalid it raises is kept with the others (its field errors, or its message).
        `remember`: the answer depends only on the arguments and the reference data (see `memo`)."""
        if self.memo is None or not remember:
            value, errors = _run_check(check, args, kwargs)
        else:
            key = (check, tuple(map(_memo_key, args)), tuple((k, _memo_key(v)) for k, v in sorted(kwargs.items())))
            answer = self.memo.get(key)
            if answer is None:
                answer = _run_check(check, args, kwargs)
                if len(self.memo) < MEMO_LIMIT:  # a batch of all-different questions costs no more memory
                    self.memo[key] = answer
            value, errors = answer
        if errors:
            merge_errors(self.errors, errors)  # copies the messages: a remembered answer is never changed
        return value


MEMO_LIMIT = 10_000


def _run_check(check, args, kwargs) -> tuple:
    try:
        return check(*args, **kwargs), None
    except Invalid as exc:
        return None, exc.errors or {"_schema": [exc.message]}


def _memo_key(value):
    # Plain values (and the entries of a row) by what they say; the session and the actor by identity.
    if value is None or isinstance(value, str | int | float | list | dict | tuple):
        return repr(value)
    return id(value)


def _resolve(session: Session, actor: Account | None, candidate: Candidate | None, data: dict,
             memo: dict | None = None) -> _Resolved:
    found = _Resolved(memo=memo)
    number = normalise_id_number(data["id_number"]) if data.get("id_number") else None
    born = id_number_birth_date(number) if number else None
    if born is not None:
        if data.get("birth_year") not in (None, born.year):
            found.errors.setdefault("birth_year", []).append(_l("The birth year does not match the ID number."))
        if data.get("sex") not in (None, Sex(id_number_sex(number))):
            found.errors.setdefault("sex", []).append(_l("The sex does not match the ID number."))
    for key in ("hukou", "residence"):
        if data.get(key):
            place = found.attempt(resolve_place, session=session, field=key, **data[key])
            if place is not None:
                found.places[key] = place
    if "skills" in data:
        found.skills = found.attempt(resolve_skill_entries, session=session, entries=data["skills"], field="skills")
    for index, certificate in enumerate(data.get("certificates") or []):
        found.attempt(require_skill, session, certificate.get("skill_code"), f"certificates.{index}.skill_code")
    for index, code in enumerate(data.get("preferred_courses") or []):
        found.attempt(require_course, session, code, f"preferred_courses.{index}")
    # The dates against each other, with the file's stored values where the data leaves them out.
    stored = candidate if candidate is not None and candidate.id is not None else None
    birth = born or (dt.date(data["birth_year"], 1, 1) if data.get("birth_year") else None) or (
        dt.date(stored.birth_year, 1, 1) if stored is not None and stored.birth_year else None)
    release = data.get("release_date") or (stored.release_date if stored is not None else None)
    earliest = data["earliest_start"] if "earliest_start" in data else (
        stored.earliest_start if stored is not None else None)
    if stored is None or {"id_number", "birth_year", "release_date", "earliest_start"} & data.keys():
        # A change is checked with the stored values it meets; dates stored before these rules are left alone.
        merge_errors(found.errors, date_problems(today=today(), release_date=release, earliest_start=earliest,
                                                 birth_date=birth,
                                                 birth_date_field="id_number" if born else "birth_year"))
    # The office: only once the places are known.
    office_id = data.get("office_id")
    if stored is None or office_id is not None:
        residence = found.places.get("residence")
        hukou = found.places.get("hukou")
        residence_code = residence.code if residence else (stored.residence_code if stored else None)
        hukou_code = hukou.code if hukou else (stored.hukou_code if stored else None)
        if residence_code and hukou_code:
            found.office_id = found.attempt(_responsible_office, session, actor, residence_code, hukou_code,
                                            office_id, memo, remember=False)
    return found


def candidate_problems(*, session: Session, actor: Account | None, data: dict,
                       candidate: Candidate | None = None) -> dict:
    """Everything wrong with a file's data (to open a file, or to change `candidate`), by field, at once: places,
    skills, certificates and courses against the reference data, the ID number against the birth year and sex, the
    dates (matcher.candidates.rules) and the office that would keep the file. An edge passes this to the schema
    (`CandidateCreateSchema(check=...)`) so that one answer names every wrong field; it is checked again here on
    saving. Only the fields present are checked (a schema's invalid fields are left out)."""
    return _resolve(session, actor, candidate, data).errors


def _apply(session: Session, actor: Account | None, candidate: Candidate, data: dict,
           memo: dict | None = None) -> None:
    data = dict(data)
    data.pop("consents", None)
    found = _resolve(session, actor, candidate, data, memo)
    if found.errors:
        raise Invalid(_l("Some fields are not valid."), errors=found.errors)
    if "id_number" in data:
        number = normalise_id_number(data.pop("id_number"))
        candidate.id_number_hash = id_number_digest(number)
        candidate.id_number_masked = mask_id_number(number)
        candidate.birth_year, candidate.sex = id_number_birth_date(number).year, Sex(id_number_sex(number))
        data.pop("birth_year", None)
        data.pop("sex", None)
    for key in ("hukou", "residence"):
        if key in data:
            data.pop(key)
            place = found.places[key]
            setattr(candidate, f"{key}_code", place.code)
            if key == "residence":
                candidate.residence_lat, candidate.residence_lng = place.lat, place.lng
    if "skills" in data:
        data.pop("skills")
        candidate.skills = [_part(candidate, CandidateSkill, entry) for entry in found.skills]
    if "certificates" in data:
        candidate.certificates = [_part(candidate, Certificate, c) for c in data.pop("certificates")]
    if "preferred_courses" in data:
        courses = data.pop("preferred_courses")
        if candidate.id is not None:
            # Replace in place: delete the old wishes first so (candidate, rank) stays unique.
            candidate.preferred_courses.clear()
            session.flush()
        candidate.preferred_courses = [_part(candidate, PreferredCourse, {"course_code": code, "rank": rank})
                                       for rank, code in enumerate(courses, start=1)]
    office_id = data.pop("office_id", None)
    grade = data.pop("risk_grade", None)
    for key, value in data.items():
        setattr(candidate, key, value)
    if "release_date" in data:
        candidate.assistance_ends_on = add_years(candidate.release_date, ASSISTANCE_YEARS)
    if office_id is not None or candidate.office_id is None:
        candidate.office_id = found.office_id
    if grade is not None and candidate.id is None:
        candidate.risk_grade = grade
    if "external_id" in data:  # the reference belongs to the county of the office keeping the file
        office = session.get(JudicialOffice, candidate.office_id) if candidate.office_id is not None else None
        set_reference(session, candidate, office.township_code if office is not None else None,
                      _l("Another file of this county has this reference."))


_CANDIDATE_COLUMNS = frozenset(column.key for column in Candidate.__table__.columns)


class _Draft:
    """A new file as plain values, for a batch (an import holds thousands of files at once: as ORM objects they
    would take ten times the memory). `_apply` fills it as it fills a Candidate; its parts (skills,
    certificates, wishes) are dicts of their columns."""

    __table__ = Candidate.__table__
    __model__ = Candidate
    id = None

    def __init__(self, **values):
        self.__dict__.update(values)
        self.skills, self.certificates, self.preferred_courses = [], [], []

    def __getattr__(self, name):  # a column not set yet, as on a new Candidate
        if name in _CANDIDATE_COLUMNS:
            return None
        raise AttributeError(name)


def _part(candidate, model, values: dict):
    """A skill, certificate or wish of the file: a row object, or its columns for a draft."""
    return dict(values) if isinstance(candidate, _Draft) else model(**values)


@dataclasses.dataclass
class NewCandidate:
    """A file to open, checked and built in memory (nothing in the session): the file with its skills,
    certificates and wishes, the consents given at intake and the fields its creation event names."""

    candidate: Candidate | _Draft
    consents: list
    fields: set


def build_new_candidate(*, session: Session, actor: Account | None, data: dict, memo: dict | None = None,
                        draft: bool = False) -> NewCandidate:
    """Every rule of opening a file but the ID number's uniqueness (the unique hash guards it; a batch asks first
    with `find_id_numbers`), writing nothing: raises Invalid with every wrong field. For a batch (`draft`, for
    `write_new_candidates`) the file is plain values and `memo` shares the reference look-ups of its files (see
    _Resolved)."""
    if actor is not None:
        policy.require(actor, policy.Rule.CANDIDATE_CREATE, object_type="candidate")
    candidate = (_Draft if draft else Candidate)(public_id=new_public_id(), office_id=None)
    before = _snapshot(candidate)
    _apply(session, actor, candidate, data, memo)
    if "status" not in data:
        candidate.status = (CandidateStatus.PRE_RELEASE if candidate.release_date > today()
                            else CandidateStatus.ACTIVE)
    candidate.risk_grade = data.get("risk_grade", RiskGrade.GREEN)
    _column_defaults(candidate)  # as the insert will store them, so that the event names the same fields
    fields = _changed_fields(before, candidate, data) | {"risk_grade"} | (
        {"consents"} if data.get("consents") else set())
    return NewCandidate(candidate, list(data.get("consents", [])), fields)


def _column_defaults(obj) -> None:
    """Set the columns the object leaves unset to their defaults (what a flush would insert)."""
    for column in obj.__table__.columns:
        if column.key not in obj.__dict__ and column.default is not None and not column.primary_key:
            setattr(obj, column.key, column_default(column))


def _columns_of(table, values: dict) -> dict:
    """A row to insert: every column but the key, from `values` or its default."""
    return {c.key: values[c.key] if c.key in values else column_default(c) for c in table.columns if not c.primary_key}


def create_candidate(*, session: Session, actor: Account | None, data: dict) -> Candidate:
    """Open a file. Before the release date the candidate is in pre-release hand-over."""
    new = build_new_candidate(session=session, actor=actor, data=data)
    candidate = new.candidate
    try:
        # In a savepoint: when the ID number is taken, only this attempt is undone and the lookup can be told.
        with session.begin_nested():
            session.add(candidate)
            session.flush()
            session.add(RiskAssessment(candidate_id=candidate.id, grade=candidate.risk_grade, assessed_on=today(),
                                       reason="intake", assessed_by_id=actor.id if actor else None))
            for kind in new.consents:
                session.add(Consent(candidate_id=candidate.id, kind=kind, granted=True, recorded_on=today(),
                                    recorded_by_id=actor.id if actor else None))
            audit(session, actor=actor, action="create", object_type="candidate", object_id=candidate.id,
                  fields=new.fields)
            session.flush()
    except IntegrityError:
        raise id_number_taken(session=session, actor=actor, data=data) from None
    uow.flush(session)
    return candidate


WRITE_CHUNK = 1000  # files written per round of INSERTs: bounds the memory the statements' parameters take


def write_new_candidates(*, session: Session, actor: Account | None, files: list[NewCandidate | None]) -> None:
    """Open many files built by `build_new_candidate(draft=True)`, as create_candidate opens one (the same rows:
    file, skills, certificates, wishes, intake assessment, consents, creation event), in bulk INSERTs of
    WRITE_CHUNK files. Each file is let go of (its place in `files` set to None) once written. A taken ID number
    (a file opened since the batch was checked) raises IntegrityError: the caller rolls back and finds the row one
    at a time."""
    columns = [c for c in Candidate.__table__.columns if not c.primary_key]
    actor_id, on, now = (actor.id if actor is not None else None), today(), clock.now()
    for start in range(0, len(files), WRITE_CHUNK):
        chunk = files[start:start + WRITE_CHUNK]
        files[start:start + WRITE_CHUNK] = [None] * len(chunk)
        ids = reserve_ids(session, Candidate.__table__, len(chunk))
        insert_rows(session, Candidate.__table__, [
            {"id": candidate_id, **{c.key: getattr(f.candidate, c.key) for c in columns}}
            for candidate_id, f in zip(ids, chunk, strict=True)])
        children: dict[type, list[dict]] = {CandidateSkill: [], Certificate: [], PreferredCourse: []}
        for candidate_id, new in zip(ids, chunk, strict=True):
            candidate = new.candidate
            for model, parts in ((CandidateSkill, candidate.skills), (Certificate, candidate.certificates),
                                 (PreferredCourse, candidate.preferred_courses)):
                children[model].extend(_columns_of(model.__table__, {**part, "candidate_id": candidate_id})
                                       for part in parts)
        children[RiskAssessment] = [
            {"candidate_id": candidate_id, "grade": new.candidate.risk_grade, "assessed_on": on,
             "reason": "intake", "assessed_by_id": actor_id, "created_at": now}
            for candidate_id, new in zip(ids, chunk, strict=True)]
        children[Consent] = [
            {"candidate_id": candidate_id, "kind": kind, "granted": True, "base_id": None, "purpose": None,
             "recorded_on": on, "note": None, "recorded_by_id": actor_id, "created_at": now}
            for candidate_id, new in zip(ids, chunk, strict=True) for kind in new.consents]
        for model, rows in children.items():
            insert_rows(session, model.__table__, rows)
        record_many(session, actor=actor, action="create", object_type="candidate",
                    events=[(candidate_id, new.fields) for candidate_id, new in zip(ids, chunk, strict=True)])
    uow.flush(session)


def update_candidate(*, session: Session, actor: Account, candidate_id: int, data: dict) -> Candidate:
    candidate = editable_candidate(session, actor, candidate_id)
    if "risk_grade" in data:
        raise Invalid(_l("Change the risk grade by recording a risk assessment."), field="risk_grade")
    before = _snapshot(candidate)
    try:
        # In a savepoint: when the ID number is taken, only this attempt is undone and the lookup can be told.
        with session.begin_nested():
            _apply(session, actor, candidate, data)
            if "residence" in data and "office_id" not in data:
                # Moving house moves the file to the new residence's office (the daily work follows the person).
                office = office_for_township(session, candidate.residence_code)
                if office is not None:
                    candidate.office_id = office.id
            audit(session, actor=actor, action="update", object_type="candidate", object_id=candidate.id,
                  fields=_changed_fields(before, candidate, data))
            session.flush()
    except IntegrityError:
        raise id_number_taken(session=session, actor=actor, data=data) from None
    uow.flush(session)
    return candidate


def add_risk_assessment(*, session: Session, actor: Account, candidate_id: int, data: dict) -> RiskAssessment:
    candidate = editable_candidate(session, actor, candidate_id)
    if data["assessed_on"] > today():
        raise Invalid(_l("An assessment cannot be dated in the future."), field="assessed_on")
    assessment = RiskAssessment(candidate_id=candidate.id, assessed_by_id=actor.id, **data)
    session.add(assessment)
    latest = session.scalar(select(RiskAssessment.assessed_on).where(RiskAssessment.candidate_id == candidate.id)
                            .order_by(RiskAssessment.assessed_on.desc()).limit(1))
    if latest is None or data["assessed_on"] >= latest:
        candidate.risk_grade = data["grade"]
    audit(session, actor=actor, action="assess_risk", object_type="candidate", object_id=candidate.id,
          fields=("risk_grade",))
    uow.flush(session)
    return assessment


def list_risk_assessments(*, session: Session, actor: Account, candidate_id: int) -> list[RiskAssessment]:
    candidate = get_candidate(session=session, actor=actor, candidate_id=candidate_id)
    record_read(session=session, actor=actor, candidate_id=candidate.id, fields=("risk_grade",))
    return list(session.scalars(select(RiskAssessment).where(RiskAssessment.candidate_id == candidate.id)
                                .order_by(RiskAssessment.assessed_on, RiskAssessment.id)))


def _check_consent(session: Session, data: dict) -> None:
    """A disclosure of name and contact names one existing base and one purpose; no other consent names
    either. Field errors name the field, never the value."""
    errors: dict[str, list] = {}
    if data["kind"] == ConsentKind.DISCLOSE_IDENTITY:
        if data.get("base_id") is None:
            errors["base_id"] = [_l("Choose the base that may learn the name and contact.")]
        elif session.get(Company, data["base_id"]) is None:
            errors["base_id"] = [_l("No such base.")]
        if data.get("purpose") is None:
            errors["purpose"] = [_l("Choose what the name and contact may be used for.")]
        if data.get("recorded_on") is not None and data["recorded_on"] > today():
            errors["recorded_on"] = [_l("A consent cannot be dated in the future.")]
    else:
        for name in ("base_id", "purpose"):
            if data.get(name) is not None:
                errors[name] = [_l("Only a consent to disclose the name and contact names a base and a purpose.")]
    if errors:
        raise Invalid(next(iter(errors.values()))[0], errors=errors)


def record_consent(*, session: Session, actor: Account, candidate_id: int, data: dict) -> Consent:
    """Record a consent given or withdrawn (granted=False). A disclosure of name and contact is recorded
    for one base and one purpose; the record takes effect at once (see `policy.consented`)."""
    candidate = editable_candidate(session, actor, candidate_id)
    _check_consent(session, data)
    data = dict(data)
    if data["kind"] != ConsentKind.DISCLOSE_IDENTITY:
        data.pop("base_id", None)
        data.pop("purpose", None)
    consent = Consent(candidate_id=candidate.id, recorded_by_id=actor.id, **data)
    session.add(consent)
    audit(session, actor=actor, action="consent", object_type="candidate", object_id=candidate.id,
          fields=("consents",))
    uow.flush(session)
    return consent


def list_consents(*, session: Session, actor: Account, candidate_id: int) -> list[Consent]:
    candidate = get_candidate(session=session, actor=actor, candidate_id=candidate_id)
    record_read(session=session, actor=actor, candidate_id=candidate.id, fields=("consents",))
    return list(session.scalars(select(Consent).where(Consent.candidate_id == candidate.id)
                                .order_by(Consent.recorded_on, Consent.id)))


def has_consent(session: Session, candidate_id: int, kind: ConsentKind) -> bool:
    """The latest record of a kind decides. For data processing and referral; a disclosure of name and
    contact is per base and purpose: ask `policy.consented`."""
    if kind == ConsentKind.DISCLOSE_IDENTITY:
        raise ValueError("disclosure is per base and purpose: use policy.consented")
    latest = session.scalar(select(Consent.granted).where(Consent.candidate_id == candidate_id,
                                                          Consent.kind == kind)
                            .order_by(Consent.recorded_on.desc(), Consent.id.desc()).limit(1))
    return bool(latest)


# ---- disclosure of name and contact, per base and purpose (in force: matcher.policy.consented) ------------

def disclosed_candidate_ids(session: Session, candidate_ids, base_id: int | None,
                            purpose: DisclosurePurpose | str) -> set[int]:
    """Of these candidates, those whose name and contact this base may learn for this purpose (one query).
    For lists: a fair booth's interview list (purpose job_fair), a spreadsheet for one base."""
    if base_id is None:
        return set()
    return {c for c, _b, _p in policy.disclosures_in_force(session, [(c, base_id, purpose) for c in candidate_ids])}


def disclosures_by_candidate(session: Session, candidate_id: int) -> dict[tuple[int, DisclosurePurpose], Consent]:
    """The latest disclosure record of each (base, purpose) of one candidate: granted or withdrawn."""
    latest: dict[tuple[int, DisclosurePurpose], Consent] = {}
    for consent in session.scalars(select(Consent).where(
            Consent.candidate_id == candidate_id, Consent.kind == ConsentKind.DISCLOSE_IDENTITY,
            Consent.base_id.is_not(None), Consent.purpose.is_not(None)).order_by(Consent.id)):
        latest[(consent.base_id, consent.purpose)] = consent
    return latest


def skill_names(session: Session, language: str = "zh") -> dict[str, str]:
    """The skills' names by code, in a language (zh or en)."""
    by_code = skill_index(session)[0]
    return {code: (skill.name_en if language == "en" else skill.name_zh) for code, skill in by_code.items()}


def certificate_text(certificate: Certificate, names: dict[str, str]) -> str:
    """A certificate as people read it: its name, with the code of the skill it attests written as the skill's
    name (files made by an earlier demo generator carry "forklift_operation职业技能等级证书"), and that skill named
    after it when the name does not say it. Codes are never shown."""
    name, code = certificate.name, certificate.skill_code
    if not code:
        return name
    label = names.get(code, "")
    if code in name:
        return name.replace(code, label)
    return f"{name}（{label}）" if label and label not in name else name


def list_visits(*, session: Session, actor: Account, candidate_id: int) -> list[Visit]:
    """A file's visits, whose notes may say anything about the person: the read is written to the audit log."""
    candidate = get_candidate(session=session, actor=actor, candidate_id=candidate_id)
    record_read(session=session, actor=actor, candidate_id=candidate.id, fields=("visits",))
    return list(session.scalars(select(Visit).where(Visit.candidate_id == candidate.id)
                                .order_by(Visit.visited_on.desc(), Visit.id.desc())))


def pseudonymous_view(session: Session, candidate: Candidate, *, base_id: int | None = None,
                      purpose: DisclosurePurpose | str | None = None, disclosed: bool | None = None) -> dict:
    """The skills-only view a base gets: no offence, risk, ID, household registration or address. Name and
    phone only when the candidate consented to disclose them to this base (`base_id`) for this purpose;
    `disclosed` passes an answer already looked up in bulk (`policy.disclosures_in_force`)."""
    residence = session.get(Place, candidate.residence_code)
    district = session.get(Place, residence.parent_code) if residence and residence.parent_code else None
    if disclosed is None:
        disclosed = policy.consented(session, candidate.id, base_id, purpose)
    view = {
        "public_id": candidate.public_id,
        "name": candidate.name if disclosed else None,
        "education": candidate.education.value,
        "skills": candidate.skills,
        "certificates": [certificate_text(c, skill_names(session)) for c in candidate.certificates],
        "preferred_courses": [p.course_code for p in candidate.preferred_courses],
        "residence_district": district,
        "needs_housing": candidate.needs_housing,
        "earliest_start": candidate.earliest_start,
    }
    if disclosed:  # the contact: not even its key without consent
        view["phone"] = candidate.phone
    return view


def candidate_card(session: Session, actor: Account, candidate: Candidate, *, base_id: int | None = None,
                   purpose: DisclosurePurpose | str | None = None, disclosed: bool | None = None) -> dict:
    """How a candidate appears on a referral: caseworkers and administrators see who it is (and the
    file's id); everyone else only the pseudonymous view, with name and phone where the candidate consented
    to show them to that base (`base_id`) for that purpose. An employer is only ever named their own base."""
    if actor.role == Role.EMPLOYER and (base_id is None or base_id != actor.company_id):
        base_id, disclosed = None, False
    card = pseudonymous_view(session, candidate, base_id=base_id, purpose=purpose, disclosed=disclosed)
    if actor.role in (Role.ADMINISTRATOR, Role.CASEWORKER):
        card["id"], card["name"], card["phone"] = candidate.id, candidate.name, candidate.phone
    else:
        card["id"] = None
    return card


def referral_card(session: Session, actor: Account, referral, *, disclosed: bool | None = None) -> dict:
    """The candidate's card on a referral: the base is the slot's, the purpose follows the referral's stage."""
    return candidate_card(session, actor, referral.candidate, base_id=referral.slot.company_id,
                          purpose=policy.referral_purpose(referral), disclosed=disclosed)


def referral_disclosures(session: Session, referrals) -> set[int]:
    """Ids of the referrals on which the slot's base may see name and contact (one query for a list)."""
    keyed = {r.id: (r.candidate_id, r.slot.company_id, policy.referral_purpose(r)) for r in referrals}
    allowed = policy.prime_consents(session, keyed.values())
    return {rid for rid, key in keyed.items() if key in allowed}


# ---- finding a file by ID number ----------------------------------------------------------------------
#
# That a file exists for an ID number is itself sensitive: it says the person has a record. Inside the actor's
# scope the answer is that the file exists; outside it only that the person is registered elsewhere (no office,
# name or file number), and every such answer is written to the audit log (`id_lookup`, no personal data) and
# bounded per account and China day (ID_LOOKUPS_PER_DAY), so that imports and intake forms cannot sweep the
# city's files.

ID_LOOKUP = "id_lookup"
ID_NUMBER_ON_FILE = _l("A file for this ID number already exists.")
REGISTERED_ELSEWHERE = _l("This person is registered elsewhere: the file must be transferred to your office through "
                          "the bureau.")


class IdLookupsExhausted(DomainError):
    status = 429


def id_lookups_exhausted(*, field: str) -> IdLookupsExhausted:
    return IdLookupsExhausted(_l("Refused, and nothing was changed: your account has reached today's limit of "
                                 "%(limit)s ID numbers found registered elsewhere. Try again tomorrow, or ask the "
                                 "bureau to transfer the files.", limit=current_app.config["ID_LOOKUPS_PER_DAY"]),
                              field=field)


@dataclasses.dataclass(frozen=True)
class IdNumberOnFile:
    candidate_id: int
    in_scope: bool  # the actor may see the file (policy.candidates)


def id_number_digest(number: str) -> str:
    """The keyed hash a file is found by (the number itself is never stored)."""
    return hash_id_number(number, current_app.config["ID_NUMBER_PEPPER"])


def find_id_number(*, session: Session, actor: Account | None, number: str) -> IdNumberOnFile | None:
    """The file kept for this ID number (matched by its keyed hash), if any, and whether the actor may see it.
    Tell of a file outside the scope only REGISTERED_ELSEWHERE, and only after `record_id_lookups`."""
    digest = id_number_digest(number)
    return find_id_numbers(session=session, actor=actor, digests=[digest]).get(digest)


LOOKUP_CHUNK = 500  # hashes per query: well below any database's limit of bound parameters


def find_id_numbers(*, session: Session, actor: Account | None, digests) -> dict[str, IdNumberOnFile]:
    """`find_id_number` for many numbers at once (their keyed hashes, `id_number_digest`): the files kept, by
    hash, in a few queries. The same answer, under the same rule: a file outside the scope is told only as
    REGISTERED_ELSEWHERE, after `record_id_lookups`."""
    digests = list(dict.fromkeys(digests))
    found: dict[str, int] = {}
    for start in range(0, len(digests), LOOKUP_CHUNK):
        chunk = digests[start:start + LOOKUP_CHUNK]
        found.update((digest, candidate_id) for digest, candidate_id in session.execute(
            select(Candidate.id_number_hash, Candidate.id).where(Candidate.id_number_hash.in_(chunk))))
    if not found:
        return {}
    ids = list(found.values())
    in_scope: set[int] = set(ids) if actor is None else set()
    for start in range(0, len(ids) if actor is not None else 0, LOOKUP_CHUNK):
        in_scope.update(session.scalars(policy.candidate_ids(actor)
                                        .where(Candidate.id.in_(ids[start:start + LOOKUP_CHUNK]))))
    return {digest: IdNumberOnFile(candidate_id, candidate_id in in_scope) for digest, candidate_id in found.items()}


def id_lookups_left(session: Session, actor: Account) -> int:
    """How many more files outside its scope the account may find by ID number today (China's day)."""
    looked = search_statement({"actor_id": actor.id, "action": ID_LOOKUP, "date_from": today()}).order_by(None)
    used = session.scalar(select(func.count()).select_from(looked.subquery()))
    return max(0, current_app.config["ID_LOOKUPS_PER_DAY"] - used)


def record_id_lookups(session: Session, actor: Account, candidate_ids) -> None:
    """Write to the audit log the lookups that found files outside the actor's scope, whatever becomes of the
    unit of work that looked (an import's is rolled back, a refused file answers an error): the trace must
    outlive it (`uow.keep`)."""
    who, found = policy.acting_as(actor), list(candidate_ids)

    def write(kept: Session) -> None:
        for candidate_id in found:
            audit(kept, actor=who, action=ID_LOOKUP, object_type="candidate", object_id=candidate_id)

    uow.keep(write, session)


def id_number_taken(*, session: Session, actor: Account | None, data: dict) -> DomainError:
    """The answer to a file opened or changed with an ID number already kept (the unique hash refused it), once
    the attempt is rolled back: the file exists, or (outside the actor's scope) the person is registered
    elsewhere, a lookup recorded and counted."""
    found = find_id_number(session=session, actor=actor, number=data["id_number"]) if data.get("id_number") \
        else None
    if found is None or found.in_scope:
        return Conflict(ID_NUMBER_ON_FILE, field="id_number")
    return _elsewhere(session, actor, found)


def lookup_id_number(*, session: Session, actor: Account, number: str) -> Candidate | None:
    """The file kept for a full ID number (a valid one: the edge's schema checks it), found through its keyed hash:
    the file when the actor may see it, None when no file has the number. A file kept outside the scope answers
    REGISTERED_ELSEWHERE with the way to ask for a transfer, the lookup recorded and counted as at intake. The number
    itself is never stored or logged."""
    policy.require(actor, policy.Rule.CANDIDATE_READ, object_type="candidate")
    found = find_id_number(session=session, actor=actor, number=number)
    if found is None:
        return None
    if not found.in_scope:
        raise _elsewhere(session, actor, found)
    return get_candidate(session=session, actor=actor, candidate_id=found.candidate_id)


def _elsewhere(session: Session, actor: Account, found: IdNumberOnFile) -> DomainError:
    exhausted = id_lookups_left(session, actor) < 1
    record_id_lookups(session, actor, [found.candidate_id])
    if exhausted:
        return id_lookups_exhausted(field="id_number")
    return registered_elsewhere()


# ---- asking the bureau to transfer a file kept elsewhere (移交) --------------------------------------------
#
# A caseworker who meets a person registered elsewhere (at intake, or looking the number up) learns nothing of
# the other file. What they can do is ask: the request names the file to the administrators whose area holds
# the office that keeps it (by file number only) and names the asking office; the administrators move the file
# (its office_id) when the person really lives here now. The requester gives the ID number again: no link or
# token says which file it is.

TRANSFER_REQUEST = "transfer_request"
TRANSFER_REQUEST_PATH = "/api/v1/candidates/transfer-requests"


def registered_elsewhere() -> Conflict:
    """The answer for a file kept outside the actor's scope, with the way to ask for its transfer (the API's error
    body carries it under `links`)."""
    error = Conflict(REGISTERED_ELSEWHERE, field="id_number")
    error.links = {"transfer_request": TRANSFER_REQUEST_PATH}
    return error


def request_transfer(*, session: Session, actor: Account, number: str) -> None:
    """Ask the bureau to transfer to the actor's office the file kept elsewhere for this ID number. Recorded in the
    audit log (`transfer_request`, the file's id, no personal data) and told to the administrators of the area
    that holds the keeping office; asking twice tells them once. The lookup counts as at intake."""
    policy.require(actor, policy.Rule.CANDIDATE_CREATE, object_type="candidate")
    if actor.role != Role.CASEWORKER:  # administrators move files themselves: for them there is nothing to ask
        policy.note_refusal(actor, "candidate", None)
        raise NotFound(_l("Not found."))
    found = find_id_number(session=session, actor=actor, number=number)
    if found is None:
        raise Invalid(_l("No file has this ID number: open a new file."), field="id_number")
    if found.in_scope:
        raise Conflict(ID_NUMBER_ON_FILE, field="id_number")
    if id_lookups_left(session, actor) < 1:
        record_id_lookups(session, actor, [found.candidate_id])
        raise id_lookups_exhausted(field="id_number")
    record_id_lookups(session, actor, [found.candidate_id])
    candidate = session.get(Candidate, found.candidate_id)
    audit(session, actor=actor, action=TRANSFER_REQUEST, object_type="candidate", object_id=candidate.id)
    from matcher.notify.models import NotificationKind
    from matcher.notify.service import administrators, administrators_for, notify

    notify(session, account_ids=administrators_for(administrators(session), candidate.office.township_code),
           kind=NotificationKind.TRANSFER_REQUEST, key=f"transfer:{candidate.id}:{actor.office_id}",
           subject_type="candidate", subject_id=candidate.id,
           params={"public_id": candidate.public_id, "office": actor.office.name})
    uow.flush(session)


# ---- pre-release hand-over (预释放信息对接) ---------------------------------------------------------

HAND_OVER_CONSENT_NOTE = "legal duty"  # the file is kept under the bureau's legal duty, not by consent
HAND_OVER_REASON = "intake (pre-release hand-over)"


def receive_hand_over(*, session: Session, actor: Account, data: dict) -> tuple[Candidate, bool]:
    """One person on a prison's or detention centre's list of people due for release: open the file, or bring
    the file already kept for that ID number (matched by its keyed hash) up to date. Returns (file, created).

    The file goes to the office of the township where the person lives (the household-registration township's
    office reads it under dual registration, as for any file); a move of residence moves it. Status:
    pre_release until the release date, active from it (a placed file stays placed). The data-processing
    consent is recorded as the legal duty it rests on. `sentence_note` becomes the note of the file's intake
    assessment. `education` is needed only to open a file."""
    policy.require(actor, policy.Rule.CANDIDATE_CREATE, object_type="candidate")
    data = dict(data)
    sentence_note = data.pop("sentence_note", None)
    number = normalise_id_number(data["id_number"])
    digest = id_number_digest(number)
    existing = session.scalar(select(Candidate).where(Candidate.id_number_hash == digest))
    if existing is None:
        if data.get("education") is None:
            raise Invalid(_l("Give the education: it is needed to open a new file."), field="education")
        candidate, created = create_candidate(session=session, actor=actor, data=data), True
    else:
        data.pop("id_number")
        if data.pop("birth_year", None) not in (None, id_number_birth_date(number).year):
            raise Invalid(_l("The birth year does not match the ID number."), field="birth_year")
        if data.pop("sex", None) not in (None, Sex(id_number_sex(number))):
            raise Invalid(_l("The sex does not match the ID number."), field="sex")
        if existing.status != CandidateStatus.PLACED:
            data["status"] = (CandidateStatus.PRE_RELEASE if data["release_date"] > today()
                              else CandidateStatus.ACTIVE)
        candidate, created = update_candidate(session=session, actor=actor, candidate_id=existing.id,
                                              data=data), False
    if not has_consent(session, candidate.id, ConsentKind.DATA_PROCESSING):
        session.add(Consent(candidate_id=candidate.id, kind=ConsentKind.DATA_PROCESSING, granted=True,
                            recorded_on=today(), note=HAND_OVER_CONSENT_NOTE, recorded_by_id=actor.id))
    if sentence_note or created:
        intake = session.scalar(select(RiskAssessment).where(RiskAssessment.candidate_id == candidate.id)
                                .order_by(RiskAssessment.assessed_on, RiskAssessment.id).limit(1))
        if intake is not None:
            intake.reason = (f"{HAND_OVER_REASON}: {sentence_note}" if sentence_note
                             else HAND_OVER_REASON)[:500]
    uow.flush(session)
    return candidate, created

# ---- what the office's home page counts ---------------------------------------------------------------------

def office_caseload(*, session: Session, actor: Account, releasing_by: dt.date, limit: int) -> dict:
    """The caseworker's office at a glance: its files by status and by risk grade, its key subjects, and the
    people to be released by `releasing_by` (soonest first, at most `limit`, with their number)."""
    own = list_candidates(session=session, actor=actor, filters={"office_id": actor.office_id})
    key_subjects = list_candidates(session=session, actor=actor,
                                   filters={"office_id": actor.office_id, "key_subject": True})
    releasing = list_candidates(session=session, actor=actor, filters={
        "office_id": actor.office_id, "status": CandidateStatus.PRE_RELEASE, "released_to": releasing_by,
        "sort": "release_date"})
    return {"by_status": _count_by(session, own, "status"), "by_grade": _count_by(session, own, "risk_grade"),
            "key_subjects": _count(session, key_subjects),
            "releasing": list(session.scalars(releasing.limit(limit))), "releasing_total": _count(session, releasing)}


def _count(session: Session, stmt: Select) -> int:
    return session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0


def _count_by(session: Session, stmt: Select, column: str) -> dict[str, int]:
    sub = stmt.order_by(None).subquery()
    rows = session.execute(select(sub.c[column], func.count()).group_by(sub.c[column]))
    return {getattr(value, "value", value): number for value, number in rows}
