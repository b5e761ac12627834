"""Caseworker pages: the office home, the candidate file (一人一档), recommendations and the referral board.

Views stay thin: every read and write goes through the services (which enforce scope: a file out of
the caseworker's scope is the not-found page), and form input is validated by the API's own schemas.
Nothing here logs: these pages carry the most sensitive personal data there is.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections import Counter, defaultdict

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import ValidationError
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from matcher import uow
from matcher.auth.models import Role
from matcher.bases.models import Company, certified_in_date
from matcher.candidates import service as candidates
from matcher.candidates.models import (
    Candidate,
    CandidateStatus,
    ConsentKind,
    DisclosurePurpose,
    Education,
    OffenceCategory,
    RiskGrade,
    VisitKind,
)
from matcher.candidates.schemas import (
    CandidateCreateSchema,
    CandidateListQuerySchema,
    CandidateUpdateSchema,
    ConsentCreateSchema,
    RiskAssessmentCreateSchema,
    VisitCreateSchema,
)
from matcher.clock import today
from matcher.errors import DomainError, NotFound, translate
from matcher.extensions import db
from matcher.followup import service as followup_service
from matcher.followup.schemas import ReoffenceCreateSchema
from matcher.matching import service as matching
from matcher.places.service import get_place
from matcher.reference.service import list_courses, list_skills
from matcher.referrals import lifecycle
from matcher.referrals import service as referrals
from matcher.referrals.lifecycle import ENDED
from matcher.referrals.models import Referral
from matcher.referrals.schemas import TransitionSchema
from matcher.slots.service import get_slot, list_slots
from matcher.web.base import actor, bp, page
from matcher.web.followup import file_extras as followup_extras
from matcher.web.forms import int_in, is_htmx, lang_code, leaves
from matcher.web.labels import label

CW = Role.CASEWORKER
PAGE_SIZE = 50
RECOMMENDATIONS_PER_PAGE = 20
RELEASE_WINDOW_DAYS = 90
MILESTONE_NOTICE_DAYS = 7
SKILL_LEVELS = (1, 2, 3, 4)
MIN_SKILL_ROWS, MAX_SKILL_ROWS = 3, 30
MIN_COURSE_ROWS, MAX_COURSE_ROWS = 3, 5


# ---- small helpers ------------------------------------------------------------------------------

def _field_errors(messages, rows: dict[str, list[int]] | None = None) -> dict[str, list[str]]:
    """Flatten a schema's or a domain error's field tree to {form field: [translated message]}.

    List fields (skills, preferred courses) keep their entry's index, mapped back to the form row it
    came from (`rows`), so the message appears next to that row."""
    rows = rows or {}
    out: dict[str, list[str]] = defaultdict(list)

    def add(key: str, value) -> None:
        for message in leaves(value):
            if message not in out[key]:
                out[key].append(message)

    for key, value in (messages or {}).items():
        parts = str(key).split(".")
        field = parts[0]
        if field in rows and len(parts) > 1 and parts[1].isdigit():
            add(_row_key(field, rows, int(parts[1])), value)
        elif field in rows and isinstance(value, dict) and all(str(k).isdigit() for k in value):
            for index, inner in value.items():
                add(_row_key(field, rows, int(index)), inner)
        else:
            add(field, value)
    return dict(out)


def _row_key(field: str, rows: dict[str, list[int]], index: int) -> str:
    mapping = rows.get(field, [])
    return f"{field}-{mapping[index]}" if index < len(mapping) else field


def _domain_errors(exc: DomainError, rows: dict[str, list[int]] | None = None) -> dict[str, list[str]]:
    errors = _field_errors(exc.errors, rows)
    if not errors:
        errors = {"_form": [translate(exc.message)]}
    return errors


def _paging(total: int, page_no: int, size: int) -> dict:
    pages = max(1, math.ceil(total / size))
    return {"page": min(max(page_no, 1), pages), "pages": pages, "total": total, "size": size}


def _count(stmt) -> int:
    return db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0


def _count_by(stmt, column: str) -> dict[str, int]:
    sub = stmt.order_by(None).subquery()
    rows = db.session.execute(select(sub.c[column], func.count()).group_by(sub.c[column]))
    return {getattr(value, "value", value): number for value, number in rows}


def _course_choices() -> list[tuple[str, str]]:
    lang = lang_code()
    return [(c.code, c.name_zh if lang == "zh" else c.name_en) for c in list_courses(session=db.session)]


def _reason_choices(codes) -> list[tuple[str, str]]:
    """Why a referral ends, as a select's (code, label) options in the order given."""
    return [(code.value, label(code, "end_reason")) for code in codes]


