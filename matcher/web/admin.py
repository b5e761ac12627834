"""The administrator's pages: the bureau dashboard, the certification of bases, accounts, scoring models."""

from __future__ import annotations

import json
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import ValidationError

from matcher import uow
from matcher.auth.lockout import is_locked, unlock_account
from matcher.auth.models import Role
from matcher.auth.schemas import AccountCreateSchema, AccountUpdateSchema
from matcher.auth.service import create_account, get_account, list_accounts, update_account
from matcher.bases.models import CertificationStatus
from matcher.bases.schemas import AgreementCreateSchema, CertificationDecisionSchema, CompanyCreateSchema
from matcher.bases.service import (
    add_agreement,
    create_company,
    decide_certification,
    get_company,
    list_agreements,
    list_certification_events,
    list_companies,
)
from matcher.errors import DomainError, NotFound
from matcher.extensions import db
from matcher.matching.schemas import EvaluationQuerySchema
from matcher.matching.service import activate_model, evaluate, list_models
from matcher.offices.service import list_offices
from matcher.referrals import lifecycle
from matcher.reports.service import bureau_districts, bureau_figures, default_period
from matcher.web.base import actor, bp, page
from matcher.web.forms import error_status, form_errors, parse_date, place_input, put, text

ADMIN = Role.ADMINISTRATOR


# ---- the dashboard -------------------------------------------------------------------------------

@bp.route("/admin")
@page(ADMIN)
def admin_home():
    who, session = actor(), db.session
    districts = bureau_districts(session=session, actor=who)
    default_from, default_to = default_period()
    date_from = parse_date(request.args.get("from")) or default_from
    date_to = parse_date(request.args.get("to")) or default_to
    district = request.args.get("district") or None
    errors: dict = {}
    try:
        with uow.savepoint():
            figures = bureau_figures(session=session, actor=who, district=district, date_from=date_from,
                                     date_to=date_to)
    except DomainError as exc:
        errors, _summary = form_errors(exc)
        district, date_from, date_to = None, default_from, default_to
        figures = bureau_figures(session=session, actor=who, date_from=date_from, date_to=date_to)
    charts = {
        "district": {"labels": [row["name"] for row in figures["by_district"]],
                     "values": [row["count"] for row in figures["by_district"]]},
        "months": {"labels": [row["month"] for row in figures["placements_by_month"]],
                   "values": [row["count"] for row in figures["placements_by_month"]]},
    }
    return render_template("web/admin/dashboard.html", figures=figures, districts=districts, charts=charts,
                           district=district, date_from=date_from, date_to=date_to, errors=errors,
                           statuses=[*lifecycle.PATH[1:], *lifecycle.ENDED, lifecycle.PATH[0]])


# ---- bases and their certification ---------------------------------------------------------------

@bp.route("/admin/bases")
@page(ADMIN)
def admin_bases():
    who, session = actor(), db.session
    status = request.args.get("status") or None
    filters: dict[str, Any] = {"sort": "name"}
    if status in {s.value for s in CertificationStatus}:
        filters["status"] = CertificationStatus(status)
    else:
        status = None
    if text(request.args, "q"):
        filters["q"] = text(request.args, "q")[:50]
    companies = session.scalars(list_companies(session=session, actor=who, filters=filters)).unique().all()
    return render_template("web/admin/bases.html", companies=companies, status=status,
                           statuses=[s.value for s in CertificationStatus], q=filters.get("q", ""))


def _base_page(company_id: int, *, errors=None, summary=None, failed=None, form=None, status: int = 200):
    who, session = actor(), db.session
    company = get_company(session=session, actor=who, company_id=company_id)
    return render_template(
        "web/admin/base.html", company=company,
        events=list_certification_events(session=session, actor=who, company_id=company.id),
        agreements=list_agreements(session=session, actor=who, company_id=company.id),
        errors=errors or {}, summary=summary, failed=failed, form=form or {}), status


@bp.route("/admin/bases/<id:company_id>")
@page(ADMIN)
def admin_base(company_id: int):
    return _base_page(company_id)


