"""Job-fair setup pages: the organiser's fairs, booths, invitations, interview plan, print-outs and the Excel
download; and the caseworker's page that answers the invitations of their candidates.

Thin views over matcher.fairs.service (the day itself and the report are in web/fairday.py). Form input is
checked here only as far as the service does not (ranges the database would refuse); every domain error is
shown next to its field or at the top of the form, in the page's language.
"""

from __future__ import annotations

import io
import re
from collections import Counter, defaultdict

from flask import flash, redirect, render_template, request, send_file, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from marshmallow import Schema, ValidationError, fields, validate

from matcher.auth.models import Role
from matcher.candidates.models import ConsentKind, DisclosurePurpose
from matcher.candidates.service import has_consent
from matcher.clock import today
from matcher.errors import NotFound
from matcher.extensions import db
from matcher.fairs import queries as fair_queries
from matcher.fairs import service as fairs
from matcher.fairs.models import FairStatus, InvitationStatus
from matcher.offices.service import find_offices
from matcher.policy import disclosures_in_force
from matcher.reference.service import list_courses
from matcher.reports.service import organiser_overview
from matcher.slots.service import find_slots
from matcher.web.base import actor, bp, page
from matcher.web.forms import int_in, lang_code, run_form, text

RUNNING = (Role.ORGANISER, Role.ADMINISTRATOR)
CW = Role.CASEWORKER
PAGE_SIZE = 100
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
N_ = str  # marks a msgid for extraction (keyword N_); translated when shown

# ---- form parsing -------------------------------------------------------------------------------

class FairForm(Schema):
    """The fair form's fields, with the ranges the database keeps (the service checks the rest)."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    held_on = fields.Date(required=True)
    venue = fields.String(required=True, validate=validate.Length(min=1, max=200))
    starts_at = fields.Time(required=True)
    block_minutes = fields.Integer(required=True, validate=validate.Range(min=5, max=240))
    n_blocks = fields.Integer(required=True, validate=validate.Range(min=1, max=48))
    max_interviews = fields.Integer(required=True, validate=validate.Range(min=1, max=10))
    key_subject_weight = fields.Float(required=True, validate=validate.Range(min=0, max=2))
    waiting_weight_per_year = fields.Float(required=True, validate=validate.Range(min=0, max=2))
    preferred_courses_only = fields.Boolean(required=True)


FAIR_FIELDS = ("name", "held_on", "venue", "starts_at", "block_minutes", "n_blocks", "max_interviews",
               "key_subject_weight", "waiting_weight_per_year")


def _fair_form_data(form) -> dict:
    data = {name: text(form, name) for name in FAIR_FIELDS if text(form, name)}
    data["preferred_courses_only"] = form.get("preferred_courses_only") in ("on", "y", "1", "true")
    return data


def _fair_as_form(fair) -> dict:
    form = {name: "" if getattr(fair, name) is None else str(getattr(fair, name)) for name in FAIR_FIELDS}
    form["starts_at"] = fair.starts_at.strftime("%H:%M")
    form["preferred_courses_only"] = "y" if fair.preferred_courses_only else ""
    return form


def _ints(values) -> list[int]:
    return [n for n in (int_in(v) for v in values) if n is not None]


def _booth_form_data(form, *, adding: bool) -> tuple[dict, dict[str, list[str]]]:
    """The booth form as the service's dict, and the errors the service would not catch (ranges)."""
    data: dict = {"slot_ids": _ints(form.getlist("slot_ids"))}
    errors: dict[str, list[str]] = {}
    capacity = int_in(form.get("interviews_per_block"), low=0 if not adding else 1, high=20)
    if capacity is None:
        errors["interviews_per_block"] = [
            _("Enter a whole number from %(low)s to %(high)s.", low=0 if not adding else 1, high=20)]
    else:
        data["interviews_per_block"] = capacity
    label = text(form, "label")
    if len(label) > 12:
        errors["label"] = [_("At most %(n)s characters.", n=12)]
    elif label or not adding:
        if not label:
            errors["label"] = [_("Enter the booth's number.")]
        data["label"] = label
    if adding:
        company_id = int_in(form.get("company_id"), low=1, high=2**31 - 1)
        data["company_id"] = company_id or 0
    return data, errors