def _skill_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """The taxonomy grouped by course, for a select with option groups."""
    lang = lang_code()
    courses = dict(_course_choices())
    groups: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for skill in list_skills(session=db.session):
        groups[skill.course_code or ""].append((skill.code, skill.name_zh if lang == "zh" else skill.name_en))
    other = _("Other skills")
    return sorted(((courses.get(code, other), items) for code, items in groups.items()), key=lambda g: g[0])


def _skill_names() -> dict[str, str]:
    return {code: name for _group, items in _skill_choices() for code, name in items}


def _place_name(code: str | None) -> str:
    if not code:
        return "—"
    try:
        return get_place(session=db.session, code=code).full_name
    except NotFound:
        return code


def _own(candidate: Candidate) -> bool:
    """The residence office keeps the file and does the daily work; the household office only reads."""
    return candidate.office_id == actor().office_id


def _candidate_or_404(candidate_id: int) -> Candidate:
    return candidates.get_candidate(session=db.session, actor=actor(), candidate_id=candidate_id)


# ---- the office home ----------------------------------------------------------------------------

@bp.route("/caseworker")
@page(CW)
def caseworker_home():
    me = actor()
    day = today()
    own = candidates.list_candidates(session=db.session, actor=me, filters={"office_id": me.office_id})
    by_status = _count_by(own, "status")
    by_grade = _count_by(own, "risk_grade")
    key_subjects = _count(candidates.list_candidates(session=db.session, actor=me,
                                                     filters={"office_id": me.office_id, "key_subject": True}))
    releasing_stmt = candidates.list_candidates(session=db.session, actor=me, filters={
        "office_id": me.office_id, "status": CandidateStatus.PRE_RELEASE,
        "released_to": day + dt.timedelta(days=RELEASE_WINDOW_DAYS), "sort": "release_date"})
    candidates.record_read(session=db.session, actor=me, fields=("risk_grade",))  # the list shows risk grades
    releasing = list(db.session.scalars(releasing_stmt.limit(PAGE_SIZE)))
    releasing_total = _count(releasing_stmt)

    kept_here = Referral.candidate.has(Candidate.office_id == me.office_id)
    waiting_stmt = referrals.list_referrals(session=db.session, actor=me, filters={"sort": "updated_at"}) \
        .where(kept_here, Referral.status.in_(lifecycle.WAITING))
    waiting_counts = _count_by(waiting_stmt, "status")
    waiting = list(db.session.scalars(waiting_stmt.limit(PAGE_SIZE)))

    placed_stmt = referrals.list_referrals(session=db.session, actor=me, filters={"sort": "updated_at"}) \
        .where(kept_here, Referral.status.in_(list(lifecycle.NEXT_STAY)))
    milestones = []
    for referral in db.session.scalars(placed_stmt):
        if referral.started_on is None:
            continue
        target, days = lifecycle.NEXT_STAY[referral.status]
        due = referral.started_on + dt.timedelta(days=days)
        if due <= day + dt.timedelta(days=MILESTONE_NOTICE_DAYS):
            milestones.append({"referral": referral, "target": target, "due": due, "days": days,
                               "reached": due <= day})
    milestones.sort(key=lambda m: m["due"])
    return render_template(
        "web/caseworker/home.html", office=me.office, by_status=by_status, by_grade=by_grade,
        total=sum(by_status.values()), key_subjects=key_subjects, releasing=releasing,
        releasing_total=releasing_total, waiting=waiting, waiting_counts=waiting_counts,
        waiting_total=sum(waiting_counts.values()), milestones=milestones, today=day,
        statuses=list(CandidateStatus), grades=list(RiskGrade), waiting_statuses=lifecycle.WAITING,
        window=RELEASE_WINDOW_DAYS)


