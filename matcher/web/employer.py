"""The employer's pages: the base's profile, its slots, incoming referrals and suggested candidates.

Views are thin: they turn form fields into the API schemas' dicts, call one service, and render.
The form helpers at the top are shared with the administrator's pages.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import ValidationError

from matcher import disclosure, uow
from matcher.auth.models import Role
from matcher.bases.schemas import CompanyUpdateSchema
from matcher.bases.service import get_company, update_company
from matcher.candidates.service import candidate_card, referral_card
from matcher.clock import today
from matcher.errors import DomainError, NotFound
from matcher.extensions import db
from matcher.matching.service import recommend_candidates
from matcher.reference.service import list_courses, list_occupations, list_skills
from matcher.referrals import lifecycle
from matcher.referrals.schemas import TransitionSchema
from matcher.referrals.service import allowed_moves, get_referral, list_referrals, transition
from matcher.slots.models import SlotStatus
from matcher.slots.schemas import SlotCreateSchema, SlotStatusSchema, SlotUpdateSchema
from matcher.slots.service import create_slot, get_slot, list_slots, set_slot_status, update_slot
from matcher.web.base import actor, bp, page
from matcher.web.forms import error_status, form_errors, lang_code, place_input, put, text

EMPLOYER = Role.EMPLOYER
EXPIRY_WARNING_DAYS = 60
SKILL_ROWS = 4
PAGE_SIZE = 50


# ---- home and profile ----------------------------------------------------------------------------

def _certification(company) -> dict:
    status = company.effective_status()
    days_left = (company.certified_until - today()).days if company.certified_until else None
    in_force = company.can_post_and_fill()
    return {"status": status.value, "until": company.certified_until, "days_left": days_left,
            "in_force": in_force,
            "warn": not in_force or (days_left is not None and days_left <= EXPIRY_WARNING_DAYS)}


def _awaiting(session, who, limit: int = 200) -> list:
    """Referrals in a status the base answers, newest first (one query per status)."""
    waiting = [r for status in lifecycle.AWAITING_BASE for r in session.scalars(
        list_referrals(session=session, actor=who, filters={"status": status, "sort": "-updated_at"})
        .limit(limit)).unique()]
    return sorted(waiting, key=lambda r: (r.updated_at, r.id), reverse=True)[:limit]


@bp.route("/employer")
@page(EMPLOYER)
def employer_home():
    who, session = actor(), db.session
    company = get_company(session=session, actor=who, company_id=who.company_id)
    slots = session.scalars(list_slots(session=session, actor=who, filters={"sort": "-created_at"})).unique().all()
    return render_template("web/employer/home.html", company=company, cert=_certification(company),
                           slots=slots, waiting=_awaiting(session, who, limit=20))


PROFILE_FIELDS = ("contact_name", "contact_phone", "address", "description")


@bp.route("/employer/profile", methods=["GET", "POST"])
@page(EMPLOYER)
def employer_profile():
    who, session = actor(), db.session
    company = get_company(session=session, actor=who, company_id=who.company_id)
    if request.method == "GET":
        form = {name: getattr(company, name) or "" for name in PROFILE_FIELDS}
        return render_template("web/employer/profile.html", company=company, form=form, errors={})
    data = {name: text(request.form, name) for name in ("contact_name", "address", "description")}
    put(data, request.form, "contact_phone")  # a phone number cannot be blank; empty keeps the old one
    try:
        with uow.savepoint():
            data = CompanyUpdateSchema(partial=True).load(data)
            update_company(session=session, actor=who, company_id=company.id, data=data)
    except (ValidationError, DomainError) as exc:
        errors, summary = form_errors(exc)
        return render_template("web/employer/profile.html", company=company, form=request.form,
                               errors=errors, summary=summary), error_status(exc)
    flash(_("The profile is saved."), "info")
    return redirect(url_for("web.employer_home"), 303)


# ---- slots ---------------------------------------------------------------------------------------

def slot_form_data(form) -> dict:
    """The slot form as SlotCreateSchema's dict (values stay strings: the schema parses and checks them)."""
    data: dict[str, Any] = {}
    for name in ("kind", "title", "seats", "starts_on"):
        put(data, form, name)
    for name in ("description", "address"):
        put(data, form, name)
    for name in ("course_code", "occupation_code", "pay_min", "pay_max", "hours_per_week", "ends_on"):
        put(data, form, name, nullable=True)
    if text(form, "place"):
        data["place"] = place_input(text(form, "place"))
    data["required_skills"] = [{"skill_code": text(form, f"skill_{i}"), "level": text(form, f"level_{i}") or "2"}
                               for i in range(SKILL_ROWS) if text(form, f"skill_{i}")]
    data["housing_provided"] = form.get("housing_provided") in ("on", "true", "1", "y")
    data["certificate_awarded"] = form.get("certificate_awarded") in ("on", "true", "1", "y")
    return data