PUBLIC_ID_SPLIT = re.compile(r"[\s,，;；、]+")


def _public_ids(raw: str) -> list[str]:
    return [p for p in PUBLIC_ID_SPLIT.split(raw.strip().upper()) if p]


# ---- shared bits ----------------------------------------------------------------------------------

def _fair(fair_id: int):
    return fairs.get_fair(session=db.session, actor=actor(), fair_id=fair_id)


def _run(fair_id: int):
    """The fair as its organisers run it (404 for fairs outside the area; caseworkers never get here)."""
    fair = _fair(fair_id)
    return fair, fairs.fair_overview(session=db.session, actor=actor(), fair_id=fair.id)


def _course_names() -> dict[str, str]:
    en = lang_code() == "en"
    return {c.code: c.name_en if en else c.name_zh for c in list_courses(session=db.session)}


# ---- the list of fairs and a new one -------------------------------------------------------------

@bp.route("/organiser/fairs")
@page(*RUNNING)
def organiser_fairs():
    rows = fair_queries.find_fairs(session=db.session, actor=actor())
    day = today()
    upcoming = sorted((f for f in rows if f.held_on >= day and f.status == FairStatus.PREPARING),
                      key=lambda f: (f.held_on, f.id))
    past = [f for f in rows if f not in upcoming]
    return render_template("web/fairs/list.html", upcoming=upcoming, past=past)


def _fair_form_page(form, *, errors=None, summary=None, status: int = 200):
    return render_template("web/fairs/new.html", form=form, errors=errors or {}, summary=summary), status


@bp.route("/organiser/fairs/new", methods=["GET", "POST"])
@page(*RUNNING)
def organiser_fair_new():
    if request.method == "GET":
        return _fair_form_page({"starts_at": "09:00", "block_minutes": "30", "n_blocks": "8",
                                "max_interviews": "3", "key_subject_weight": "0", "waiting_weight_per_year": "0",
                                "preferred_courses_only": "y"})
    outcome = run_form(lambda data: fairs.create_fair(session=db.session, actor=actor(), data=data),
                       _fair_form_data(request.form), schema=FairForm())
    if not outcome.ok:
        return _fair_form_page(request.form, errors=outcome.errors, summary=outcome.summary, status=outcome.status)
    flash(_("The job fair is set up. Register the bases next."), "info")
    return redirect(url_for("web.organiser_fair_booths", fair_id=outcome.value.id), 303)


# ---- the fair's overview, editing, closing --------------------------------------------------------

def _overview_page(fair_id: int, *, form=None, errors=None, summary=None, status: int = 200):
    fair, overview = _run(fair_id)
    return render_template("web/fairs/overview.html", fair=fair, o=overview, form=form or _fair_as_form(fair),
                           errors=errors or {}, summary=summary, tab="overview",
                           quality=fairs.plan_quality(overview["run"]) if overview["run"] else None), status


@bp.route("/organiser/fairs/<id:fair_id>", methods=["GET", "POST"])
@page(*RUNNING)
def organiser_fair(fair_id: int):
    if request.method == "GET":
        return _overview_page(fair_id)
    fair = _fair(fair_id)
    outcome = run_form(lambda data: fairs.update_fair(session=db.session, actor=actor(), fair_id=fair.id, data=data),
                       _fair_form_data(request.form), schema=FairForm())
    if not outcome.ok:
        return _overview_page(fair_id, form=request.form, errors=outcome.errors, summary=outcome.summary,
                              status=outcome.status)
    flash(_("The job fair is saved."), "info")
    return redirect(url_for("web.organiser_fair", fair_id=fair.id), 303)