# ---- the candidate list -------------------------------------------------------------------------

FILTER_FIELDS = ("status", "risk_grade", "key_subject", "course", "q")


@bp.route("/caseworker/candidates")
@page(CW)
def caseworker_candidates():
    raw = {key: request.args.get(key, "").strip() for key in FILTER_FIELDS}
    errors: dict[str, list[str]] = {}
    try:
        filters = CandidateListQuerySchema().load({k: v for k, v in raw.items() if v})
    except ValidationError as exc:
        errors = _field_errors(exc.messages)
        filters = CandidateListQuerySchema().load(
            {k: v for k, v in raw.items() if v and k not in exc.messages})
    stmt = candidates.list_candidates(session=db.session, actor=actor(), filters=filters)
    paging = _paging(_count(stmt), (int_in(request.args.get("page")) or 1), PAGE_SIZE)
    candidates.record_read(session=db.session, actor=actor(), fields=("risk_grade",))  # the rows show risk grades
    rows = list(db.session.scalars(stmt.limit(PAGE_SIZE).offset((paging["page"] - 1) * PAGE_SIZE)))
    query = {k: v for k, v in raw.items() if v}
    return render_template("web/caseworker/candidates.html", rows=rows, paging=paging, filters=raw,
                           query=query, errors=errors, courses=_course_choices(),
                           statuses=list(CandidateStatus), grades=list(RiskGrade)), 200 if not errors else 422


# ---- intake and edit ----------------------------------------------------------------------------

def _place_input(text: str) -> dict:
    text = text.strip()
    return {"code": text} if text.isdigit() else {"name": text}


def _form_to_candidate(form: MultiDict, candidate: Candidate | None) -> tuple[dict, dict, dict]:
    """The form as the schema's dict shape; also the form rows behind list entries, and errors the
    schema cannot see (a required field left empty on the edit form)."""
    creating = candidate is None
    data: dict = {}
    errors: dict[str, list[str]] = {}
    required = ("name", "education", "offence_category", "release_date", "hukou", "residence")
    for key in ("name", "id_number", "education", "offence_category", "release_date", "phone",
                "residence_address", "release_institution", "earliest_start", "max_travel_km"):
        value = form.get(key, "").strip()
        if value:
            data[key] = value
        elif not creating and key in required:
            errors[key] = [_("Missing data for required field.")]
        elif not creating and key in ("phone", "residence_address", "release_institution", "earliest_start"):
            data[key] = None
    for key in ("hukou", "residence"):
        value = form.get(key, "").strip()
        if not value:
            if not creating:
                errors[key] = [_("Missing data for required field.")]
            continue
        if candidate is not None:
            current = getattr(candidate, f"{key}_code")
            if value in (current, _place_name(current)):
                continue  # unchanged: moving house would move the file to another office
        data[key] = _place_input(value)
    data["key_subject"] = form.get("key_subject") == "y"
    data["needs_housing"] = form.get("needs_housing") == "y"
    if creating:
        if form.get("risk_grade"):
            data["risk_grade"] = form["risk_grade"]
        data["consents"] = form.getlist("consents")
    rows: dict[str, list[int]] = {"skills": [], "preferred_courses": []}
    skills = []
    for row in range(MAX_SKILL_ROWS):
        code = form.get(f"skill_code-{row}", "").strip()
        text = form.get(f"skill_text-{row}", "").strip()
        if code or text:
            skills.append({"skill_code": code or None, "free_text": text or None,
                           "level": form.get(f"skill_level-{row}", "2")})
            rows["skills"].append(row)
    data["skills"] = skills
    courses = []
    for row in range(MAX_COURSE_ROWS):
        code = form.get(f"course-{row}", "").strip()
        if code:
            courses.append(code)
            rows["preferred_courses"].append(row)
    data["preferred_courses"] = courses
    return data, rows, errors


