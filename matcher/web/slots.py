"""Slot pages (employers): posting a slot, editing it, its page with its referrals, opening and closing it.

Thin views: the form becomes the API schemas' dict, one service call, render; a refused form is shown again with
what was typed.
"""

from __future__ import annotations

import re
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from matcher.auth.models import Role
from matcher.clock import today
from matcher.extensions import db
from matcher.reference.service import (
    common_occupations,
    get_occupation,
    list_courses,
    list_skills,
    occupation_suggestions,
)
from matcher.referrals.service import find_referrals, waiting_days
from matcher.skills import standard_grade_label
from matcher.slots.models import SlotStatus
from matcher.slots.schemas import SlotCreateSchema, SlotStatusSchema, SlotUpdateSchema
from matcher.slots.service import create_slot, get_slot, list_slots, set_slot_status, update_slot
from matcher.web.base import actor, bp, page
from matcher.web.forms import fields, int_in, lang_code, place_input, run_form, text
from matcher.web.labels import reference_names

EMPLOYER = Role.EMPLOYER
SKILL_ROWS = 4
LIST_PAGE_SIZE = 20
# The employer's slot list: which slots, and the orders it offers (a phone hides the table's headers, so the
# order is also a select next to the search).
SLOT_SHOWS = ("live", "closed", "all")
SLOT_SORTS = ("-created_at", "created_at", "starts_on", "-starts_on", "title", "-title")
TRUE = ("on", "true", "1", "y")


def slot_form_data(form) -> dict:
    """The slot form as SlotCreateSchema's dict (values stay strings: the schema parses and checks them)."""
    nullable = ("course_code", "occupation_code", "pay_min", "pay_max", "hours_per_week", "ends_on")
    data: dict[str, Any] = fields(form, "kind", "title", "seats", "starts_on", "description", "address", *nullable,
                                  nullable=nullable)
    if text(form, "place"):
        data["place"] = place_input(text(form, "place"))
    data["required_skills"] = [{"skill_code": text(form, f"skill_{i}"), "level": text(form, f"level_{i}") or "2"}
                               for i in range(SKILL_ROWS) if text(form, f"skill_{i}")]
    data["housing_provided"] = form.get("housing_provided") in TRUE
    data["certificate_awarded"] = form.get("certificate_awarded") in TRUE
    # Further start dates (a recurring course), as the slots file writes them: `2027-03-01; 2027-09-01`.
    data["intakes"] = [day for day in re.split(r"[;；,，\s]+", text(form, "intakes") or "") if day]
    return data


def slot_as_form(slot) -> dict:
    form = {name: "" if getattr(slot, name) is None else str(getattr(slot, name))
            for name in ("title", "description", "address", "course_code", "occupation_code", "seats",
                         "pay_min", "pay_max", "hours_per_week", "starts_on", "ends_on")}
    form["kind"] = slot.kind.value
    form["place"] = slot.place_code
    form["intakes"] = "; ".join(start.isoformat() for start, _end in slot.runs()[1:])
    form["housing_provided"] = "on" if slot.housing_provided else ""
    form["certificate_awarded"] = "on" if slot.certificate_awarded else ""
    for i, skill in enumerate(slot.required_skills[:SKILL_ROWS]):
        form[f"skill_{i}"], form[f"level_{i}"] = skill.skill_code or "", str(skill.level)
    return form


def _occupation_choices(form) -> dict:
    """The occupation select: the codes suggested from the typed title first (the person picks one: nothing is
    chosen for them), the common ones, and the slot's own code wherever it is in the classification."""
    session = db.session
    suggested = occupation_suggestions(session=session, title=text(form, "title"))
    current = get_occupation(session=session, code=text(form, "occupation_code") or None)
    common = [o for o in common_occupations(session=session) if o.code not in {s["code"] for s in suggested}]
    if current is not None and current.code not in {o.code for o in common} | {s["code"] for s in suggested}:
        common.insert(0, current)
    return {"occupation_suggestions": suggested, "occupations": common}


def _slot_form_page(*, slot=None, form, errors=None, summary=None, status: int = 200):
    session = db.session
    return render_template("web/employer/slot_form.html", slot=slot, form=form, errors=errors or {},
                           summary=summary, courses=list_courses(session=session), skills=list_skills(session=session),
                           skill_rows=range(SKILL_ROWS), lang=lang_code(), grade_label=standard_grade_label,
                           **_occupation_choices(form)), status


def _suggesting() -> bool:
    """The form's 按标题推荐 button: show the occupations suggested for the typed title, save nothing."""
    return request.form.get("suggest_occupation") == "1"


def _publishing() -> bool:
    """Which of the form's two buttons was pressed: 发布 (save and open for referrals) or 保存草稿."""
    return request.form.get("publish") == "1"