@bp.route("/organiser/fairs/<id:fair_id>/status", methods=["POST"])
@page(*RUNNING)
def organiser_fair_status(fair_id: int):
    fair = _fair(fair_id)
    wanted = text(request.form, "status")

    def set_status():
        if wanted not in (FairStatus.CLOSED.value, FairStatus.CANCELLED.value):
            raise ValidationError({"status": [_("Choose to close or to call off the fair.")]})
        return fairs.set_status(session=db.session, actor=actor(), fair_id=fair.id, status=FairStatus(wanted))

    outcome = run_form(set_status)
    if not outcome.ok:
        return _overview_page(fair_id, summary=outcome.summary, status=outcome.status)
    flash(_("The job fair is closed.") if wanted == "closed" else _("The job fair is called off."), "info")
    return redirect(url_for("web.organiser_fair", fair_id=fair.id), 303)


# ---- booths -------------------------------------------------------------------------------------

def _booths_page(fair_id: int, *, forms=None, errors=None, summary=None, status: int = 200):
    """The booths and, for each certified base without one, its open slots to register with."""
    who, session = actor(), db.session
    fair, overview = _run(fair_id)
    bases = organiser_overview(session=session, actor=who)["bases"]
    taken = {b.company_id for b in fair.booths}
    open_slots: dict[int, list] = defaultdict(list)
    for slot in find_slots(session=session, actor=who, filters={"status": "open", "sort": "title"}):
        open_slots[slot.company_id].append(slot)
    booths = []
    for booth in fair.booths:
        chosen = {s.id for s in booth.slots}
        choices = list(booth.slots) + [s for s in open_slots.get(booth.company_id, []) if s.id not in chosen]
        booths.append({"booth": booth, "choices": choices, "chosen": chosen})
    free = [{"company": row["company"], "slots": open_slots.get(row["company"].id, [])}
            for row in bases if row["company"].id not in taken]
    return render_template("web/fairs/booths.html", fair=fair, o=overview, booths=booths, free=free,
                           forms=forms or {}, errors=errors or {}, summary=summary, courses=_course_names(),
                           tab="booths"), status


@bp.route("/organiser/fairs/<id:fair_id>/booths", methods=["GET", "POST"])
@page(*RUNNING)
def organiser_fair_booths(fair_id: int):
    if request.method == "GET":
        return _booths_page(fair_id)
    fair = _fair(fair_id)
    data, errors = _booth_form_data(request.form, adding=True)
    key = f"add-{data['company_id']}"

    def add():
        if errors:
            raise ValidationError(errors)
        return fairs.add_booth(session=db.session, actor=actor(), fair_id=fair.id, data=data)

    outcome = run_form(add)
    if not outcome.ok:
        return _booths_page(fair_id, forms={key: request.form}, errors={key: outcome.errors}, summary=outcome.summary,
                            status=outcome.status)
    booth = outcome.value
    flash(_("%(base)s is registered at booth %(label)s.", base=booth.company.name, label=booth.label), "info")
    return redirect(url_for("web.organiser_fair_booths", fair_id=fair.id) + f"#booth-{booth.id}", 303)


@bp.route("/organiser/fairs/<id:fair_id>/booths/<id:booth_id>", methods=["POST"])
@page(*RUNNING)
def organiser_fair_booth(fair_id: int, booth_id: int):
    fair = _fair(fair_id)
    data, errors = _booth_form_data(request.form, adding=False)
    key = f"booth-{booth_id}"

    def update():
        if errors:
            raise ValidationError(errors)
        return fairs.update_booth(session=db.session, actor=actor(), fair_id=fair.id, booth_id=booth_id, data=data)

    outcome = run_form(update)
    if not outcome.ok:
        return _booths_page(fair_id, forms={key: request.form}, errors={key: outcome.errors}, summary=outcome.summary,
                            status=outcome.status)
    flash(_("The booth is saved."), "info")
    return redirect(url_for("web.organiser_fair_booths", fair_id=fair.id) + f"#booth-{booth_id}", 303)