def _candidate_form_values(candidate: Candidate) -> MultiDict:
    values = MultiDict({
        "name": candidate.name, "education": candidate.education.value, "phone": candidate.phone or "",
        "hukou": _place_name(candidate.hukou_code), "residence": _place_name(candidate.residence_code),
        "residence_address": candidate.residence_address or "",
        "release_institution": candidate.release_institution or "",
        "release_date": candidate.release_date.isoformat(),
        "earliest_start": candidate.earliest_start.isoformat() if candidate.earliest_start else "",
        "offence_category": candidate.offence_category.value, "max_travel_km": str(candidate.max_travel_km),
    })
    if candidate.key_subject:
        values["key_subject"] = "y"
    if candidate.needs_housing:
        values["needs_housing"] = "y"
    for row, skill in enumerate(candidate.skills):
        values[f"skill_code-{row}"] = skill.skill_code or ""
        values[f"skill_text-{row}"] = skill.free_text or ""
        values[f"skill_level-{row}"] = str(skill.level)
    for row, wish in enumerate(candidate.preferred_courses):
        values[f"course-{row}"] = wish.course_code
    return values


def _rows_shown(form: MultiDict, prefix: str, minimum: int, maximum: int) -> int:
    used = [int(key.rsplit("-", 1)[1]) for key, value in form.items(multi=True)
            if key.startswith(prefix) and value and key.rsplit("-", 1)[1].isdigit()]
    return min(maximum, max(minimum, (max(used) + 2) if used else minimum))


def _render_candidate_form(candidate: Candidate | None, form: MultiDict, errors: dict, status: int = 200):
    return render_template(
        "web/caseworker/candidate_form.html", candidate=candidate, form=form, errors=errors,
        courses=_course_choices(), skill_groups=_skill_choices(), levels=SKILL_LEVELS,
        skill_rows=_rows_shown(form, "skill_", MIN_SKILL_ROWS, MAX_SKILL_ROWS),
        course_rows=_rows_shown(form, "course-", MIN_COURSE_ROWS, MAX_COURSE_ROWS),
        educations=list(Education), offences=list(OffenceCategory), grades=list(RiskGrade),
        consent_kinds=GENERAL_CONSENT_KINDS), status


@bp.route("/caseworker/candidates/new", methods=["GET", "POST"])
@page(CW)
def caseworker_candidate_new():
    if request.method == "GET":
        return _render_candidate_form(None, MultiDict({"max_travel_km": "20", "risk_grade": "green"}), {})
    data, rows, errors = _form_to_candidate(request.form, None)
    try:
        loaded = CandidateCreateSchema().load(data)
    except ValidationError as exc:
        return _render_candidate_form(None, request.form, {**errors, **_field_errors(exc.messages, rows)}, 422)
    try:
        with uow.savepoint():
            candidate = candidates.create_candidate(session=db.session, actor=actor(), data=loaded)
    except DomainError as exc:
        return _render_candidate_form(None, request.form, _domain_errors(exc, rows), 422)
    flash(_("The file of %(name)s is open.", name=candidate.name), "success")
    return redirect(url_for("web.caseworker_candidate", candidate_id=candidate.id))


