"""The candidate file (一人一档) for caseworkers: the list, intake and editing, the file with its history, and the
small forms on it (visits, risk assessments, consents, disclosures of name and phone, re-offences).

Views stay thin: every read and write goes through the services (which enforce scope: a file out of the
caseworker's scope is the not-found page), and form input is validated by the API's own schemas.
Nothing here logs: these pages carry the most sensitive personal data there is.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import ValidationError
from werkzeug.datastructures import MultiDict

from matcher import policy
from matcher.auth.models import Role
from matcher.bases.models import Company
from matcher.bases.service import certified_bases
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
    IdNumberLookupSchema,
    RiskAssessmentCreateSchema,
    VisitCreateSchema,
    VisitUpdateSchema,
)
from matcher.clock import today
from matcher.errors import NotFound
from matcher.extensions import db
from matcher.followup import service as followup_service
from matcher.followup.schemas import ReoffenceCreateSchema
from matcher.interviews.service import candidate_interviews
from matcher.places.service import get_place
from matcher.referrals import lifecycle
from matcher.referrals.service import find_referrals
from matcher.web.base import actor, bp, page
from matcher.web.followup import file_extras as followup_extras
from matcher.web.forms import fields, form_errors, int_in, place_input, run_form
from matcher.web.labels import course_choices, reason_choices, skill_choices

CW = Role.CASEWORKER
PAGE_SIZE = 50
SKILL_LEVELS = (1, 2, 3, 4)
MIN_SKILL_ROWS, MAX_SKILL_ROWS = 3, 30
MIN_COURSE_ROWS, MAX_COURSE_ROWS = 3, 5
GENERAL_CONSENT_KINDS = [kind for kind in ConsentKind if kind != ConsentKind.DISCLOSE_IDENTITY]


def _place_name(code: str | None) -> str:
    if not code:
        return "—"
    try:
        return get_place(session=db.session, code=code).full_name
    except NotFound:
        return code


def own(candidate: Candidate) -> bool:
    """The residence office keeps the file and does the daily work; the household office only reads."""
    return policy.keeps_file(actor(), candidate)


def candidate_or_404(candidate_id: int) -> Candidate:
    return candidates.get_candidate(session=db.session, actor=actor(), candidate_id=candidate_id)


# ---- the candidate list -------------------------------------------------------------------------

FILTER_FIELDS = ("status", "risk_grade", "key_subject", "course", "q", "sort")


@bp.route("/caseworker/candidates")
@page(CW)
def caseworker_candidates():
    return _render_list()


def _render_list(*, id_errors: dict | None = None, transfer_form: dict | None = None, status: int = 200,
                 id_form: dict | None = None):
    raw = {key: request.args.get(key, "").strip() for key in FILTER_FIELDS}
    errors: dict[str, list[str]] = {}
    try:
        filters = CandidateListQuerySchema().load({k: v for k, v in raw.items() if v})
    except ValidationError as exc:
        errors = form_errors(exc)[0]
        filters = CandidateListQuerySchema().load(
            {k: v for k, v in raw.items() if v and k not in exc.messages})
    stmt = candidates.list_candidates(session=db.session, actor=actor(), filters=filters)
    paging = db.paginate(stmt, page=int_in(request.args.get("page")) or 1, per_page=PAGE_SIZE, error_out=False)
    candidates.record_read(session=db.session, actor=actor(), fields=("risk_grade",))  # the rows show risk grades
    query = {k: v for k, v in raw.items() if v}
    return render_template("web/caseworker/candidates.html", rows=paging.items, paging=paging, filters=raw,
                           query=query, errors=errors, courses=course_choices(),
                           statuses=list(CandidateStatus), grades=list(RiskGrade), id_errors=id_errors or {},
                           id_form=id_form or {},
                           transfer_form=transfer_form), 422 if errors else status


def _transfer_form(outcome, number: str) -> dict | None:
    """The button that asks for the transfer of a file registered elsewhere: it posts the number typed again."""
    if "transfer_request" not in outcome.links:
        return None
    return {"id_number": number}


@bp.route("/caseworker/candidates/transfer-requests", methods=["POST"])
@page(CW)
def caseworker_transfer_request():
    """Ask the bureau to transfer the file kept elsewhere for the ID number typed (at intake or in the lookup)."""
    outcome = run_form(lambda loaded: candidates.request_transfer(session=db.session, actor=actor(),
                                                                  number=loaded["id_number"]),
                       {"id_number": request.form.get("id_number", "")}, schema=IdNumberLookupSchema())
    if outcome.ok:
        flash(_("The bureau is asked to transfer the file to your office. You will see it in your list once it is "
                "moved."), "success")
    else:
        flash(" ".join(message for messages in outcome.errors_or_summary().values() for message in messages),
              "error")
    return redirect(url_for("web.caseworker_candidates"))


@bp.route("/caseworker/candidates/lookup", methods=["POST"])
@page(CW)
def caseworker_candidate_lookup():
    """Find a file by its full ID number: posted (never in an address or a log), compared through its keyed hash.
    A file in scope opens; one kept elsewhere is told as registered elsewhere, with the way to ask for a transfer."""
    number = request.form.get("id_number", "")
    outcome = run_form(lambda loaded: candidates.lookup_id_number(session=db.session, actor=actor(),
                                                                  number=loaded["id_number"]),
                       {"id_number": number}, schema=IdNumberLookupSchema())
    if outcome.ok and outcome.value is not None:
        return redirect(url_for("web.caseworker_candidate", candidate_id=outcome.value.id))
    if outcome.ok:
        return _render_list(id_errors={"id_number": [_("No file has this ID number.")]}, status=404,
                            id_form={"id_number": number})
    return _render_list(id_errors=outcome.errors_or_summary(), status=outcome.status, id_form={"id_number": number},
                        transfer_form=_transfer_form(outcome, number))


# ---- intake and edit ----------------------------------------------------------------------------

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
        data[key] = place_input(value)
    reference = form.get("external_id", "").strip()
    if reference != ((candidate.external_id or "") if candidate is not None else ""):  # only a change is written
        data["external_id"] = reference or None
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
        "external_id": candidate.external_id or "",
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


def _render_candidate_form(candidate: Candidate | None, form: MultiDict, errors: dict, status: int = 200,
                           transfer_form: dict | None = None):
    return render_template(
        "web/caseworker/candidate_form.html", candidate=candidate, form=form, errors=errors,
        transfer_form=transfer_form,
        courses=course_choices(), skill_groups=skill_choices(), levels=SKILL_LEVELS,
        skill_rows=_rows_shown(form, "skill_", MIN_SKILL_ROWS, MAX_SKILL_ROWS),
        course_rows=_rows_shown(form, "course-", MIN_COURSE_ROWS, MAX_COURSE_ROWS),
        educations=list(Education), offences=list(OffenceCategory), grades=list(RiskGrade),
        consent_kinds=GENERAL_CONSENT_KINDS), status


def _problems_of(candidate: Candidate | None):
    """The service's checks for the schema, so that the form shows every wrong field at once (places, skills and
    courses included), not one round at a time."""
    return lambda data: candidates.candidate_problems(session=db.session, actor=actor(), data=data,
                                                      candidate=candidate)


@bp.route("/caseworker/candidates/new", methods=["GET", "POST"])
@page(CW)
def caseworker_candidate_new():
    if request.method == "GET":
        return _render_candidate_form(None, MultiDict({"max_travel_km": "20", "risk_grade": "green"}), {})
    data, rows, _errors = _form_to_candidate(request.form, None)
    outcome = run_form(lambda loaded: candidates.create_candidate(session=db.session, actor=actor(), data=loaded),
                       data, schema=CandidateCreateSchema(check=_problems_of(None)), rows=rows)
    if not outcome.ok:
        return _render_candidate_form(None, request.form, outcome.errors_or_summary(), outcome.status,
                                      transfer_form=_transfer_form(outcome, request.form.get("id_number", "")))
    flash(_("The file of %(name)s is open.", name=outcome.value.name), "success")
    return redirect(url_for("web.caseworker_candidate", candidate_id=outcome.value.id))


@bp.route("/caseworker/candidates/<id:candidate_id>/edit", methods=["GET", "POST"])
@page(CW)
def caseworker_candidate_edit(candidate_id: int):
    candidate = candidate_or_404(candidate_id)
    if not own(candidate):
        flash(_("This file is kept by %(office)s; your office can read it but not change it.",
                office=candidate.office.name), "error")
        return redirect(url_for("web.caseworker_candidate", candidate_id=candidate.id))
    if request.method == "GET":  # the form shows the file's sensitive fields
        candidates.record_read(session=db.session, actor=actor(), candidate_id=candidate.id)
        return _render_candidate_form(candidate, _candidate_form_values(candidate), {})
    data, rows, missing = _form_to_candidate(request.form, candidate)

    def update(loaded: dict):
        if missing:  # required fields emptied: the partial schema cannot see them
            raise ValidationError(missing)
        return candidates.update_candidate(session=db.session, actor=actor(), candidate_id=candidate.id, data=loaded)

    outcome = run_form(update, data, schema=CandidateUpdateSchema(partial=True, check=_problems_of(candidate)),
                       rows=rows)
    if not outcome.ok:
        return _render_candidate_form(candidate_or_404(candidate_id), request.form,
                                      {**missing, **outcome.errors_or_summary()}, outcome.status)
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
    referral_rows = find_referrals(session=db.session, actor=me,
                                   filters={"candidate_id": candidate.id, "sort": "-created_at"})
    defaults = {"visit": MultiDict({"visited_on": day, "kind": "home"}),
                "risk": MultiDict({"assessed_on": day, "grade": candidate.risk_grade.value}),
                "consent": MultiDict({"recorded_on": day, "granted": "y", "kind": "referral"}),
                "disclosure": MultiDict({"recorded_on": day, "purpose": DisclosurePurpose.INTERVIEW.value})}
    extras = followup_extras(candidate.id)  # re-offences and the placements a visit can look at
    defaults["reoffence"] = extras.pop("reoffence_defaults")
    defaults.update(forms or {})
    return render_template(
        "web/caseworker/candidate.html", c=candidate, own=own(candidate),
        hukou=_place_name(candidate.hukou_code), residence=_place_name(candidate.residence_code),
        assessments=list(reversed(candidates.list_risk_assessments(
            session=db.session, actor=me, candidate_id=candidate.id))),
        consents=list(reversed(consents)), in_force=in_force,
        visits=candidates.list_visits(session=db.session, actor=me, candidate_id=candidate.id),
        referrals=referral_rows, courses=dict(course_choices()),
        interviews=candidate_interviews(session=db.session, actor=me, candidate_id=candidate.id),
        skill_names={code: name for _group, items in skill_choices() for code, name in items},
        certificate_text=candidates.certificate_text,
        forms=defaults, errors=errors or {}, visit_kinds=list(VisitKind), grades=list(RiskGrade), **extras,
        leave_reasons=reason_choices(lifecycle.END_REASONS[lifecycle.ReferralStatus.LEFT]),
        consent_kinds=GENERAL_CONSENT_KINDS, **_disclosure_context(candidate, referral_rows)), status


@bp.route("/caseworker/candidates/<id:candidate_id>")
@page(CW)
def caseworker_candidate(candidate_id: int):
    return _render_file(candidates.read_candidate(session=db.session, actor=actor(), candidate_id=candidate_id))


def _record(candidate_id: int, form_name: str, schema, data: dict, service, done: str):
    """A small form on the file: validate with the API's schema, call the service, back to the file (or the file
    again with the form's errors and what was typed)."""
    candidate = candidate_or_404(candidate_id)
    outcome = run_form(lambda loaded: service(session=db.session, actor=actor(), candidate_id=candidate.id,
                                              data=loaded), data, schema=schema)
    if outcome.ok:
        flash(done, "success")
        return redirect(url_for("web.caseworker_candidate", candidate_id=candidate.id) + f"#{form_name}")
    return _render_file(candidate_or_404(candidate_id), forms={form_name: request.form},
                        errors={form_name: outcome.errors_or_summary()}, status=outcome.status)