def slot_as_form(slot) -> dict:
    form = {name: "" if getattr(slot, name) is None else str(getattr(slot, name))
            for name in ("title", "description", "address", "course_code", "occupation_code", "seats",
                         "pay_min", "pay_max", "hours_per_week", "starts_on", "ends_on")}
    form["kind"] = slot.kind.value
    form["place"] = slot.place_code
    form["housing_provided"] = "on" if slot.housing_provided else ""
    form["certificate_awarded"] = "on" if slot.certificate_awarded else ""
    for i, skill in enumerate(slot.required_skills[:SKILL_ROWS]):
        form[f"skill_{i}"], form[f"level_{i}"] = skill.skill_code or "", str(skill.level)
    return form


def _slot_form_page(*, slot=None, form, errors=None, summary=None, status: int = 200):
    session = db.session
    return render_template("web/employer/slot_form.html", slot=slot, form=form, errors=errors or {},
                           summary=summary, courses=list_courses(session=session),
                           occupations=list_occupations(session=session), skills=list_skills(session=session),
                           skill_rows=range(SKILL_ROWS), lang=lang_code()), status


@bp.route("/employer/slots/new", methods=["GET", "POST"])
@page(EMPLOYER)
def employer_slot_new():
    if request.method == "GET":
        return _slot_form_page(form={"kind": "job", "seats": "1", "starts_on": today().isoformat()})
    try:
        with uow.savepoint():
            data = SlotCreateSchema().load(slot_form_data(request.form))
            slot = create_slot(session=db.session, actor=actor(), data=data)
    except (ValidationError, DomainError) as exc:
        errors, summary = form_errors(exc)
        return _slot_form_page(form=request.form, errors=errors, summary=summary, status=error_status(exc))
    flash(_("The slot is saved as a draft; open it when it should take referrals."), "info")
    return redirect(url_for("web.employer_slot", slot_id=slot.id), 303)


@bp.route("/employer/slots/<id:slot_id>/edit", methods=["GET", "POST"])
@page(EMPLOYER)
def employer_slot_edit(slot_id: int):
    slot = get_slot(session=db.session, actor=actor(), slot_id=slot_id)
    if request.method == "GET":
        return _slot_form_page(slot=slot, form=slot_as_form(slot))
    try:
        with uow.savepoint():
            data = SlotUpdateSchema().load(slot_form_data(request.form))
            update_slot(session=db.session, actor=actor(), slot_id=slot.id, data=data)
    except (ValidationError, DomainError) as exc:
        errors, summary = form_errors(exc)
        slot = get_slot(session=db.session, actor=actor(), slot_id=slot_id)
        return _slot_form_page(slot=slot, form=request.form, errors=errors, summary=summary,
                               status=error_status(exc))
    flash(_("The slot is saved."), "info")
    return redirect(url_for("web.employer_slot", slot_id=slot.id), 303)


def _names(session) -> dict:
    """Course, occupation and skill names in the page's language."""
    en = lang_code() == "en"

    def name(row):
        return row.name_en if en else row.name_zh

    return {"courses": {c.code: name(c) for c in list_courses(session=session)},
            "occupations": {o.code: name(o) for o in list_occupations(session=session)},
            "skills": {s.code: name(s) for s in list_skills(session=session)}}


def _slot_page(slot, *, error: str | None = None, status: int = 200):
    who, session = actor(), db.session
    referrals = session.scalars(list_referrals(session=session, actor=who, filters={"slot_id": slot.id})).unique().all()
    return render_template("web/employer/slot.html", slot=slot, referrals=referrals, error=error,
                           names=_names(session), can_open=slot.company.can_post_and_fill()), status


@bp.route("/employer/slots/<id:slot_id>")
@page(EMPLOYER)
def employer_slot(slot_id: int):
    return _slot_page(get_slot(session=db.session, actor=actor(), slot_id=slot_id))