@bp.route("/caseworker/candidates/<id:candidate_id>/edit", methods=["GET", "POST"])
@page(CW)
def caseworker_candidate_edit(candidate_id: int):
    candidate = _candidate_or_404(candidate_id)
    if not _own(candidate):
        flash(_("This file is kept by %(office)s; your office can read it but not change it.",
                office=candidate.office.name), "error")
        return redirect(url_for("web.caseworker_candidate", candidate_id=candidate.id))
    if request.method == "GET":  # the form shows the file's sensitive fields
        candidates.record_read(session=db.session, actor=actor(), candidate_id=candidate.id)
        return _render_candidate_form(candidate, _candidate_form_values(candidate), {})
    data, rows, errors = _form_to_candidate(request.form, candidate)
    try:
        loaded = CandidateUpdateSchema(partial=True).load(data)
    except ValidationError as exc:
        errors = {**errors, **_field_errors(exc.messages, rows)}
    if errors:
        return _render_candidate_form(candidate, request.form, errors, 422)
    try:
        with uow.savepoint():
            candidates.update_candidate(session=db.session, actor=actor(), candidate_id=candidate.id, data=loaded)
    except DomainError as exc:
        return _render_candidate_form(_candidate_or_404(candidate_id), request.form, _domain_errors(exc, rows), 422)
    flash(_("The file is saved."), "success")
    return redirect(url_for("web.caseworker_candidate", candidate_id=candidate_id))


# ---- the file (一人一档) -------------------------------------------------------------------------

def _render_file(candidate: Candidate, *, forms: dict | None = None, errors: dict | None = None, status: int = 200):
    me = actor()
    day = today().isoformat()
    consents = candidates.list_consents(session=db.session, actor=me, candidate_id=candidate.id)
    in_force = {}
    for consent in consents:  # oldest first: the latest record of a kind wins
        if consent.kind != ConsentKind.DISCLOSE_IDENTITY:
            in_force[consent.kind.value] = consent.granted
    referral_rows = list(db.session.scalars(referrals.list_referrals(
        session=db.session, actor=me, filters={"candidate_id": candidate.id, "sort": "-created_at"})))
    defaults = {"visit": MultiDict({"visited_on": day, "kind": "home"}),
                "risk": MultiDict({"assessed_on": day, "grade": candidate.risk_grade.value}),
                "consent": MultiDict({"recorded_on": day, "granted": "y", "kind": "referral"}),
                "disclosure": MultiDict({"recorded_on": day, "purpose": DisclosurePurpose.INTERVIEW.value})}
    extras = followup_extras(candidate.id)  # re-offences and the placements a visit can look at
    defaults["reoffence"] = extras.pop("reoffence_defaults")
    defaults.update(forms or {})
    return render_template(
        "web/caseworker/candidate.html", c=candidate, own=_own(candidate),
        hukou=_place_name(candidate.hukou_code), residence=_place_name(candidate.residence_code),
        assessments=list(reversed(candidates.list_risk_assessments(
            session=db.session, actor=me, candidate_id=candidate.id))),
        consents=list(reversed(consents)), in_force=in_force,
        visits=candidates.list_visits(session=db.session, actor=me, candidate_id=candidate.id),
        referrals=referral_rows, courses=dict(_course_choices()), skill_names=_skill_names(),
        forms=defaults, errors=errors or {}, visit_kinds=list(VisitKind), grades=list(RiskGrade), **extras,
        leave_reasons=_reason_choices(lifecycle.END_REASONS[lifecycle.ReferralStatus.LEFT]),
        consent_kinds=GENERAL_CONSENT_KINDS, **_disclosure_context(candidate, referral_rows)), status


@bp.route("/caseworker/candidates/<id:candidate_id>")
@page(CW)
def caseworker_candidate(candidate_id: int):
    return _render_file(candidates.read_candidate(session=db.session, actor=actor(), candidate_id=candidate_id))


def _record(candidate_id: int, form_name: str, schema, to_data, service, done: str):
    """A small form on the file: validate with the API's schema, call the service, back to the file."""
    candidate = _candidate_or_404(candidate_id)
    try:
        with uow.savepoint():
            data = schema.load(to_data(request.form))
            service(session=db.session, actor=actor(), candidate_id=candidate.id, data=data)
    except ValidationError as exc:
        errors = _field_errors(exc.messages)
    except DomainError as exc:
        errors = _domain_errors(exc)
    else:
        flash(done, "success")
        return redirect(url_for("web.caseworker_candidate", candidate_id=candidate.id) + f"#{form_name}")
    return _render_file(_candidate_or_404(candidate_id), forms={form_name: request.form},
                        errors={form_name: errors}, status=422)


