"""The command line's conventions, in one place.

- Every command is one unit of work (`matcher.uow`): it commits when it ends and rolls back when it fails. A
  broken rule of the domain ends it with "Error: ..." and its field or row details, exit status 1.
- A command that acts does so as an account: `--as USERNAME` names it (an active account), and by default it is
  the `system` account (`matcher.auth.service.system_account`), an administrator of every area that cannot log
  in, so the audit log says that the command line acted.
- A command speaks the user's language (`cli_locale`): `--lang zh|en` when given, else the shell's locale
  (LC_ALL, LC_MESSAGES, LANG: zh_* is Chinese, anything else English). Messages of the services are translated
  under it, and so are the errors `fail` prints.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any, NoReturn

import click
from flask import g
from flask.cli import AppGroup
from flask_babel import force_locale, get_locale, gettext

from matcher.errors import DomainError, translate, translate_errors
from matcher.extensions import db
from matcher.transfer.service import ROW_KEY
from matcher.uow import unit_of_work


def fail(exc: DomainError) -> NoReturn:
    """Print a domain error with its field or row details and stop with exit status 1."""
    click.echo(gettext("Error: %(message)s", message=translate(exc.message)), err=True)
    for line in error_lines(translate_errors(exc.errors)):
        click.echo(f"  {line}", err=True)
    raise SystemExit(1)


def error_lines(errors: dict) -> list[str]:
    lines = []
    for key, value in errors.items():
        if key == "rows" and isinstance(value, dict):
            for row, columns in value.items():
                for column, messages in columns.items():
                    lines.extend(gettext("row %(row)s: %(message)s", row=row, message=message) if column == ROW_KEY
                                 else gettext("row %(row)s: %(column)s: %(message)s", row=row, column=column,
                                              message=message) for message in messages)
        elif isinstance(value, dict):
            for column, messages in value.items():
                lines.extend(f"{key} {column}: {message}" for message in messages)
        else:
            lines.extend(f"{key}: {message}" for message in value)
    return lines


CHINESE, ENGLISH = "zh_CN", "en"
LANGUAGES = {"zh": CHINESE, "en": ENGLISH}
# The environment variables that name the messages' locale, strongest first (POSIX's order).
LOCALE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG")


def cli_locale(lang: str | None = None, environ: Any = None) -> str:
    """The one decision of the command line's language: `--lang` when given, else the first locale variable
    set (zh_CN.UTF-8, zh_TW ...: Chinese; C, en_US.UTF-8 ...: English), else English. Not the app's default
    locale: that is the pages' language, and a clerk at a shell says which they read with LANG."""
    if lang:
        return LANGUAGES[lang]
    environ = os.environ if environ is None else environ
    for name in LOCALE_VARIABLES:
        value = environ.get(name)
        if value:
            return CHINESE if value.lower().startswith("zh") else ENGLISH
    return ENGLISH


def current_language() -> str:
    """zh or en: the language the running command speaks, for a file it writes in one."""
    return "zh" if str(get_locale() or ENGLISH).startswith("zh") else "en"


def in_unit_of_work(callback: Callable[..., Any]) -> Callable[..., Any]:
    """Run a command's callback as one unit of work in the user's language (`--lang`, `cli_locale`); a
    DomainError ends it as `fail` says."""

    def run(*args: Any, lang: str | None = None, **kwargs: Any) -> Any:
        with force_locale(cli_locale(lang)), unit_of_work():
            try:
                return callback(*args, **kwargs)
            except DomainError as exc:
                fail(exc)

    functools.update_wrapper(run, callback)
    # A list of its own: adding --lang must not change the callback's options.
    run.__click_params__ = list(getattr(callback, "__click_params__", []))  # type: ignore[attr-defined]
    return click.option("--lang", type=click.Choice(sorted(LANGUAGES)), default=None,
                        help="Language of the messages: zh or en (default: from LC_ALL / LANG, else en).")(run)


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
