"""Follow-up pages: the office's checks at 30/90/180 days (overdue first), the base's stays to confirm, the
bureau's overdue checks by office; and recording a re-offence on the candidate file.

Views are thin: every read and write goes through matcher.followup.service (which keeps each actor in scope
and moves referrals through the referral service), and forms are checked by the API's schemas.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from matcher import uow
from matcher.auth.models import Role
from matcher.candidates.service import referral_card, referral_disclosures
from matcher.clock import today
from matcher.errors import DomainError, translate
from matcher.extensions import db
from matcher.followup import service as followup
from matcher.followup.models import FollowUpTask, TaskStatus
from matcher.followup.schemas import TaskCompleteSchema
from matcher.matching import service as matching
from matcher.referrals.lifecycle import END_REASONS, ReferralStatus
from matcher.reports.service import bureau_districts
from matcher.web.base import actor, bp, page
from matcher.web.forms import fields, form_errors, int_in, run_form, text
from matcher.web.labels import label, reference_names

CW, EMPLOYER, ADMIN = Role.CASEWORKER, Role.EMPLOYER, Role.ADMINISTRATOR
WEEK_DAYS = 7
EMPLOYER_NOTICE_DAYS = 30  # a base sees the checks coming in the next month, besides those due
LIST_LIMIT = 200
LEAVE_REASONS = END_REASONS[ReferralStatus.LEFT]


def _open_tasks(**filters) -> list[FollowUpTask]:
    return followup.find_tasks(session=db.session, actor=actor(), filters={"status": TaskStatus.OPEN, **filters},
                               limit=LIST_LIMIT)


def _complete(task_id: int, back: str, render: Callable):
    """A quick action on a check: validate with the API's schema, complete it, back to the list (or the list
    again with the message next to the check)."""
    outcome = run_form(lambda data: (data, followup.complete_task(session=db.session, actor=actor(), task_id=task_id,
                                                                  **data)),
                       fields(request.form, "result", "on_date", "reason_code", "note"), schema=TaskCompleteSchema())
    if not outcome.ok:
        return render(failed={"task_id": task_id, "errors": outcome.errors, "summary": outcome.summary,
                              "form": request.form}, status=outcome.status)
    data, task = outcome.value
    if data["result"] == followup.Result.STAYING:
        flash(_("Confirmed: %(status)s.", status=label(task.referral.status, "referral_status")), "success")
    elif data["result"] == followup.Result.LEFT:
        flash(_("Recorded: the person has left; the placement has ended."), "success")
    else:
        flash(_("The attempt is noted; the check stays open."), "info")
    return redirect(url_for(back) + f"#task-{task_id}", 303)


def _days_overdue(task: FollowUpTask, day: dt.date) -> int:
    return (day - task.due_on).days


# ---- the office ----------------------------------------------------------------------------------

def _caseworker_page(*, failed: dict | None = None, status: int = 200):
    day = today()
    tasks = _open_tasks()
    week_end = day + dt.timedelta(days=WEEK_DAYS)
    groups = [
        ("overdue", _("Overdue"), [t for t in tasks if t.due_on < day]),
        ("week", _("Due this week"), [t for t in tasks if day <= t.due_on <= week_end]),
        ("later", _("Later"), [t for t in tasks if t.due_on > week_end]),
    ]
    return render_template("web/followup/caseworker.html", groups=groups, today=day, failed=failed or {},
                           bulk=any(t.due_on <= day for t in tasks),
                           leave_reasons=LEAVE_REASONS,
                           days_overdue=_days_overdue, limited=len(tasks) >= LIST_LIMIT,
                           second_steps=matching.second_steps(session=db.session, actor=actor())), status


@bp.route("/caseworker/follow-up")
@page(CW)
def caseworker_follow_up():
    return _caseworker_page()


@bp.route("/caseworker/follow-up/<id:task_id>", methods=["POST"])
@page(CW)
def caseworker_follow_up_complete(task_id: int):
    return _complete(task_id, "web.caseworker_follow_up", _caseworker_page)


@bp.route("/caseworker/follow-up/staying", methods=["POST"])
@page(CW)
def caseworker_follow_up_staying():
    """The checks ticked are all still working: each confirmed as its own button would; one refused leaves the
    others done, and says why."""
    ids = [number for number in (int_in(value) for value in request.form.getlist("task_id")) if number is not None]
    outcome = run_form(lambda: followup.complete_tasks(session=db.session, actor=actor(), task_ids=ids,
                                                       result=followup.Result.STAYING))
    if not outcome.ok:
        flash(" ".join(message for messages in outcome.errors_or_summary().values() for message in messages), "error")
        return redirect(url_for("web.caseworker_follow_up"), 303)
    done, refused = outcome.value
    if done:
        flash(_("Confirmed as still working: %(n)s checks.", n=len(done)), "success")
    for task_id, message in refused.items():
        flash(_("Check %(id)s was not confirmed: %(reason)s", id=task_id, reason=translate(message)), "error")
    return redirect(url_for("web.caseworker_follow_up"), 303)


# ---- the base ------------------------------------------------------------------------------------

def _employer_page(*, failed: dict | None = None, status: int = 200):
    who, day = actor(), today()
    tasks = [t for t in _open_tasks() if t.due_on <= day + dt.timedelta(days=EMPLOYER_NOTICE_DAYS)]
    disclosed = referral_disclosures(db.session, [t.referral for t in tasks])  # name and phone: per base and purpose
    cards = {t.id: referral_card(db.session, who, t.referral, disclosed=t.referral.id in disclosed) for t in tasks}
    return render_template("web/followup/employer.html", leave_reasons=LEAVE_REASONS,
                           due=[t for t in tasks if t.due_on <= day],
                           coming=[t for t in tasks if t.due_on > day], cards=cards, names=reference_names(), today=day,
                           failed=failed or {}, days_overdue=_days_overdue,
                           notice_days=EMPLOYER_NOTICE_DAYS), status


@bp.route("/employer/follow-up")
@page(EMPLOYER)
def employer_follow_up():
    return _employer_page()


@bp.route("/employer/follow-up/<id:task_id>", methods=["POST"])
@page(EMPLOYER)
def employer_follow_up_complete(task_id: int):
    return _complete(task_id, "web.employer_follow_up", _employer_page)


# ---- the bureau ----------------------------------------------------------------------------------

@bp.route("/admin/follow-up")
@page(ADMIN)
def admin_follow_up():
    who, session = actor(), db.session
    district = text(request.args, "district") or None
    office_id = int_in(request.args.get("office_id"))
    errors: dict = {}
    try:
        with uow.savepoint():
            offices = followup.overdue_by_office(session=session, actor=who, district=district)
    except DomainError as exc:  # a district outside the area: said next to the filter, the whole area shown
        errors = form_errors(exc)[0]
        district = None
        offices = followup.overdue_by_office(session=session, actor=who)
    office, overdue = None, []
    if office_id is not None:
        office = next((row["office"] for row in offices if row["office"]["id"] == office_id), None)
        if office is not None:
            overdue = _open_tasks(overdue=True, office_id=office_id, district=district)
    return render_template("web/followup/admin.html", offices=offices, districts=bureau_districts(
        session=session, actor=who), district=district, errors=errors, office=office, office_id=office_id,
        overdue=overdue, today=today(), days_overdue=_days_overdue,
        totals={"overdue": sum(r["overdue"] for r in offices), "open": sum(r["open"] for r in offices)}), \
        422 if errors else 200


# ---- on the candidate file -----------------------------------------------------------------------

def file_extras(candidate_id: int) -> dict:
    """What the candidate file shows of follow-up: re-offences, the running placements a visit can look at,
    and the re-offence form's defaults."""
    session, who = db.session, actor()
    placements = [(str(r.id), f"{r.slot.title} · {r.slot.company.name} · {label(r.status, 'referral_status')}")
                  for r in followup.running_placements(session=session, actor=who, candidate_id=candidate_id)]
    return {"reoffences": followup.list_reoffences(session=session, actor=who, candidate_id=candidate_id),
            "placements": placements, "reoffence_defaults": MultiDict({"recorded_on": today().isoformat()})}