@bp.route("/organiser/fairs/<id:fair_id>/booths/<id:booth_id>/remove", methods=["POST"])
@page(*RUNNING)
def organiser_fair_booth_remove(fair_id: int, booth_id: int):
    fair = _fair(fair_id)
    outcome = run_form(lambda: fairs.remove_booth(session=db.session, actor=actor(), fair_id=fair.id,
                                                  booth_id=booth_id))
    if not outcome.ok:
        return _booths_page(fair_id, summary=outcome.summary, status=outcome.status)
    flash(_("The booth is removed."), "info")
    return redirect(url_for("web.organiser_fair_booths", fair_id=fair.id), 303)


# ---- invitations --------------------------------------------------------------------------------

INVITATION_FILTERS = ("status", "q", "office_id", "sort", "order")


def _invitations_page(fair_id: int, *, form=None, errors=None, summary=None, counted=None, status: int = 200):
    who, session = actor(), db.session
    fair, overview = _run(fair_id)
    raw = {key: (request.args.get(key) or "").strip() for key in INVITATION_FILTERS}
    filters: dict = {"fair_id": fair.id}
    if raw["status"] in {s.value for s in InvitationStatus}:
        filters["status"] = raw["status"]
    if raw["q"]:
        filters["q"] = raw["q"][:40]
    if int_in(raw["office_id"], low=1, high=2**31 - 1):
        filters["office_id"] = int(raw["office_id"])
    if raw["sort"] in fairs.INVITATION_SORTS:
        filters["sort"] = raw["sort"]
        filters["descending"] = raw["order"] == "desc"
    paged = db.paginate(fairs.list_invitations(session=session, actor=who, filters=filters),
                        page=int_in(request.args.get("page"), high=10**6) or 1, per_page=PAGE_SIZE, error_out=False)
    rows, total, page_no, pages = paged.items, paged.total, paged.page, paged.pages or 1
    offices = find_offices(session=session, place=who.bureau_code or None)
    form = form if form is not None else {}
    return render_template(
        "web/fairs/invitations.html", fair=fair, o=overview, rows=rows, total=total, page_no=page_no, pages=pages,
        filters=raw, query={k: v for k, v in raw.items() if v}, offices=offices,
        courses=sorted(_course_names().items(), key=lambda item: item[1]), form=form,
        chosen_offices={str(v) for v in (form.getlist("office_ids") if hasattr(form, "getlist") else [])},
        errors=errors or {}, summary=summary, counted=counted, statuses=list(InvitationStatus),
        tab="invitations"), status


def _numbered(errors: dict[str, list[str]], public_ids: list[str]) -> dict[str, list[str]]:
    """The field errors, with the candidate number a public_ids.N error is about in front of its message."""
    out: dict[str, list[str]] = defaultdict(list)
    for key, messages in errors.items():
        field, _dash, index = key.partition("-")
        if field == "public_ids" and index.isdigit() and int(index) < len(public_ids):
            out[field].extend(f"{public_ids[int(index)]}：{message}" for message in messages)
        else:
            out[key].extend(messages)
    return dict(out)


@bp.route("/organiser/fairs/<id:fair_id>/invitations", methods=["GET", "POST"])
@page(*RUNNING)
def organiser_fair_invitations(fair_id: int):
    if request.method == "GET":
        return _invitations_page(fair_id)
    fair = _fair(fair_id)
    form = request.form
    dry_run = form.get("action") == "count"
    public_ids = _public_ids(form.get("public_ids", ""))
    data = {"public_ids": public_ids, "office_ids": _ints(form.getlist("office_ids")),
            "course": text(form, "course") or None, "ready": form.get("ready") in ("y", "on", "1"),
            "dry_run": dry_run}
    outcome = run_form(lambda: fairs.invite(session=db.session, actor=actor(), fair_id=fair.id, data=data),
                       rows={"public_ids": list(range(len(public_ids)))})
    if not outcome.ok:
        return _invitations_page(fair_id, form=form, errors=_numbered(outcome.errors, public_ids),
                                 summary=outcome.summary, status=outcome.status)
    result = outcome.value
    if dry_run:
        return _invitations_page(fair_id, form=form, counted=result)
    flash(_("%(n)s candidates are invited (%(m)s were already invited); their caseworkers answer for them.",
            n=result["invited"], m=result["already_invited"]), "info")
    return redirect(url_for("web.organiser_fair_invitations", fair_id=fair.id), 303)