@bp.route("/admin/bases/<id:company_id>/certification", methods=["POST"])
@page(ADMIN)
def admin_base_decide(company_id: int):
    data: dict[str, Any] = {}
    for name in ("action", "valid_until", "reason"):
        put(data, request.form, name)
    try:
        with uow.savepoint():
            data = CertificationDecisionSchema().load(data)
            decide_certification(session=db.session, actor=actor(), company_id=company_id, **data)
    except (ValidationError, DomainError) as exc:
        if isinstance(exc, NotFound):
            raise
        errors, summary = form_errors(exc)
        return _base_page(company_id, errors=errors, summary=summary, failed=text(request.form, "action"),
                          form=request.form, status=error_status(exc))
    flash(_("The decision is recorded."), "info")
    return redirect(url_for("web.admin_base", company_id=company_id), 303)


@bp.route("/admin/bases/<id:company_id>/agreements", methods=["POST"])
@page(ADMIN)
def admin_base_agreement(company_id: int):
    data: dict[str, Any] = {}
    for name in ("reference_no", "signed_on", "term_months", "note"):
        put(data, request.form, name)
    try:
        with uow.savepoint():
            data = AgreementCreateSchema().load(data)
            add_agreement(session=db.session, actor=actor(), company_id=company_id, data=data)
    except (ValidationError, DomainError) as exc:
        if isinstance(exc, NotFound):
            raise
        errors, summary = form_errors(exc)
        return _base_page(company_id, errors=errors, summary=summary, failed="agreement", form=request.form,
                          status=error_status(exc))
    flash(_("The agreement is added."), "info")
    return redirect(url_for("web.admin_base", company_id=company_id), 303)


COMPANY_FIELDS = ("name", "credit_code", "industry", "address", "contact_name", "contact_phone", "description")


@bp.route("/admin/bases/new", methods=["GET", "POST"])
@page(ADMIN)
def admin_base_new():
    if request.method == "GET":
        return render_template("web/admin/base_form.html", form={}, errors={})
    data: dict[str, Any] = {}
    for name in COMPANY_FIELDS:
        put(data, request.form, name)
    if text(request.form, "place"):
        data["place"] = place_input(text(request.form, "place"))
    try:
        with uow.savepoint():
            data = CompanyCreateSchema().load(data)
            company = create_company(session=db.session, actor=actor(), data=data)
    except (ValidationError, DomainError) as exc:
        errors, summary = form_errors(exc)
        return render_template("web/admin/base_form.html", form=request.form, errors=errors,
                               summary=summary), error_status(exc)
    flash(_("The company is registered as an application; review and certify it."), "info")
    return redirect(url_for("web.admin_base", company_id=company.id), 303)


# ---- accounts ------------------------------------------------------------------------------------

def _accounts_page(*, form=None, errors=None, summary=None, status: int = 200):
    who, session = actor(), db.session
    role = request.args.get("role") or None
    if role not in {r.value for r in Role}:
        role = None
    accounts = session.scalars(list_accounts(session=session, actor=who, role=role)).unique().all()
    return render_template("web/admin/accounts.html", accounts=accounts, role=role, roles=[r.value for r in Role],
                           form=form or {"role": "caseworker"}, errors=errors or {}, summary=summary,
                           **_scope_choices()), status


def _scope_choices() -> dict:
    session = db.session
    return {"offices": session.scalars(list_offices(session=session, place=actor().bureau_code)).unique().all(),
            "companies": session.scalars(list_companies(session=session, actor=actor(),
                                                        filters={"sort": "name"})).unique().all()}


def _scope_fields(form, role: str) -> dict:
    """Only the scope field the role uses; the others are cleared."""
    data: dict[str, Any] = {"office_id": None, "company_id": None, "bureau_code": None}
    field = {"caseworker": "office_id", "employer": "company_id"}.get(role, "bureau_code")
    put(data, form, field, nullable=True)
    return data


@bp.route("/admin/accounts", methods=["GET", "POST"])
@page(ADMIN)
def admin_accounts():
    if request.method == "GET":
        return _accounts_page()
    form = request.form
    data: dict[str, Any] = {}
    for name in ("username", "display_name", "password", "role", "email"):
        put(data, form, name)
    data.update(_scope_fields(form, text(form, "role")))
    try:
        with uow.savepoint():
            data = AccountCreateSchema().load(data)
            account = create_account(session=db.session, actor=actor(), data=data)
    except (ValidationError, DomainError) as exc:
        errors, summary = form_errors(exc)
        return _accounts_page(form=form, errors=errors, summary=summary, status=error_status(exc))
    flash(_("The account %(username)s is created.", username=account.username), "info")
    return redirect(url_for("web.admin_accounts"), 303)


