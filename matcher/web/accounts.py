"""Account pages (administrators): the accounts of the area, creating one, editing one, lifting a lockout."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from matcher.auth.lockout import is_locked, unlock_account
from matcher.auth.models import Role
from matcher.auth.schemas import AccountCreateSchema, AccountUpdateSchema
from matcher.auth.service import create_account, find_accounts, get_account, update_account
from matcher.bases.service import find_companies
from matcher.errors import DomainError
from matcher.extensions import db
from matcher.offices.service import find_offices
from matcher.places.service import get_place
from matcher.web.base import actor, bp, page
from matcher.web.forms import fields, run_form, text

ADMIN = Role.ADMINISTRATOR


def _accounts_page(*, form=None, errors=None, summary=None, status: int = 200):
    role = request.args.get("role") or None
    if role not in {r.value for r in Role}:
        role = None
    accounts = find_accounts(session=db.session, actor=actor(), role=role, q=text(request.args, "q")[:100] or None,
                             sort=text(request.args, "sort") or None)
    choices = _scope_choices()
    return render_template("web/admin/accounts.html", accounts=accounts, role=role, roles=[r.value for r in Role],
                           form=form or {"role": "caseworker"}, errors=errors or {}, summary=summary,
                           scope_names=_scope_names(accounts, choices["companies"]), **choices), status


def _scope_names(accounts, companies) -> dict[int, str]:
    """Each account's scope in words: its office, its base, or its bureau's area (never a bare code or id)."""
    bases = {company.id: company.name for company in companies}
    areas: dict[str, str] = {}
    names = {}
    for account in accounts:
        if account.office is not None:
            names[account.id] = account.office.name
        elif account.company_id:
            names[account.id] = bases.get(account.company_id) or _("Base #%(id)s", id=account.company_id)
        elif account.bureau_code:
            if account.bureau_code not in areas:
                try:
                    areas[account.bureau_code] = get_place(session=db.session, code=account.bureau_code).full_name
                except DomainError:
                    areas[account.bureau_code] = account.bureau_code
            names[account.id] = areas[account.bureau_code]
    return names


def _scope_choices() -> dict:
    return {"offices": find_offices(session=db.session, place=actor().bureau_code),
            "companies": find_companies(session=db.session, actor=actor(), filters={"sort": "name"})}


def _scope_fields(form, role: str) -> dict:
    """Only the scope field the role uses; the others are cleared."""
    field = {"caseworker": "office_id", "employer": "company_id"}.get(role, "bureau_code")
    return {"office_id": None, "company_id": None, "bureau_code": None, **fields(form, field, nullable=(field,))}


@bp.route("/admin/accounts", methods=["GET", "POST"])
@page(ADMIN)
def admin_accounts():
    if request.method == "GET":
        return _accounts_page()
    form = request.form
    data: dict[str, Any] = fields(form, "username", "display_name", "password", "role", "email")
    data.update(_scope_fields(form, text(form, "role")))
    outcome = run_form(lambda loaded: create_account(session=db.session, actor=actor(), data=loaded), data,
                       schema=AccountCreateSchema())
    if not outcome.ok:
        return _accounts_page(form=form, errors=outcome.errors, summary=outcome.summary, status=outcome.status)
    flash(_("The account %(username)s is created.", username=outcome.value.username), "info")
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
    data.update(fields(form, "display_name", "email", "password", nullable=("email",)))  # no email: no more emails
    data.update(_scope_fields(form, account.role.value))
    if account.id == who.id and not data["is_active"]:
        errors = {"is_active": [_("You cannot deactivate your own account.")]}
        return render_template("web/admin/account.html", account=account, form=form, errors=errors,
                               summary=errors["is_active"][0], **_scope_choices()), 422
    outcome = run_form(lambda loaded: update_account(session=session, actor=who, account_id=account.id,
                                                     data=loaded), data, schema=AccountUpdateSchema())
    if not outcome.ok:
        account = get_account(session=session, actor=who, account_id=account_id)
        return render_template("web/admin/account.html", account=account, form=form, errors=outcome.errors,
                               summary=outcome.summary, **_scope_choices()), outcome.status
    flash(_("The account is saved."), "info")
    return redirect(url_for("web.admin_accounts"), 303)


@bp.route("/admin/accounts/<id:account_id>/unlock", methods=["POST"])
@page(ADMIN)
def admin_account_unlock(account_id: int):
    """Lift a lockout after too many failed logins."""
    account = unlock_account(session=db.session, actor=actor(), account_id=account_id)
    flash(_("%(username)s may log in again.", username=account.username), "info")
    return redirect(url_for("web.admin_account", account_id=account.id), 303)