@bp.route("/organiser/fairs/<id:fair_id>/invitations/<id:invitation_id>/cancel", methods=["POST"])
@page(*RUNNING)
def organiser_fair_invitation_cancel(fair_id: int, invitation_id: int):
    fair = _fair(fair_id)
    invitation = fairs.get_invitation(session=db.session, actor=actor(), invitation_id=invitation_id)
    if invitation.fair_id != fair.id:
        raise NotFound(_("No such invitation."))
    outcome = run_form(lambda: fairs.cancel_invitation(session=db.session, actor=actor(), invitation_id=invitation.id,
                                                       reason=text(request.form, "reason")[:300] or None))
    if not outcome.ok:
        return _invitations_page(fair_id, summary=outcome.summary, status=outcome.status)
    flash(_("The invitation of %(name)s is cancelled.", name=invitation.candidate.name), "info")
    return redirect(url_for("web.organiser_fair_invitations", fair_id=fair.id, **request.args), 303)


# ---- the plan -------------------------------------------------------------------------------------

def _grid(fair, interviews) -> dict:
    """The schedule as rows of blocks and columns of booths; a cell lists its interviews."""
    cells: dict[tuple[int, int], list] = defaultdict(list)
    for iv in interviews:
        cells[iv.block, iv.booth_id].append(iv)
    return {"blocks": [(t, fair.block_label(t)) for t in range(fair.n_blocks)], "booths": list(fair.booths),
            "cells": cells}


PEOPLE_SORTS = {
    "number": lambda p: p["candidate"].public_id,
    "name": lambda p: p["candidate"].name,
    "office": lambda p: (p["candidate"].office.name, p["candidate"].public_id),
    "interviews": lambda p: (len(p["interviews"]), p["candidate"].public_id),
}


def _people_on_plan(fair, interviews, unplaced) -> dict:
    """Everyone on the plan, one row a person with their interview times, those without one included: found by
    any part of a name or number (`q`), sorted by a column (`sort`, `order`)."""
    q = (request.args.get("q") or "").strip()[:40]
    sort = request.args.get("sort") if request.args.get("sort") in PEOPLE_SORTS else "office"
    descending = request.args.get("order") == "desc"
    people = _by_candidate(fair, interviews, unplaced)
    total = len(people)
    if q:
        people = [p for p in people if q in p["candidate"].name or q.upper() in p["candidate"].public_id]
    people.sort(key=PEOPLE_SORTS[sort], reverse=descending)
    for person in people:
        person["interviews"].sort(key=lambda iv: iv.block)
    return {"rows": people, "total": total, "q": q, "sort": sort, "order": "desc" if descending else "asc"}


