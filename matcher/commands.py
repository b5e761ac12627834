"""The command line's conventions, in one place.

- Every command is one unit of work (`matcher.uow`): it commits when it ends and rolls back when it fails. A
  broken rule of the domain ends it with "Error: ..." and its field or row details, exit status 1.
- A command that acts does so as an account: `--as USERNAME` names it (an active account), and by default it is
  the `system` account (`matcher.auth.service.system_account`), an administrator of every area that cannot log
  in, so the audit log says that the command line acted.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NoReturn

import click
from flask import g
from flask.cli import AppGroup

from matcher.errors import DomainError, translate, translate_errors
from matcher.extensions import db
from matcher.transfer.service import ROW_KEY
from matcher.uow import unit_of_work


def fail(exc: DomainError) -> NoReturn:
    """Print a domain error with its field or row details and stop with exit status 1."""
    click.echo(f"Error: {translate(exc.message)}", err=True)
    for line in error_lines(translate_errors(exc.errors)):
        click.echo(f"  {line}", err=True)
    raise SystemExit(1)


def error_lines(errors: dict) -> list[str]:
    lines = []
    for key, value in errors.items():
        if key == "rows" and isinstance(value, dict):
            for row, columns in value.items():
                for column, messages in columns.items():
                    where = "" if column == ROW_KEY else f" {column}:"
                    lines.extend(f"row {row}:{where} {message}" for message in messages)
        elif isinstance(value, dict):
            for column, messages in value.items():
                lines.extend(f"{key} {column}: {message}" for message in messages)
        else:
            lines.extend(f"{key}: {message}" for message in value)
    return lines


def in_unit_of_work(callback: Callable[..., Any]) -> Callable[..., Any]:
    """Run a command's callback as one unit of work; a DomainError ends it as `fail` says."""

    @functools.wraps(callback)
    def run(*args: Any, **kwargs: Any) -> Any:
        with unit_of_work():
            try:
                return callback(*args, **kwargs)
            except DomainError as exc:
                fail(exc)

    return run


class CommandGroup(AppGroup):
    """An AppGroup whose every command is one unit of work."""

    def command(self, *args: Any, **kwargs: Any):  # type: ignore[override]
        register = super().command(*args, **kwargs)
        return lambda callback: register(in_unit_of_work(callback))


def acting(callback: Callable[..., Any]) -> Callable[..., Any]:
    """Add `--as USERNAME` and pass the account as `actor` (default: the system account)."""

    @click.option("--as", "username", metavar="USERNAME", default=None,
                  help="Act as this active account (default: the system account).")
    @functools.wraps(callback)
    def with_actor(*args: Any, username: str | None = None, **kwargs: Any) -> Any:
        from matcher.auth.service import acting_account

        actor = acting_account(db.session, username)
        g.xintu_actor = (actor.id, str(actor.role))  # who the audit log names for the changes made (audit.changes)
        return callback(*args, actor=actor, **kwargs)

    return with_actor