@bp.route("/caseworker/candidates/<id:candidate_id>/visits", methods=["POST"])
@page(CW)
def caseworker_visit(candidate_id: int):
    return _record(candidate_id, "visit", VisitCreateSchema(),
                   fields(request.form, "visited_on", "kind", "note", "referral_id", "employment_state", "end_code"),
                   followup_service.add_visit, _("The visit is recorded."))


@bp.route("/caseworker/candidates/<id:candidate_id>/visits/<id:visit_id>/edit", methods=["GET", "POST"])
@page(CW)
def caseworker_visit_edit(candidate_id: int, visit_id: int):
    """Correct a visit's date, kind or note (the office that keeps the file, while it is open; audited)."""
    candidate = candidate_or_404(candidate_id)
    if not own(candidate):
        flash(_("This file is kept by %(office)s; your office can read it but not change it.",
                office=candidate.office.name), "error")
        return redirect(url_for("web.caseworker_candidate", candidate_id=candidate.id))
    visit = followup_service.get_visit(session=db.session, actor=actor(), candidate_id=candidate.id,
                                       visit_id=visit_id)
    if request.method == "GET":
        form = MultiDict({"visited_on": visit.visited_on.isoformat(), "kind": visit.kind.value,
                          "note": visit.note or ""})
        return _render_visit_form(candidate, visit, form, {})
    outcome = run_form(lambda loaded: followup_service.correct_visit(
        session=db.session, actor=actor(), candidate_id=candidate.id, visit_id=visit_id, data=loaded),
        fields(request.form, "visited_on", "kind", "note", nullable=("note",)), schema=VisitUpdateSchema())
    if outcome.ok:
        flash(_("The visit is corrected."), "success")
        return redirect(url_for("web.caseworker_candidate", candidate_id=candidate.id) + "#visit")
    return _render_visit_form(candidate_or_404(candidate_id), visit, request.form, outcome.errors_or_summary(),
                              outcome.status)