def _plan_page(fair_id: int, *, errors=None, summary=None, status: int = 200):
    who, session = actor(), db.session
    fair, overview = _run(fair_id)
    run, plan = overview["run"], overview["summary"]
    interviews = fairs.schedule(session=session, actor=who, fair_id=fair.id)
    unplaced_codes = fairs.unplaced(session, run)
    unplaced = [(inv, code, fairs.reason_text(code)) for inv, code in unplaced_codes]
    figures = None
    if run is not None:
        placed = plan.get("candidates", 0) - len(plan.get("unplaced", {}))
        reasons = plan.get("unplaced_reasons") or dict(Counter(plan.get("unplaced", {}).values()))
        figures = {
            "interviews": plan.get("interviews", 0),
            "candidates": plan.get("candidates", 0),
            "placed": placed,
            # Plans made before breadth first have no coverage figures: count them from what they kept.
            "covered": plan.get("covered", placed),
            "coverable": plan.get("coverable", placed + reasons.get("capacity", 0)),
            "per_person": {int(n): count for n, count in plan.get("interviews_per_person", {}).items()},
            "reasons": [(code, n, fairs.reason_text(code)) for code, n in sorted(reasons.items())],
            # An expectation, said as a whole number of people.
            "expected_stays": round(plan.get("expected_stays", 0.0)),
            "quality": fairs.plan_quality(run),
            "objective": format_decimal(run.objective, "#,##0.0"),
            "bound": format_decimal(run.bound, "#,##0.0"),
            "seconds": format_decimal(run.seconds, "#,##0.0#"),
            "new": plan.get("new", 0), "unchanged": plan.get("unchanged", 0), "kept": plan.get("kept", 0),
            "moved_or_dropped": plan.get("moved_or_dropped", 0),
        }
    return render_template(
        "web/fairs/plan.html", fair=fair, o=overview, run=run, figures=figures, grid=_grid(fair, interviews),
        unplaced=unplaced, errors=errors or {}, summary=summary, tab="plan",
        people=_people_on_plan(fair, interviews, unplaced_codes) if run is not None else None,
        coming=overview["invitations"].get(InvitationStatus.CONFIRMED.value, 0)), status


@bp.route("/organiser/fairs/<id:fair_id>/plan", methods=["GET", "POST"])
@page(*RUNNING)
def organiser_fair_plan(fair_id: int):
    if request.method == "GET":
        return _plan_page(fair_id)
    fair = _fair(fair_id)
    raw = text(request.form, "from_block")

    def plan():
        from_block = None
        if raw:
            from_block = int_in(raw, low=0, high=fair.n_blocks)
            if from_block is None:
                raise ValidationError({"from_block": [_("The block must be between 0 and %(n)s.",
                                                        n=fair.n_blocks - 1)]})
        # Here the organiser asks for a plan of the day (or of the rest of it) afresh; filling free places
        # around everyone's schedule is the day page's re-plan.
        return fairs.make_plan(session=db.session, actor=actor(), fair_id=fair.id, from_block=from_block,
                               keep_planned=False)

    outcome = run_form(plan)
    if not outcome.ok:
        return _plan_page(fair_id, errors=outcome.errors, summary=outcome.summary, status=outcome.status)
    flash(_("The interview plan is made."), "info")
    return redirect(url_for("web.organiser_fair_plan", fair_id=fair.id), 303)


def _by_candidate(fair, interviews, unplaced=()) -> list[dict]:
    """One sheet a person: their interviews; and a sheet for each confirmed person the plan could not place,
    saying what to do on the day."""
    people: dict[int, dict] = {}
    for iv in interviews:
        entry = people.setdefault(iv.invitation_id, {"candidate": iv.invitation.candidate, "interviews": []})
        entry["interviews"].append(iv)
    for invitation, code in unplaced:
        if invitation.id not in people and invitation.status == InvitationStatus.CONFIRMED:
            people[invitation.id] = {"candidate": invitation.candidate, "interviews": [], "reason": code}
    return sorted(people.values(), key=lambda p: (p["candidate"].office.name, p["candidate"].public_id))


@bp.route("/organiser/fairs/<id:fair_id>/print/candidates")
@page(*RUNNING)
def organiser_fair_print_candidates(fair_id: int):
    fair, overview = _run(fair_id)
    interviews = fairs.schedule(session=db.session, actor=actor(), fair_id=fair.id)
    people = _by_candidate(fair, interviews, fairs.unplaced(db.session, overview["run"]))
    return render_template("web/fairs/print_candidates.html", fair=fair, people=people,
                           without=sum(1 for p in people if not p["interviews"]))


