"""Base pages: the employer's profile of its base; the administrator's register of bases, a base's page with its
certification decisions and agreements, and registering a new base (the record and complaints are web/records.py).
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from matcher.auth.models import Role
from matcher.bases.models import CertificationStatus
from matcher.bases.schemas import (
    AgreementCreateSchema,
    CertificationDecisionSchema,
    CompanyCreateSchema,
    CompanyUpdateSchema,
)
from matcher.bases.service import (
    ALLOWED_FROM,
    add_agreement,
    create_company,
    decide_certification,
    get_company,
    list_agreements,
    list_certification_events,
    list_companies,
    update_company,
)
from matcher.extensions import db
from matcher.web.base import actor, bp, page
from matcher.web.forms import fields, int_in, place_input, run_form, text

ADMIN, EMPLOYER = Role.ADMINISTRATOR, Role.EMPLOYER
PROFILE_FIELDS = ("contact_name", "contact_phone", "address", "description")
BASES_PAGE_SIZE = 50
BASE_SORTS = ("name", "certified_until", "created_at")  # the register's sortable columns (list_companies)
COMPANY_FIELDS = ("name", "credit_code", "external_id", "industry", "address", "contact_name", "contact_phone",
                  "description")


# ---- the employer's profile ----------------------------------------------------------------------

@bp.route("/employer/profile", methods=["GET", "POST"])
@page(EMPLOYER)
def employer_profile():
    who = actor()
    company = get_company(session=db.session, actor=who, company_id=who.company_id)
    if request.method == "GET":
        form = {name: getattr(company, name) or "" for name in PROFILE_FIELDS}
        return render_template("web/employer/profile.html", company=company, form=form, errors={})
    data = {name: text(request.form, name) for name in ("contact_name", "address", "description")}
    data.update(fields(request.form, "contact_phone"))  # a phone number cannot be blank; empty keeps the old one
    outcome = run_form(lambda loaded: update_company(session=db.session, actor=who, company_id=company.id,
                                                     data=loaded), data, schema=CompanyUpdateSchema(partial=True))
    if not outcome.ok:
        return render_template("web/employer/profile.html", company=company, form=request.form,
                               errors=outcome.errors, summary=outcome.summary), outcome.status
    flash(_("The profile is saved."), "info")
    return redirect(url_for("web.employer_home"), 303)


# ---- the administrator's register and certification -------------------------------------------

@bp.route("/admin/bases")
@page(ADMIN)
def admin_bases():
    status = request.args.get("status") or None
    sort = request.args.get("sort", "")
    filters: dict[str, Any] = {"sort": sort if sort.lstrip("-") in BASE_SORTS else "name"}
    if status in {s.value for s in CertificationStatus}:
        filters["status"] = CertificationStatus(status)
    else:
        status = None
    if text(request.args, "q"):
        filters["q"] = text(request.args, "q")[:50]
    paging = db.paginate(list_companies(session=db.session, actor=actor(), filters=filters),
                         page=int_in(request.args.get("page"), high=10**6) or 1, per_page=BASES_PAGE_SIZE,
                         error_out=False)
    return render_template("web/admin/bases.html", companies=paging.items, paging=paging, status=status,
                           statuses=[s.value for s in CertificationStatus], q=filters.get("q", ""))


def _reason_actions(company) -> list[tuple[str, str, str]]:
    """The decisions that need a reason and may be taken now, as (action, button, the reason box's label): each
    box is labelled for its own decision (several may be on the page at once)."""
    status = company.effective_status()
    actions = [("refuse", _("Refuse certification"), _("Why the base is not certified")),
               ("suspend", _("Suspend"), _("Why the certification is suspended")),
               ("revoke", _("Revoke"), _("Why the certification is revoked"))]
    return [action for action in actions if status in ALLOWED_FROM[action[0]]]


def _base_page(company_id: int, *, errors=None, summary=None, failed=None, form=None, status: int = 200):
    who, session = actor(), db.session
    company = get_company(session=session, actor=who, company_id=company_id)
    return render_template(
        "web/admin/base.html", company=company, reason_actions=_reason_actions(company),
        can_certify=company.effective_status() in ALLOWED_FROM["certify"],
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
    outcome = run_form(lambda data: decide_certification(session=db.session, actor=actor(), company_id=company_id,
                                                         **data),
                       fields(request.form, "action", "valid_until", "reason"), schema=CertificationDecisionSchema())
    if not outcome.ok:
        return _base_page(company_id, errors=outcome.errors, summary=outcome.summary,
                          failed=text(request.form, "action"), form=request.form, status=outcome.status)
    flash(_("The decision is recorded."), "info")
    return redirect(url_for("web.admin_base", company_id=company_id), 303)


@bp.route("/admin/bases/<id:company_id>/agreements", methods=["POST"])
@page(ADMIN)
def admin_base_agreement(company_id: int):
    outcome = run_form(lambda data: add_agreement(session=db.session, actor=actor(), company_id=company_id,
                                                  data=data),
                       fields(request.form, "reference_no", "signed_on", "term_months", "note"),
                       schema=AgreementCreateSchema())
    if not outcome.ok:
        return _base_page(company_id, errors=outcome.errors, summary=outcome.summary, failed="agreement",
                          form=request.form, status=outcome.status)
    flash(_("The agreement is added."), "info")
    return redirect(url_for("web.admin_base", company_id=company_id), 303)


@bp.route("/admin/bases/new", methods=["GET", "POST"])
@page(ADMIN)
def admin_base_new():
    if request.method == "GET":
        return render_template("web/admin/base_form.html", form={}, errors={})
    data: dict[str, Any] = fields(request.form, *COMPANY_FIELDS)
    if text(request.form, "place"):
        data["place"] = place_input(text(request.form, "place"))
    outcome = run_form(lambda loaded: create_company(session=db.session, actor=actor(), data=loaded), data,
                       schema=CompanyCreateSchema())
    if not outcome.ok:
        return render_template("web/admin/base_form.html", form=request.form, errors=outcome.errors,
                               summary=outcome.summary), outcome.status
    flash(_("The company is registered as an application; review and certify it."), "info")
    return redirect(url_for("web.admin_base", company_id=outcome.value.id), 303)