def _present(form: MultiDict, *keys: str) -> dict:
    return {key: form.get(key, "").strip() for key in keys if form.get(key, "").strip()}


@bp.route("/caseworker/candidates/<id:candidate_id>/visits", methods=["POST"])
@page(CW)
def caseworker_visit(candidate_id: int):
    return _record(candidate_id, "visit", VisitCreateSchema(),
                   lambda form: _present(form, "visited_on", "kind", "note", "referral_id", "employment_state",
                                         "end_code"),
                   followup_service.add_visit, _("The visit is recorded."))


@bp.route("/caseworker/candidates/<id:candidate_id>/reoffences", methods=["POST"])
@page(CW)
def caseworker_reoffence(candidate_id: int):
    return _record(candidate_id, "reoffence", ReoffenceCreateSchema(),
                   lambda form: _present(form, "recorded_on", "note"), followup_service.record_reoffence,
                   _("The re-offence is recorded."))


@bp.route("/caseworker/candidates/<id:candidate_id>/risk-assessments", methods=["POST"])
@page(CW)
def caseworker_risk(candidate_id: int):
    return _record(candidate_id, "risk", RiskAssessmentCreateSchema(),
                   lambda form: _present(form, "grade", "assessed_on", "reason"),
                   candidates.add_risk_assessment, _("The risk assessment is recorded."))


@bp.route("/caseworker/candidates/<id:candidate_id>/consents", methods=["POST"])
@page(CW)
def caseworker_consent(candidate_id: int):
    def to_data(form):
        data = _present(form, "kind", "recorded_on", "note")
        if form.get("granted") in ("y", "n"):
            data["granted"] = form["granted"] == "y"
        return data

    return _record(candidate_id, "consent", ConsentCreateSchema(), to_data, candidates.record_consent,
                   _("The consent is recorded."))


# ---- disclosure of name and phone: per base and purpose ---------------------------------------------

GENERAL_CONSENT_KINDS = [kind for kind in ConsentKind if kind != ConsentKind.DISCLOSE_IDENTITY]


def _disclosure_context(candidate: Candidate, referral_rows) -> dict:
    """The disclosures on record (latest per base and purpose) and the bases to choose from: those the
    person has referrals to first, then every certified base."""
    session = db.session
    latest = candidates.disclosures_by_candidate(session, candidate.id)
    disclosures = sorted(latest.values(), key=lambda c: (c.base.name if c.base else "", c.purpose.value))
    referred: dict[int, Company] = {}
    for referral in referral_rows:
        referred.setdefault(referral.slot.company_id, referral.slot.company)
    certified = [c for c in session.scalars(select(Company).where(certified_in_date()).order_by(Company.name))
                 if c.id not in referred]  # in force today, not merely certified once
    return {"disclosures": disclosures, "referred_bases": list(referred.values()), "certified_bases": certified,
            "purposes": list(DisclosurePurpose)}


@bp.route("/caseworker/candidates/<id:candidate_id>/disclosures", methods=["POST"])
@page(CW)
def caseworker_disclosure(candidate_id: int):
    """The person agrees that one base may learn their name and phone for one purpose."""
    def to_data(form):
        data = _present(form, "base_id", "purpose", "recorded_on", "note")
        data.update(kind=ConsentKind.DISCLOSE_IDENTITY.value, granted=True)
        return data

    return _record(candidate_id, "disclosure", ConsentCreateSchema(), to_data, candidates.record_consent,
                   _("The consent is recorded: this base may see the name and phone for this purpose."))


@bp.route("/caseworker/candidates/<id:candidate_id>/disclosures/withdraw", methods=["POST"])
@page(CW)
def caseworker_disclosure_withdraw(candidate_id: int):
    """One click: the consent for this base and purpose is withdrawn, from this moment."""
    def to_data(form):
        data = _present(form, "base_id", "purpose")
        data.update(kind=ConsentKind.DISCLOSE_IDENTITY.value, granted=False, recorded_on=today().isoformat())
        return data

    return _record(candidate_id, "disclosure", ConsentCreateSchema(), to_data, candidates.record_consent,
                   _("The consent is withdrawn: the base no longer sees the name and phone."))