def _render_visit_form(candidate: Candidate, visit, form, errors: dict, status: int = 200):
    return render_template("web/followup/visit_form.html", c=candidate, visit=visit, form=form, errors=errors,
                           visit_kinds=list(VisitKind)), status


@bp.route("/caseworker/candidates/<id:candidate_id>/reoffences", methods=["POST"])
@page(CW)
def caseworker_reoffence(candidate_id: int):
    return _record(candidate_id, "reoffence", ReoffenceCreateSchema(), fields(request.form, "recorded_on", "note"),
                   followup_service.record_reoffence, _("The re-offence is recorded."))


@bp.route("/caseworker/candidates/<id:candidate_id>/risk-assessments", methods=["POST"])
@page(CW)
def caseworker_risk(candidate_id: int):
    return _record(candidate_id, "risk", RiskAssessmentCreateSchema(),
                   fields(request.form, "grade", "assessed_on", "reason"),
                   candidates.add_risk_assessment, _("The risk assessment is recorded."))


@bp.route("/caseworker/candidates/<id:candidate_id>/consents", methods=["POST"])
@page(CW)
def caseworker_consent(candidate_id: int):
    data = fields(request.form, "kind", "recorded_on", "note")
    if request.form.get("granted") in ("y", "n"):
        data["granted"] = request.form["granted"] == "y"
    return _record(candidate_id, "consent", ConsentCreateSchema(), data, candidates.record_consent,
                   _("The consent is recorded."))


