"""The administrator's view of bases' records (flags for review) and their complaints."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from matcher import uow
from matcher.auth.models import Role
from matcher.bases import records
from matcher.bases.complaints import list_complaints, record_complaint, resolve_complaint
from matcher.bases.records_api import ComplaintCreateSchema, ComplaintResolveSchema
from matcher.errors import DomainError
from matcher.extensions import db
from matcher.reports.service import bureau_districts
from matcher.vocabulary import N_
from matcher.web.base import actor, bp, page
from matcher.web.forms import fields, form_errors, run_form

ADMIN = Role.ADMINISTRATOR

FLAG_LABELS = {
    records.NEVER_ANSWERS: N_("Rarely answers referrals"),
    records.LOSES_MOST: N_("Loses most people before 90 days"),
    records.CERTIFICATION_EXPIRING: N_("Certification ends within a month"),
    records.AGREEMENT_EXPIRING: N_("Agreement ends within a month"),
    records.MANY_COMPLAINTS: N_("Several open complaints"),
}
# Columns of the records table that sort, with their first direction (worst or largest first).
SORTABLE = {"name": "name", "sent": "-sent", "share_answered": "share_answered",
            "median_days_to_answer": "-median_days_to_answer", "starts": "-starts", "stay_rate": "stay_rate",
            "complaints": "-complaints", "certified_until": "certified_until",
            "agreement_ends_on": "agreement_ends_on", "flags": "-flags"}


@bp.app_template_filter("flag_label")
def flag_label(code: str) -> str:
    text_ = FLAG_LABELS.get(code)
    return _(text_) if text_ else code


@bp.app_template_global("base_record_panel")
def base_record_panel(company_id: int) -> dict:
    """What the base's page shows of its record and complaints (administrators)."""
    who, session = actor(), db.session
    return {"record": records.record_of(session=session, actor=who, company_id=company_id),
            "complaints": list_complaints(session=session, actor=who, company_id=company_id),
            "thresholds": thresholds()}


def thresholds() -> dict[str, Any]:
    return {"window_months": records.WINDOW_MONTHS, "answer_days": records.ANSWER_DAYS,
            "min_sent": records.MIN_SENT, "min_answer_share": records.MIN_ANSWER_SHARE,
            "stay_days": records.STAY_DAYS, "min_starts": records.MIN_STARTS,
            "lost_share": records.LOST_SHARE, "loses_most_p": records.LOSES_MOST_P,
            "notice_days": records.EXPIRY_NOTICE_DAYS,
            "many_complaints": records.MANY_OPEN_COMPLAINTS}


@bp.route("/admin/base-records")
@page(ADMIN)
def admin_base_records():
    who, session = actor(), db.session
    district = request.args.get("district") or None
    flagged_only = request.args.get("flagged") in ("1", "on", "true")
    sort = request.args.get("sort") or "-flags"
    if sort.lstrip("-") not in records.SORTS:
        sort = "-flags"
    errors: dict = {}
    try:
        with uow.savepoint():
            rows = records.list_base_records(session=session, actor=who, district=district, flagged_only=flagged_only,
                                             sort=sort)
    except DomainError as exc:  # a district outside the area: said next to the filter, the whole area shown
        errors = form_errors(exc)[0]
        district = None
        rows = records.list_base_records(session=session, actor=who, flagged_only=flagged_only, sort=sort)
    counts = {flag: sum(flag in r.flags for r in rows) for flag in records.FLAGS}
    return render_template("web/admin/base_records.html", rows=rows, district=district, flagged_only=flagged_only,
                           sort=sort, sortable=SORTABLE, districts=bureau_districts(session=session, actor=who),
                           errors=errors, counts=counts, flags=records.FLAGS, thresholds=thresholds()), \
        422 if errors else 200


# ---- complaints (on the base's page) ---------------------------------------------------------------

def _complaint(company_id: int, outcome, done: str):
    """Back to the base's complaints, with the outcome said at the top of the page."""
    if outcome.ok:
        flash(done, "info")
    else:
        flash(" ".join([outcome.summary or "", *(m for ms in outcome.errors.values() for m in ms)]).strip(), "error")
    return redirect(url_for("web.admin_base", company_id=company_id) + "#complaints", 303)


@bp.route("/admin/bases/<id:company_id>/complaints", methods=["POST"])
@page(ADMIN)
def admin_base_complaint(company_id: int):
    outcome = run_form(lambda data: record_complaint(session=db.session, actor=actor(), company_id=company_id,
                                                     data=data),
                       fields(request.form, "received_on", "summary"), schema=ComplaintCreateSchema())
    return _complaint(company_id, outcome, _("The complaint is recorded."))


@bp.route("/admin/bases/<id:company_id>/complaints/<id:complaint_id>/resolve", methods=["POST"])
@page(ADMIN)
def admin_base_complaint_resolve(company_id: int, complaint_id: int):
    outcome = run_form(lambda data: resolve_complaint(session=db.session, actor=actor(), company_id=company_id,
                                                      complaint_id=complaint_id, resolved_on=data.get("resolved_on")),
                       fields(request.form, "resolved_on"), schema=ComplaintResolveSchema())
    return _complaint(company_id, outcome, _("The complaint is marked resolved."))