@dataclasses.dataclass(frozen=True)
class _Named:
    name: str


@dataclasses.dataclass(frozen=True)
class _SlotOption:
    id: int
    title: str
    company: _Named


# ---- recommendations, referring, eligibility ----------------------------------------------------

def _live_slot_ids(candidate_id: int) -> set[int]:
    stmt = referrals.list_referrals(session=db.session, actor=actor(),
                                    filters={"candidate_id": candidate_id, "open": True})
    return {r.slot_id for r in db.session.scalars(stmt)}


@bp.route("/caseworker/candidates/<id:candidate_id>/recommendations")
@page(CW)
def caseworker_recommendations(candidate_id: int):
    candidate = _candidate_or_404(candidate_id)
    page_no = (int_in(request.args.get("page")) or 1)
    result = matching.recommend_slots(session=db.session, actor=actor(), candidate_id=candidate.id,
                                      offset=(page_no - 1) * RECOMMENDATIONS_PER_PAGE,
                                      limit=RECOMMENDATIONS_PER_PAGE)
    paging = _paging(result.total, page_no, RECOMMENDATIONS_PER_PAGE)
    return render_template(
        "web/caseworker/recommendations.html", c=candidate, result=result, paging=paging, own=_own(candidate),
        referred=_live_slot_ids(candidate.id), consented=candidates.has_consent(
            db.session, candidate.id, ConsentKind.REFERRAL), open_slots=_open_slots(),
        rank_offset=(paging["page"] - 1) * RECOMMENDATIONS_PER_PAGE)


def _open_slots(limit: int = 500):
    """The eligibility picker's options: id, title and base name only (no ORM objects to load)."""
    from matcher.bases.models import Company
    from matcher.slots.models import Slot

    stmt = list_slots(session=db.session, actor=actor(), filters={"status": "open", "sort": "title"})
    scoped = stmt.with_only_columns(Slot.id).subquery()
    rows = db.session.execute(select(Slot.id, Slot.title, Company.name).join(Company, Company.id == Slot.company_id)
                              .where(Slot.id.in_(select(scoped.c.id))).order_by(Slot.title, Slot.id).limit(limit))
    return [_SlotOption(id=i, title=t, company=_Named(n)) for i, t, n in rows]


@bp.route("/caseworker/candidates/<id:candidate_id>/refer", methods=["POST"])
@page(CW)
def caseworker_refer(candidate_id: int):
    candidate = _candidate_or_404(candidate_id)
    slot_id = int_in(request.form.get("slot_id"))
    back = url_for("web.caseworker_recommendations", candidate_id=candidate.id)
    try:
        with uow.savepoint():
            if slot_id is None:
                raise NotFound(_("No such slot."))
            slot = get_slot(session=db.session, actor=actor(), slot_id=slot_id)
            consented = candidates.has_consent(db.session, candidate.id, ConsentKind.REFERRAL)
            score, version = matching.score_pair(db.session, candidate.id, slot.id)
            referral = referrals.create_referral(session=db.session, actor=actor(), candidate_id=candidate.id,
                                                 slot_id=slot.id, send=consented, score=score, model_version=version)
    except DomainError as exc:
        message = translate(exc.message)
        if is_htmx():
            return render_template("web/caseworker/_refer_result.html", ok=False, message=message)
        flash(message, "error")
        return redirect(back)
    if consented:
        message = _("Referred to %(base)s: %(slot)s.", base=slot.company.name, slot=slot.title)
    else:
        message = _("Proposed for %(slot)s, not sent: the candidate has not consented to being referred to "
                    "bases. Record the consent on the file, then send it from the referral.", slot=slot.title)
    if is_htmx():
        return render_template("web/caseworker/_refer_result.html", ok=True, sent=consented, message=message,
                               referral=referral)
    flash(message, "success" if consented else "error")
    return redirect(back)


