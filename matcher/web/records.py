"""The administrator's view of bases' records (flags for review) and their complaints."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from matcher import uow
from matcher.auth.models import Role
from matcher.bases import answers, records, records_read
from matcher.bases.complaints import list_complaints, record_complaint, resolve_complaint
from matcher.bases.records_api import ComplaintCreateSchema, ComplaintResolveSchema
from matcher.errors import DomainError
from matcher.extensions import db
from matcher.reports.service import bureau_districts
from matcher.vocabulary import N_
from matcher.web.base import actor, bp, page
from matcher.web.forms import fields, form_errors, int_in, run_form, text

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
            "agreement_ends_on": "agreement_ends_on", "flags": "-flags", "paused": "-paused"}


@bp.app_template_filter("flag_label")
def flag_label(code: str) -> str:
    text_ = FLAG_LABELS.get(code)
    return _(text_) if text_ else code


@bp.app_template_global("base_record_panel")
def base_record_panel(company_id: int) -> dict:
    """What the base's page shows of its record and complaints (administrators)."""
    who, session = actor(), db.session
    return {"record": records_read.record_of(session=session, actor=who, company_id=company_id),
            "complaints": list_complaints(session=session, actor=who, company_id=company_id),
            "thresholds": thresholds(), "bands": answers.size_bands(session)}


def thresholds() -> dict[str, Any]:
    return {"window_months": records.WINDOW_MONTHS, "answer_days": records.ANSWER_DAYS,
            "min_sent": records.MIN_SENT, "min_answer_share": records.MIN_ANSWER_SHARE,
            "stay_days": records.STAY_DAYS, "min_starts": records.MIN_STARTS,
            "lost_share": records.LOST_SHARE, "loses_most_p": records.LOSES_MOST_P,
            "notice_days": records.EXPIRY_NOTICE_DAYS,
            "many_complaints": records.MANY_OPEN_COMPLAINTS, "prior_weight": answers.PRIOR_WEIGHT}


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
            rows = records_read.list_base_records(session=session, actor=who, district=district,
                                                  flagged_only=flagged_only, sort=sort)
    except DomainError as exc:  # a district outside the area: said next to the filter, the whole area shown
        errors = form_errors(exc)[0]
        district = None
        rows = records_read.list_base_records(session=session, actor=who, flagged_only=flagged_only, sort=sort)
    counts = {flag: sum(flag in r.flags for r in rows) for flag in records.FLAGS}
    return render_template("web/admin/base_records.html", rows=rows, district=district, flagged_only=flagged_only,
                           sort=sort, sortable=SORTABLE, districts=bureau_districts(session=session, actor=who),
                           errors=errors, counts=counts, flags=records.FLAGS, thresholds=thresholds(),
                           rules=answers.rules(session),
                           answer_counts={"paused": sum(r.paused for r in rows),
                                          "demoted": sum(r.demoted for r in rows),
                                          "below_target": sum(r.below_target for r in rows),
                                          "no_size": sum(r.employees is None for r in rows)}), \
        422 if errors else 200


# ---- bases that answer: pause, size, the bands and rules -----------------------------------------------

@bp.app_template_filter("band_label")
def band_label_filter(band) -> str:
    return str(answers.band_label(band))


@bp.route("/admin/bases/<id:company_id>/pause/lift", methods=["POST"])
@page(ADMIN)
def admin_base_lift_pause(company_id: int):
    outcome = run_form(lambda: answers.lift_pause(session=db.session, actor=actor(), company_id=company_id))
    return _done(company_id, outcome, _("The pause is lifted: the base takes referrals again."), "#record")


@bp.route("/admin/bases/<id:company_id>/size", methods=["POST"])
@page(ADMIN)
def admin_base_size(company_id: int):
    from matcher.bases.schemas import CompanyUpdateSchema
    from matcher.bases.service import update_company

    outcome = run_form(lambda data: update_company(session=db.session, actor=actor(), company_id=company_id,
                                                   data=data),
                       fields(request.form, "employees", nullable=("employees",)),
                       schema=CompanyUpdateSchema(partial=True))
    return _done(company_id, outcome, _("The base's size is saved."), "#record")


def _band_rows(form) -> tuple[list[dict], dict[str, list[int]]]:
    """The bands typed in the form's rows (band-N-min, band-N-cap); a row left empty is dropped."""
    bands = []
    for i in range(answers.MAX_BANDS):
        low, cap = text(form, f"band-{i}-min"), text(form, f"band-{i}-cap")
        if not low and not cap:
            continue
        bands.append({"min_employees": int_in(low) if low else None,
                      "monthly_referrals": int_in(cap, low=0) if cap else None, "row": i})
    return bands, {}


def _settings_page(form=None, errors=None, summary=None, status: int = 200):
    session = db.session
    answers.read_settings(actor=actor())
    bands = answers.size_bands(session)
    rules = answers.rules(session)
    if form is None:
        form = {"pause_after": rules.pause_after, "target_percent": round(rules.target_share * 100)}
        for i, band in enumerate(bands):
            form[f"band-{i}-min"], form[f"band-{i}-cap"] = band.min_employees, band.monthly_referrals
    rows = max(len(bands), sum(1 for i in range(answers.MAX_BANDS) if form.get(f"band-{i}-min"))) + 2
    return render_template("web/admin/referral_rules.html", bands=bands, rules=rules, form=form,
                           errors=errors or {}, summary=summary, rows=min(rows, answers.MAX_BANDS),
                           shipped=answers.bands_shipped(session)), status


@bp.route("/admin/referral-rules", methods=["GET", "POST"])
@page(ADMIN)
def admin_referral_rules():
    if request.method == "GET":
        return _settings_page()
    bands, _rows = _band_rows(request.form)
    pause_after = text(request.form, "pause_after")
    target = text(request.form, "target_percent")

    def save():
        problems: dict[str, list] = {}
        data = {"pause_after": int_in(pause_after, high=100) if pause_after else None,
                "target_share": (int_in(target, high=100) or 0) / 100 if target else None}
        if data["pause_after"] is None:
            problems["pause_after"] = [_("Between 1 and 100 unanswered referrals.")]
        if not data["target_share"]:
            problems["target_percent"] = [_("A percentage from 1 to 100.")]
        by_row = {}
        try:
            answers.set_size_bands(session=db.session, actor=actor(),
                                   bands=[{k: v for k, v in b.items() if k != "row"} for b in bands])
        except DomainError as exc:
            for key, messages in exc.errors.items():
                parts = key.split(".")
                if len(parts) == 3:  # bands.N.field -> the form row's field
                    row = bands[int(parts[1])]["row"]
                    by_row[f"band-{row}-{'min' if parts[2] == 'min_employees' else 'cap'}"] = messages
                else:
                    by_row["bands"] = messages
        problems.update(by_row)
        if problems:
            from matcher.errors import Invalid

            raise Invalid(_("Some fields are not valid."), errors=problems)
        answers.set_rules(session=db.session, actor=actor(), data=data)

    outcome = run_form(save)
    if not outcome.ok:
        return _settings_page(form=request.form, errors=outcome.errors, summary=outcome.summary,
                              status=outcome.status)
    flash(_("The size bands and rules are saved."), "info")
    return redirect(url_for("web.admin_referral_rules"), 303)


def _done(company_id: int, outcome, done: str, anchor: str):
    if outcome.ok:
        flash(done, "info")
    else:
        flash(" ".join([str(outcome.summary or ""), *(str(m) for ms in outcome.errors.values() for m in ms)]).strip(),
              "error")
    return redirect(url_for("web.admin_base", company_id=company_id) + anchor, 303)


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