def _saved(slot, publish: bool):
    """After saving: publishing opens the slot in the same unit of work, so a refused opening (a base not in
    force) saves nothing and the form comes back with what was typed."""
    if publish and slot.status != SlotStatus.OPEN:
        return set_slot_status(session=db.session, actor=actor(), slot_id=slot.id, status=SlotStatus.OPEN.value)
    return slot


def _saved_message(slot) -> str:
    if slot.status == SlotStatus.OPEN:
        return _("The slot is published: judicial offices can refer people to it now.")
    if slot.status == SlotStatus.DRAFT:
        return _("The slot is saved as a draft; nobody sees it until you publish it.")
    return _("The slot is saved.")


@bp.route("/employer/slots/new", methods=["GET", "POST"])
@page(EMPLOYER)
def employer_slot_new():
    if request.method == "GET":
        return _slot_form_page(form={"kind": "job", "seats": "1", "starts_on": today().isoformat()})
    if _suggesting():
        return _slot_form_page(form=request.form)
    publish = _publishing()
    outcome = run_form(lambda data: _saved(create_slot(session=db.session, actor=actor(), data=data), publish),
                       slot_form_data(request.form), schema=SlotCreateSchema())
    if not outcome.ok:
        return _slot_form_page(form=request.form, errors=outcome.errors, summary=outcome.summary,
                               status=outcome.status)
    flash(_saved_message(outcome.value), "info")
    return redirect(url_for("web.employer_slot", slot_id=outcome.value.id), 303)


@bp.route("/employer/slots")
@page(EMPLOYER)
def employer_slots():
    """The base's slots: drafts and open ones by default, closed ones on their own (paged, searchable)."""
    show = request.args.get("show", "live")
    show = show if show in SLOT_SHOWS else "live"
    sort = request.args.get("sort", "")
    sort = sort if sort in SLOT_SORTS else SLOT_SORTS[0]
    q = text(request.args, "q")[:50]
    filters: dict[str, Any] = {"sort": sort, "q": q or None}
    if show == "live":
        filters["live"] = True
    elif show == "closed":
        filters["status"] = SlotStatus.CLOSED
    paging = db.paginate(list_slots(session=db.session, actor=actor(), filters=filters),
                         page=int_in(request.args.get("page"), high=10**6) or 1, per_page=LIST_PAGE_SIZE,
                         error_out=False)
    return render_template("web/employer/slots.html", slots=paging.items, paging=paging, show=show, shows=SLOT_SHOWS,
                           sort=sort, sorts=SLOT_SORTS, q=q)


@bp.route("/employer/slots/<id:slot_id>/edit", methods=["GET", "POST"])
@page(EMPLOYER)
def employer_slot_edit(slot_id: int):
    slot = get_slot(session=db.session, actor=actor(), slot_id=slot_id)
    if request.method == "GET":
        return _slot_form_page(slot=slot, form=slot_as_form(slot))
    if _suggesting():
        return _slot_form_page(slot=slot, form=request.form)
    publish = _publishing()
    outcome = run_form(lambda data: _saved(update_slot(session=db.session, actor=actor(), slot_id=slot.id,
                                                       data=data), publish),
                       slot_form_data(request.form), schema=SlotUpdateSchema())
    if not outcome.ok:
        slot = get_slot(session=db.session, actor=actor(), slot_id=slot_id)
        return _slot_form_page(slot=slot, form=request.form, errors=outcome.errors, summary=outcome.summary,
                               status=outcome.status)
    flash(_saved_message(outcome.value), "info")
    return redirect(url_for("web.employer_slot", slot_id=slot_id), 303)


def _slot_page(slot, *, error: str | None = None, status: int = 200):
    referrals = find_referrals(session=db.session, actor=actor(), filters={"slot_id": slot.id})
    return render_template("web/employer/slot.html", slot=slot, referrals=referrals, error=error,
                           days=waiting_days(session=db.session, referrals=referrals),
                           names=reference_names(), can_open=slot.company.can_post_and_fill()), status


@bp.route("/employer/slots/<id:slot_id>")
@page(EMPLOYER)
def employer_slot(slot_id: int):
    return _slot_page(get_slot(session=db.session, actor=actor(), slot_id=slot_id))


@bp.route("/employer/slots/<id:slot_id>/status", methods=["POST"])
@page(EMPLOYER)
def employer_slot_status(slot_id: int):
    who = actor()
    outcome = run_form(lambda data: set_slot_status(session=db.session, actor=who, slot_id=slot_id,
                                                    status=data["status"]),
                       {"status": text(request.form, "status")}, schema=SlotStatusSchema())
    if not outcome.ok:
        return _slot_page(get_slot(session=db.session, actor=who, slot_id=slot_id), error=outcome.summary,
                          status=outcome.status)
    flash(_("The slot is open for referrals.") if outcome.value.status == SlotStatus.OPEN else
          _("The slot is closed."), "info")
    return redirect(url_for("web.employer_slot", slot_id=slot_id), 303)
