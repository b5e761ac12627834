"""`flask --app matcher accounts create|list|set-password|deactivate`: accounts from the command line, over the
services the account pages use, acting (and audited) as the system account unless `--as` names another
administrator."""

from __future__ import annotations

import sys

import click
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError

from matcher.auth.models import Role
from matcher.auth.schemas import AccountCreateSchema, AccountUpdateSchema
from matcher.auth.service import account_named, create_account, find_accounts, update_account
from matcher.commands import CommandGroup, acting
from matcher.errors import Invalid
from matcher.extensions import db

accounts_cli = CommandGroup("accounts", help="Create, list, change the password of and deactivate accounts.")

ROLES = [role.value for role in Role]
# The scope field each role needs, as the account page asks for it (matcher.web.accounts._scope_fields).
SCOPE_OPTION = {"caseworker": "office_id", "employer": "company_id"}
SCOPE_FLAGS = {"office_id": "--office", "company_id": "--company", "bureau_code": "--bureau"}


def _load(schema, data: dict) -> dict:
    try:
        return schema.load(data)
    except ValidationError as exc:
        raise Invalid(_l("Some fields are not valid."), errors=exc.messages) from None


def read_password(from_stdin: bool) -> str:
    """The password, never from the command line itself (it would stay in the shell's history and be seen by
    `ps`): typed twice without echo, or the first line of standard input (`--password-stdin`, for scripts)."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


def _scope(role: str, bureau: str | None, office: int | None, company: int | None) -> dict:
    """Only the scope the role uses (as the account page does); an option the role does not use is refused
    rather than dropped, so a mistyped command says so."""
    given = {"office_id": office, "company_id": company, "bureau_code": bureau}
    needed = SCOPE_OPTION.get(role, "bureau_code")
    extra = {field: [_l("A %(role)s account does not take %(option)s.", role=role, option=SCOPE_FLAGS[field])]
             for field, value in given.items() if value is not None and field != needed}
    if extra:
        raise Invalid(_l("Some fields are not valid."), errors=extra)
    return {"office_id": None, "company_id": None, "bureau_code": None, needed: given[needed]}


@accounts_cli.command("create")
@click.option("--username", "new_username", required=True, help="3 to 60 letters, digits, _ . or -.")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--display-name", required=True, help="The name the pages show.")
@click.option("--bureau", metavar="CODE", help="Administrators and organisers: the bureau's place code (city or "
                                               "district, e.g. 330782).")
@click.option("--office", type=int, metavar="ID", help="Caseworkers: the judicial office's id.")
@click.option("--company", type=int, metavar="ID", help="Employers: the base's id.")
@click.option("--email", default=None, help="Where notifications are also emailed (optional).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input's first line instead "
                                                     "of asking for it twice.")
@acting
def create(new_username: str, role: str, display_name: str, bureau: str | None, office: int | None,
           company: int | None, email: str | None, password_stdin: bool, actor) -> None:
    """Create an account with its role and scope (at least 10 characters of password, asked for twice)."""
    data = {"username": new_username, "role": role, "display_name": display_name, "email": email,
            **_scope(role, bureau, office, company)}
    data = _load(AccountCreateSchema(), {**data, "password": read_password(password_stdin)})
    account = create_account(session=db.session, actor=actor, data=data)
    click.echo(gettext("Created the %(role)s account %(username)s (#%(id)s).", role=account.role.value,
                       username=account.username, id=account.id))


@accounts_cli.command("list")
@click.option("--role", type=click.Choice(ROLES), default=None, help="Only this role.")
@acting
def list_(role: str | None, actor) -> None:
    """The accounts of your area: id, username, role, scope, active, last login (no names, no emails)."""
    rows = [("id", "username", "role", "scope", "active", "last login")]
    for account in find_accounts(session=db.session, actor=actor, role=role):
        scope = (f"office {account.office_id}" if account.office_id else
                 f"company {account.company_id}" if account.company_id else f"bureau {account.bureau_code}")
        last_login = account.last_login_at.date().isoformat() if account.last_login_at else "-"
        rows.append((str(account.id), account.username, account.role.value, scope,
                     "yes" if account.is_active_account else "no", last_login))
    widths = [max(len(row[index]) for row in rows) for index in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


@accounts_cli.command("set-password")
@click.argument("account_username", metavar="USERNAME")
@click.option("--password-stdin", is_flag=True, help="Read the new password from standard input's first line.")
@acting
def set_password(account_username: str, password_stdin: bool, actor) -> None:
    """Give USERNAME a new password (it ends the account's API tokens and page sessions)."""
    account = account_named(session=db.session, actor=actor, username=account_username)
    data = _load(AccountUpdateSchema(), {"password": read_password(password_stdin)})
    update_account(session=db.session, actor=actor, account_id=account.id, data=data)
    click.echo(gettext("The password of %(username)s is changed.", username=account_username))


@accounts_cli.command("deactivate")
@click.argument("account_username", metavar="USERNAME")
@acting
def deactivate(account_username: str, actor) -> None:
    """Stop USERNAME from logging in (its API tokens end; the account and its history stay)."""
    account = account_named(session=db.session, actor=actor, username=account_username)
    update_account(session=db.session, actor=actor, account_id=account.id, data={"is_active_account": False})
    click.echo(gettext("%(username)s can no longer log in.", username=account_username))