@bp.route("/admin/accounts/<id:account_id>", methods=["GET", "POST"])
@page(ADMIN)
def admin_account(account_id: int):
    who, session = actor(), db.session
    account = get_account(session=session, actor=who, account_id=account_id)
    if request.method == "GET":
        form = {"display_name": account.display_name, "email": account.email or "",
                "is_active": "on" if account.is_active_account else "",
                "office_id": account.office_id or "", "company_id": account.company_id or "",
                "bureau_code": account.bureau_code or ""}
        return render_template("web/admin/account.html", account=account, form=form, errors={},
                               locked=is_locked(account), **_scope_choices())
    form = request.form
    data: dict[str, Any] = {"is_active": form.get("is_active") in ("on", "true", "1")}
    put(data, form, "display_name")
    put(data, form, "email", nullable=True)  # emptied: no more emails
    put(data, form, "password")
    data.update(_scope_fields(form, account.role.value))
    if account.id == who.id and not data["is_active"]:
        errors = {"is_active": [_("You cannot deactivate your own account.")]}
        return render_template("web/admin/account.html", account=account, form=form, errors=errors,
                               summary=errors["is_active"][0], **_scope_choices()), 422
    try:
        with uow.savepoint():
            data = AccountUpdateSchema().load(data)
            update_account(session=session, actor=who, account_id=account.id, data=data)
    except (ValidationError, DomainError) as exc:
        errors, summary = form_errors(exc)
        account = get_account(session=session, actor=who, account_id=account_id)
        return render_template("web/admin/account.html", account=account, form=form, errors=errors,
                               summary=summary, **_scope_choices()), error_status(exc)
    flash(_("The account is saved."), "info")
    return redirect(url_for("web.admin_accounts"), 303)


@bp.route("/admin/accounts/<id:account_id>/unlock", methods=["POST"])
@page(ADMIN)
def admin_account_unlock(account_id: int):
    """Lift a lockout after too many failed logins."""
    account = unlock_account(session=db.session, actor=actor(), account_id=account_id)
    flash(_("%(username)s may log in again.", username=account.username), "info")
    return redirect(url_for("web.admin_account", account_id=account.id), 303)


# ---- scoring models ------------------------------------------------------------------------------

def _models_page(*, report=None, table=None, error=None, status: int = 200):
    records = list_models(session=db.session, actor=actor())
    models = [{"record": r, "card": json.loads(r.card_json)} for r in records]
    active = next((m for m in models if m["record"].active), None)
    return render_template("web/admin/models.html", models=models, active=active, report=report, table=table,
                           error=error), status


@bp.route("/admin/models")
@page(ADMIN)
def admin_models():
    return _models_page()


@bp.route("/admin/models/<version>/activate", methods=["POST"])
@page(ADMIN)
def admin_model_activate(version: str):
    try:
        with uow.savepoint():
            activate_model(session=db.session, actor=actor(), version=version)
    except DomainError as exc:
        if isinstance(exc, NotFound):
            raise
        _errors, summary = form_errors(exc)
        return _models_page(error=summary, status=error_status(exc))
    flash(_("Model %(version)s now scores every recommendation.", version=version), "info")
    return redirect(url_for("web.admin_models"), 303)


@bp.route("/admin/models/evaluate", methods=["POST"])
@page(ADMIN)
def admin_models_evaluate():
    from matcher.engine.evaluation import format_table

    try:
        with uow.savepoint():
            query = EvaluationQuerySchema().load({"horizon_days": text(request.form, "horizon_days") or "90"})
            report = evaluate(session=db.session, actor=actor(), **query)
    except (ValidationError, DomainError) as exc:
        _errors, summary = form_errors(exc)
        return _models_page(error=summary, status=error_status(exc))
    return _models_page(report=report, table=format_table(report))
