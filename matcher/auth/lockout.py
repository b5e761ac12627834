"""Logging in with lockout: after LOGIN_MAX_FAILURES wrong passwords in a row from one client address, that
address may not log in to the account for LOGIN_LOCKOUT_MINUTES; a success from the address resets its count and
administrators can unlock at once (every address).

The lock is per account and address: one that held for every address would let anyone lock any account they
know the name of (the administrators' included) for everybody, by typing wrong passwords.

The answer never tells whether an account exists: a wrong password, an unknown username, an inactive
account and a locked one all answer the same "Wrong username or password." (a locked account's password is
still checked, for the same timing, but never accepted). A distinct "locked" answer would tell an attacker
which usernames exist (unknown ones never lock), so the lockout policy is stated on the login page instead.
Every refusal is audited by the account's id, never the username typed; a refusal because of the lock as
`login_locked`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash

from matcher import clock, uow
from matcher.audit.service import record as audit
from matcher.auth.models import Account, LoginLock
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
    """Some address is locked out of the account now."""
    return account.locked_until is not None and account.locked_until > (now or clock.now())


def _address_key(address: str) -> str:
    """A client address is personal information: only a keyed hash of it is stored, enough to know it again."""
    secret = current_app.config["SECRET_KEY"]
    key = secret if isinstance(secret, bytes) else str(secret).encode()
    return hmac.new(key, address.encode(), hashlib.sha256).hexdigest()


def log_in(*, session: Session, username: str, password: str, address: str) -> Account:
    """authenticate(), with the failure count and the lockout of this account from this client `address` (the
    request's remote address, as the login throttling sees it) around it. A refusal's count and audit stand
    although the unit of work of the failed login is rolled back (`uow.keep`)."""
    account = session.scalar(select(Account).where(Account.username == username))
    now = clock.now()
    key = _address_key(address)
    lock = session.get(LoginLock, (account.id, key)) if account is not None else None
    if lock is not None and lock.locked_until is not None and lock.locked_until > now:
        check_password_hash(_DUMMY_HASH, password)  # the same work as any other attempt
        account_id = account.id
        uow.keep(lambda kept: audit(kept, actor=None, action="login_locked", object_type="account",
                                    object_id=account_id))
        raise LoginRefused(WRONG_MESSAGE, locked=True)
    failures_before = lock.failed_logins if lock is not None else 0
    try:
        account = authenticate(session=session, username=username, password=password)
    except Unauthorized as exc:
        if account is None:
            raise LoginRefused(exc.message) from None
        max_failures, minutes = _limits()
        account_id, locked_until = account.id, now + dt.timedelta(minutes=minutes)
        uow.keep(lambda kept: _count_failure(kept, account_id, key, max_failures, locked_until))
        if failures_before + 1 >= max_failures:
            raise LoginRefused(WRONG_MESSAGE, locked=True) from None
        raise LoginRefused(exc.message) from None
    # A success forgets this address's failures, and every lock of the account that is over with no failure
    # since (so the account's locked_until shows a lock that still means something).
    session.execute(delete(LoginLock).where(LoginLock.account_id == account.id, or_(
        LoginLock.address == key, and_(LoginLock.failed_logins == 0, LoginLock.locked_until <= now))))
    uow.flush(session)
    return account


def _count_failure(session: Session, account_id: int, key: str, max_failures: int,
                   locked_until: dt.datetime) -> None:
    """One more failure from the address; the one that reaches `max_failures` locks the address out until
    `locked_until`. Concurrent attempts never lose a count: one UPDATE adds it; the first failure inserts the row
    instead, and when a concurrent first failure inserted it just before, this one adds its count by the UPDATE
    after all."""
    where = (LoginLock.account_id == account_id, LoginLock.address == key)
    add_one = update(LoginLock).where(*where).values(failed_logins=LoginLock.failed_logins + 1)
    if session.execute(add_one).rowcount == 0:
        try:
            with session.begin_nested():
                session.add(LoginLock(account_id=account_id, address=key, failed_logins=1))
        except IntegrityError:
            session.execute(add_one)
    lock = session.scalars(select(LoginLock).where(*where).execution_options(populate_existing=True)).one()
    if lock.failed_logins >= max_failures:
        lock.locked_until = locked_until
        lock.failed_logins = 0
        audit(session, actor=None, action="lock", object_type="account", object_id=account_id)


def unlock_account(*, session: Session, actor: Account, account_id: int) -> Account:
    """Administrators: lift every lock of the account (and forget the failed attempts) at once."""
    account = get_account(session=session, actor=actor, account_id=account_id)
    session.execute(delete(LoginLock).where(LoginLock.account_id == account.id))
    audit(session, actor=actor, action="unlock", object_type="account", object_id=account.id)
    uow.flush(session)
    return account