@bp.route("/organiser/fairs/<id:fair_id>/print/booths")
@page(*RUNNING)
def organiser_fair_print_booths(fair_id: int):
    fair = _fair(fair_id)
    interviews = fairs.schedule(session=db.session, actor=actor(), fair_id=fair.id)
    by_booth: dict[int, list] = defaultdict(list)
    for iv in interviews:
        by_booth[iv.booth_id].append(iv)
    booths = [{"booth": b, "interviews": by_booth.get(b.id, [])} for b in fair.booths]
    # The sheet goes to the base's staff: a name only where the candidate agreed to give it to that base at a
    # fair (purpose job_fair). Keyed by interview: one person may agree for one booth and not another.
    keys = [(iv.invitation.candidate_id, iv.booth.company_id, DisclosurePurpose.JOB_FAIR) for iv in interviews]
    allowed = disclosures_in_force(db.session, keys)
    named = {iv.id for iv, key in zip(interviews, keys, strict=True) if key in allowed}
    return render_template("web/fairs/print_booths.html", fair=fair, booths=booths, named=named)


@bp.route("/organiser/fairs/<id:fair_id>/plan.xlsx")
@page(*RUNNING)
def organiser_fair_plan_xlsx(fair_id: int):
    from matcher.fairs.export import plan_workbook  # written alongside; imported here so this module stands alone

    fair = _fair(fair_id)
    data = plan_workbook(session=db.session, actor=actor(), fair_id=fair.id, lang=lang_code())
    return send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True,
                     download_name=f"fair-{fair.id}-{fair.held_on.isoformat()}-plan.xlsx")


# ---- the caseworker's invitations ------------------------------------------------------------------

def _caseworker_page(*, errors=None, forms=None, status: int = 200):
    me, session = actor(), db.session
    rows = fair_queries.find_invitations(session=session, actor=me, filters={"upcoming": True})
    consented = {}
    if rows:
        consented = {inv.id: has_consent(session, inv.candidate_id, ConsentKind.REFERRAL) for inv in rows
                     if inv.candidate.office_id == me.office_id}
    groups: dict[int, list] = defaultdict(list)
    for inv in rows:
        groups[inv.fair_id].append(inv)
    fair_rows = {fair_id: fairs.get_fair(session=session, actor=me, fair_id=fair_id) for fair_id in groups}
    ordered = [(fair_rows[f], groups[f]) for f in sorted(groups, key=lambda f: (fair_rows[f].held_on, f))]
    return render_template("web/fairs/caseworker.html", groups=ordered, office_id=me.office_id,
                           consented=consented, errors=errors or {}, forms=forms or {},
                           waiting=sum(1 for inv in rows if inv.status == InvitationStatus.INVITED
                                       and inv.candidate.office_id == me.office_id)), status


@bp.route("/caseworker/fair-invitations")
@page(CW)
def caseworker_fair_invitations():
    return _caseworker_page()


@bp.route("/caseworker/fair-invitations/<id:invitation_id>", methods=["POST"])
@page(CW)
def caseworker_fair_invitation_answer(invitation_id: int):
    form = request.form
    attending = form.get("answer") == "confirm"

    def answer():
        if form.get("answer") not in ("confirm", "decline"):
            raise ValidationError({"answer": [_("Say whether the candidate will come.")]})
        return fairs.answer_invitation(
            session=db.session, actor=actor(), invitation_id=invitation_id, attending=attending,
            consent=form.get("consent") in ("y", "on", "1"), note=text(form, "note")[:300] or None)

    outcome = run_form(answer)
    if not outcome.ok:
        return _caseworker_page(errors={invitation_id: outcome.errors_or_summary()}, forms={invitation_id: form},
                                status=outcome.status)
    invitation = outcome.value
    if attending:
        message = _("%(name)s will come to %(fair)s.", name=invitation.candidate.name, fair=_fair_name(invitation))
    else:
        message = _("%(name)s will not come to %(fair)s.", name=invitation.candidate.name,
                    fair=_fair_name(invitation))
    flash(message, "info")
    return redirect(url_for("web.caseworker_fair_invitations") + f"#invitation-{invitation_id}", 303)


def _fair_name(invitation) -> str:
    return fairs.get_fair(session=db.session, actor=actor(), fair_id=invitation.fair_id).name

