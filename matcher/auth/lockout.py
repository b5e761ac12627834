"""Logging in with lockout: after LOGIN_MAX_FAILURES wrong passwords an account refuses logins for
LOGIN_LOCKOUT_MINUTES; a success resets the count and administrators can unlock at once.

The answer never tells whether an account exists: a wrong password, an unknown username, an inactive
account and a locked one all answer the same "Wrong username or password." (a locked account's password is
still checked, for the same timing, but never accepted). A distinct "locked" answer would tell an attacker
which usernames exist (unknown ones never lock), so the lockout policy is stated on the login page instead.
Every refusal is audited; a refusal because of the lock as `login_locked`.
"""

from __future__ import annotations

import datetime as dt

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash

from matcher import clock
from matcher.audit.service import record as audit
from matcher.auth.models import Account
from matcher.auth.service import _DUMMY_HASH, authenticate, get_account
from matcher.errors import Unauthorized

WRONG_MESSAGE = _l("Wrong username or password.")


class LoginRefused(Unauthorized):
    """A failed login; `locked` says the account is locked (the page shows the hint)."""

    def __init__(self, message, *, locked: bool = False):
        super().__init__(message)
        self.locked = locked


def _limits() -> tuple[int, int]:
    config = current_app.config
    return int(config.get("LOGIN_MAX_FAILURES", 5)), int(config.get("LOGIN_LOCKOUT_MINUTES", 15))


def is_locked(account: Account, now: dt.datetime | None = None) -> bool:
    return account.locked_until is not None and account.locked_until > (now or clock.now())


def log_in(*, session: Session, username: str, password: str) -> Account:
    """authenticate(), with the failure count and the lockout around it."""
    account = session.scalar(select(Account).where(Account.username == username))
    now = clock.now()
    if account is not None and is_locked(account, now):
        check_password_hash(_DUMMY_HASH, password)  # the same work as any other attempt
        audit(session, actor=None, action="login_locked", object_type="account", object_id=account.id)
        session.commit()
        raise LoginRefused(WRONG_MESSAGE, locked=True)
    try:
        account = authenticate(session=session, username=username, password=password)
    except Unauthorized as exc:
        if account is None:
            raise LoginRefused(exc.message) from None
        max_failures, minutes = _limits()
        # One UPDATE adds the failure, so concurrent attempts cannot lose a count.
        session.execute(update(Account).where(Account.id == account.id)
                        .values(failed_logins=Account.failed_logins + 1))
        session.commit()
        session.refresh(account)
        if account.failed_logins >= max_failures:
            account.locked_until = now + dt.timedelta(minutes=minutes)
            account.failed_logins = 0
            audit(session, actor=None, action="lock", object_type="account", object_id=account.id)
            session.commit()
            raise LoginRefused(WRONG_MESSAGE, locked=True) from None
        raise LoginRefused(exc.message) from None
    if account.failed_logins or account.locked_until is not None:
        account.failed_logins = 0
        account.locked_until = None
        session.commit()
    return account


def unlock_account(*, session: Session, actor: Account, account_id: int) -> Account:
    """Administrators: lift a lockout (and forget the failed attempts) at once."""
    account = get_account(session=session, actor=actor, account_id=account_id)
    account.failed_logins = 0
    account.locked_until = None
    audit(session, actor=actor, action="unlock", object_type="account", object_id=account.id)
    session.commit()
    return account