@bp.route("/employer/slots/<id:slot_id>/status", methods=["POST"])
@page(EMPLOYER)
def employer_slot_status(slot_id: int):
    who = actor()
    try:
        with uow.savepoint():
            data = SlotStatusSchema().load({"status": text(request.form, "status")})
            slot = set_slot_status(session=db.session, actor=who, slot_id=slot_id, status=data["status"])
    except (ValidationError, DomainError) as exc:
        if isinstance(exc, NotFound):
            raise
        _errors, summary = form_errors(exc)
        slot = get_slot(session=db.session, actor=who, slot_id=slot_id)
        return _slot_page(slot, error=summary, status=error_status(exc))
    flash(_("The slot is open for referrals.") if slot.status == SlotStatus.OPEN else _("The slot is closed."),
          "info")
    return redirect(url_for("web.employer_slot", slot_id=slot.id), 303)


@bp.route("/employer/slots/<id:slot_id>/candidates")
@page(EMPLOYER)
def employer_slot_candidates(slot_id: int):
    who, session = actor(), db.session
    slot = get_slot(session=session, actor=who, slot_id=slot_id)
    recommendations = recommend_candidates(session=session, actor=who, slot_id=slot.id, limit=20)
    items = [{"card": candidate_card(session, who, item.candidate), "score": item.score,
              "sentence": item.sentence_en if lang_code() == "en" else item.sentence_zh}
             for item in recommendations.items]
    return render_template("web/employer/candidates.html", slot=slot, items=items, page=recommendations,
                           names=_names(session))


# ---- referrals -----------------------------------------------------------------------------------

@bp.route("/employer/referrals")
@page(EMPLOYER)
def employer_referrals():
    who, session = actor(), db.session
    show = request.args.get("show", "waiting")
    page_no = max(1, request.args.get("page", 1, type=int) or 1)
    more = False
    if show == "all":
        stmt = list_referrals(session=session, actor=who, filters={})
        referrals = session.scalars(stmt.limit(PAGE_SIZE + 1).offset((page_no - 1) * PAGE_SIZE)).unique().all()
        more, referrals = len(referrals) > PAGE_SIZE, referrals[:PAGE_SIZE]
    else:
        show, page_no, referrals = "waiting", 1, _awaiting(session, who)
    return render_template("web/employer/referrals.html", referrals=referrals, show=show, page_no=page_no,
                           more=more)


def _referral_page(referral, *, errors=None, summary=None, failed_move=None, form=None, status: int = 200):
    who, session = actor(), db.session
    moves = allowed_moves(referral.status, who.role)
    # The page shows the referral as the disclosure model lets this base see it (no office notes, no score).
    shown = disclosure.view("ReferralRead", referral, nested={"events": "ReferralEvent", "slot": "SlotRef"})
    return render_template("web/employer/referral.html", referral=shown,
                           card=referral_card(session, who, referral), names=_names(session),
                           moves=moves, end_reasons=lifecycle.END_REASONS, dated=lifecycle.DATED_MOVES,
                           errors=errors or {},
                           summary=summary, failed_move=failed_move, form=form or {},
                           today=today()), status


@bp.route("/employer/referrals/<id:referral_id>")
@page(EMPLOYER)
def employer_referral(referral_id: int):
    return _referral_page(get_referral(session=db.session, actor=actor(), referral_id=referral_id))


@bp.route("/employer/referrals/<id:referral_id>/move", methods=["POST"])
@page(EMPLOYER)
def employer_referral_move(referral_id: int):
    who, session = actor(), db.session
    data: dict[str, Any] = {}
    for name in ("to", "on_date", "reason_code", "shared_note"):
        put(data, request.form, name)
    try:
        with uow.savepoint():
            data = TransitionSchema().load(data)
            referral = transition(session=session, actor=who, referral_id=referral_id, **data)
    except (ValidationError, DomainError) as exc:
        if isinstance(exc, NotFound):
            raise
        errors, summary = form_errors(exc)
        referral = get_referral(session=session, actor=who, referral_id=referral_id)
        return _referral_page(referral, errors=errors, summary=summary, failed_move=text(request.form, "to"),
                              form=request.form, status=error_status(exc))
    flash(_("The referral is updated."), "info")
    return redirect(url_for("web.employer_referral", referral_id=referral.id), 303)
