"""Long jobs in the pages: start training, a batch assignment or a large import, watch the progress (the job
page polls /jobs/<id>/status.json from static/js/jobs.js), and follow the link to the result."""

from __future__ import annotations

import datetime as dt

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from matcher.auth.models import Role
from matcher.errors import DomainError, Invalid
from matcher.extensions import db
from matcher.jobs import service
from matcher.web.base import actor, bp, page
from matcher.web.forms import form_errors, run_form, text

KIND_LABELS = {
    "train": _l("Train a new model"),
    "retrain": _l("Retrain on the recorded outcomes"),
    "assignment": _l("Batch assignment"),
    "import": _l("Import a file"),
}
STATUS_LABELS = {
    "queued": _l("Queued"),
    "running": _l("Running"),
    "succeeded": _l("Succeeded"),
    "failed": _l("Failed"),
}
IMPORT_LABELS = {
    "candidates": _l("Candidates"),
    "bases": _l("Bases"),
    "slots": _l("Slots"),
    "referrals": _l("Referral history"),
    "release_list": _l("Pre-release list"),
}
NO_FILE = _l("Choose the file to import (CSV or .xlsx).")
# The figures of an assignment plan the job page shows, in this order.
SUMMARY_LABELS = {
    "candidates": _l("Candidates planned"),
    "slots": _l("Open slots"),
    "seats": _l("Seats free"),
    "eligible_pairs": _l("Eligible pairs"),
    "assigned": _l("Referrals proposed"),
    "expected_stays": _l("Expected stays"),
    "greedy_objective": _l("Best-first plan's value"),
    "objective": _l("This plan's value"),
}


def _import_kinds(who) -> list[str]:
    from matcher.transfer.kinds import IMPORTERS

    return [kind for kind, importer in IMPORTERS.items() if who.role in importer.roles]


def _may_assign(who) -> bool:
    return who.role in (Role.ADMINISTRATOR, Role.ORGANISER)


def _list_page(*, errors=None, summary=None, form=None, which: str | None = None, status: int = 200):
    who = actor()
    wanted = request.args.get("status") if request.args.get("status") in STATUS_LABELS else None
    q = text(request.args, "q")
    words = q.lower()
    kinds = [kind for kind, label in KIND_LABELS.items() if words and words in str(label).lower()]
    jobs = [service.job_view(job) for job in service.recent_jobs(session=db.session, actor=who, status=wanted, q=q,
                                                                 kinds=kinds, sort=text(request.args, "sort"))]
    return render_template("web/jobs/list.html", jobs=jobs, wanted=wanted, import_kinds=_import_kinds(who),
                           may_assign=_may_assign(who), errors=errors or {}, summary=summary, form=form or {},
                           which=which, labels=KIND_LABELS, statuses=STATUS_LABELS,
                           import_labels=IMPORT_LABELS), status


@bp.route("/jobs")
@page()
def jobs_list():
    return _list_page()


def _held_dates(view: dict) -> dict:
    """A plan's held seats keep their dates as ISO text (JSON); the page shows them as dates."""
    holding = ((view.get("result") or {}).get("summary") or {}).get("holding") if view["kind"] == "assignment" \
        else None
    for seat in (holding or {}).get("held", ()):
        for key in ("release_date", "starts_on"):
            seat[key] = dt.date.fromisoformat(seat[key])
    return view


@bp.route("/jobs/<int:job_id>")
@page()
def job_page(job_id: int):
    job = service.get_job(session=db.session, actor=actor(), job_id=job_id)
    view = _held_dates(service.job_view(job))
    return render_template("web/jobs/job.html", job=view, labels=KIND_LABELS, statuses=STATUS_LABELS,
                           import_labels=IMPORT_LABELS, active=job.status in service.ACTIVE,
                           summary_labels=SUMMARY_LABELS)


@bp.route("/jobs/<int:job_id>/status.json")
@page()
def job_status(job_id: int):
    """What the job page polls: the same view as GET /api/v1/jobs/{id}, for the logged-in session."""
    job = service.get_job(session=db.session, actor=actor(), job_id=job_id)
    view = service.job_view(job)
    view["status_label"] = str(STATUS_LABELS[view["status"]])
    for key in ("created_at", "started_at", "finished_at"):
        view[key] = view[key].isoformat() if view[key] else None
    response = jsonify(view)
    response.headers["Cache-Control"] = "no-store"
    return response


def _submit(kind: str, params: dict, *, form: dict, which: str, payload: dict | None = None):
    """Put the job on the queue and go to its page; or the list again with the form's errors."""

    def submit():
        try:
            return service.submit(db.session, actor(), kind, params, payload=payload)
        except DomainError as exc:
            nested = exc.errors.get("params")
            if isinstance(nested, dict):  # "params" wraps the fields of the form itself
                exc.errors = {**{k: v for k, v in exc.errors.items() if k != "params"}, **nested}
            raise

    outcome = run_form(submit)
    if outcome.ok:
        return redirect(url_for("web.job_page", job_id=outcome.value.id), 303)
    return _list_page(errors=outcome.errors, summary=outcome.summary, form=form, which=which, status=outcome.status)


@bp.route("/jobs/assignment", methods=["POST"])
@page(Role.ADMINISTRATOR, Role.ORGANISER)
def job_start_assignment():
    form = {name: text(request.form, name) for name in
            ("district", "course", "starts_before", "released_from", "released_to", "key_subject_weight",
             "waiting_weight_per_year", "base_cap", "horizon_days")}
    form["hold_seats"] = "1" if request.form.get("hold_seats") == "1" else ""
    return _submit("assignment", {name: value for name, value in form.items() if value}, form=form,
                   which="assignment")


@bp.route("/jobs/import", methods=["POST"])
@page()
def job_start_import():
    kind = text(request.form, "kind")
    form = {"kind": kind}
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        errors, summary = form_errors(Invalid(NO_FILE, field="file"))
        return _list_page(errors=errors, summary=summary, form=form, which="import", status=422)
    return _submit("import", {"kind": kind, "dry_run": request.form.get("dry_run") == "1"}, form=form,
                   which="import", payload={"data": upload.read(), "filename": upload.filename})


@bp.route("/jobs/train", methods=["POST"])
@page(Role.ADMINISTRATOR)
def job_start_train():
    params = {"horizon_days": text(request.form, "horizon_days") or "90",
              "activate": request.form.get("activate") == "1"}
    outcome = run_form(lambda: service.submit(db.session, actor(), "train", params))
    if not outcome.ok:
        flash(outcome.summary, "error")
        return redirect(url_for("web.admin_models"), 303)
    return redirect(url_for("web.job_page", job_id=outcome.value.id), 303)