@bp.route("/caseworker/candidates/<id:candidate_id>/eligibility")
@page(CW)
def caseworker_eligibility(candidate_id: int):
    candidate = _candidate_or_404(candidate_id)
    raw = request.args.get("slot_id", "").strip()
    result, slot, errors = None, None, {}
    if raw:
        slot_id = int_in(raw)
        try:
            with uow.savepoint():
                if slot_id is None:
                    raise NotFound(_("No such slot."))
                slot = get_slot(session=db.session, actor=actor(), slot_id=slot_id)
                result = matching.eligibility(session=db.session, actor=actor(), candidate_id=candidate.id,
                                              slot_id=slot.id)
        except DomainError as exc:
            errors = {"slot_id": [translate(exc.message)]}
    return render_template("web/caseworker/eligibility.html", c=candidate, result=result, slot=slot,
                           slot_id=raw, errors=errors, open_slots=_open_slots()), \
        200 if not errors or is_htmx() else 422  # htmx swaps only successful answers


# ---- the referral board -------------------------------------------------------------------------

@bp.route("/caseworker/referrals")
@page(CW)
def caseworker_referrals():
    me = actor()
    live = list(db.session.scalars(referrals.list_referrals(
        session=db.session, actor=me, filters={"open": True, "sort": "updated_at"})))
    grouped: dict[str, list[Referral]] = defaultdict(list)
    for referral in live:
        grouped[referral.status.value].append(referral)
    ended = list(db.session.scalars(referrals.list_referrals(
        session=db.session, actor=me, filters={"sort": "-updated_at"})
        .where(Referral.status.in_(ENDED)).limit(PAGE_SIZE)))
    counts = Counter(r.status.value for r in live)
    return render_template("web/caseworker/referrals.html", grouped=grouped, columns=lifecycle.PATH, ended=ended,
                           counts=counts, total=len(live))


def _render_referral(referral: Referral, *, form: MultiDict | None = None, errors: dict | None = None,
                     status: int = 200):
    moves = referrals.allowed_moves(referral.status, CW) if _own(referral.candidate) else []
    ending = [move for move in moves if move in lifecycle.END_REASONS]
    codes = dict.fromkeys(code for move in ending for code in lifecycle.END_REASONS[move])
    return render_template(
        "web/caseworker/referral.html", r=referral, moves=moves, ending=ending,
        end_reasons=_reason_choices(codes),
        form=form or MultiDict(), errors=errors or {}, consented=candidates.has_consent(
            db.session, referral.candidate_id, ConsentKind.REFERRAL), own=_own(referral.candidate),
        next_milestone=lifecycle.NEXT_STAY.get(referral.status)), status


@bp.route("/caseworker/referrals/<id:referral_id>")
@page(CW)
def caseworker_referral(referral_id: int):
    return _render_referral(referrals.get_referral(session=db.session, actor=actor(), referral_id=referral_id))


@bp.route("/caseworker/referrals/<id:referral_id>/move", methods=["POST"])
@page(CW)
def caseworker_referral_move(referral_id: int):
    referral = referrals.get_referral(session=db.session, actor=actor(), referral_id=referral_id)
    try:
        with uow.savepoint():
            data = TransitionSchema().load(_present(request.form, "to", "reason_code", "shared_note", "internal_note",
                                                    "on_date"))
            moved = referrals.transition(session=db.session, actor=actor(), referral_id=referral.id, **data)
    except ValidationError as exc:
        errors = _field_errors(exc.messages)
    except DomainError as exc:
        errors = _domain_errors(exc)
    else:
        flash(_("The referral is now: %(status)s.", status=label(moved.status, "referral_status")), "success")
        return redirect(url_for("web.caseworker_referral", referral_id=referral_id))
    referral = referrals.get_referral(session=db.session, actor=actor(), referral_id=referral_id)
    return _render_referral(referral, form=request.form, errors=errors, status=422)