# ---- disclosure of name and phone: per base and purpose ---------------------------------------------

def _disclosure_context(candidate: Candidate, referral_rows) -> dict:
    """The disclosures on record (latest per base and purpose) and the bases to choose from: those the person has
    referrals to first, then every base certified today by the bases service's rule (its status and the
    certification's end date: a base whose certification has run out is not offered)."""
    latest = candidates.disclosures_by_candidate(db.session, candidate.id)
    disclosures = sorted(latest.values(), key=lambda c: (c.base.name if c.base else "", c.purpose.value))
    referred: dict[int, Company] = {}
    for referral in referral_rows:
        referred.setdefault(referral.slot.company_id, referral.slot.company)
    certified = [c for c in certified_bases(session=db.session, actor=actor()) if c.id not in referred]
    return {"disclosures": disclosures, "referred_bases": list(referred.values()), "certified_bases": certified,
            "purposes": list(DisclosurePurpose)}


@bp.route("/caseworker/candidates/<id:candidate_id>/disclosures", methods=["POST"])
@page(CW)
def caseworker_disclosure(candidate_id: int):
    """The person agrees that one base may learn their name and phone for one purpose."""
    data = fields(request.form, "base_id", "purpose", "recorded_on", "note")
    data.update(kind=ConsentKind.DISCLOSE_IDENTITY.value, granted=True)
    return _record(candidate_id, "disclosure", ConsentCreateSchema(), data, candidates.record_consent,
                   _("The consent is recorded: this base may see the name and phone for this purpose."))


@bp.route("/caseworker/candidates/<id:candidate_id>/disclosures/withdraw", methods=["POST"])
@page(CW)
def caseworker_disclosure_withdraw(candidate_id: int):
    """One click: the consent for this base and purpose is withdrawn, from this moment."""
    data = fields(request.form, "base_id", "purpose")
    data.update(kind=ConsentKind.DISCLOSE_IDENTITY.value, granted=False, recorded_on=today().isoformat())
    return _record(candidate_id, "disclosure", ConsentCreateSchema(), data, candidates.record_consent,
                   _("The consent is withdrawn: the base no longer sees the name and phone."))
