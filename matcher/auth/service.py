"""Logging in, issuing and checking bearer tokens, and managing accounts."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, undefer
from werkzeug.security import check_password_hash, generate_password_hash

from matcher import clock, policy, uow
from matcher.audit.service import record as audit
from matcher.auth.models import SYSTEM_USERNAME, Account, ApiToken, Role
from matcher.bases.models import Company
from matcher.errors import Conflict, Invalid, NotFound, Unauthorized
from matcher.offices.models import JudicialOffice
from matcher.places.models import Place

# A fixed hash to compare against when the user does not exist, so timing does not reveal usernames.
_DUMMY_HASH = generate_password_hash("not-a-real-password")
UNUSABLE_PASSWORD = "!"  # no password hashes to it: werkzeug hashes start with a method name


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config.get("PASSWORD_HASH_METHOD", "scrypt"))


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def authenticate(*, session: Session, username: str, password: str) -> Account:
    account = session.scalar(select(Account).where(Account.username == username))
    if account is None:
        check_password_hash(_DUMMY_HASH, password)
        _audit_login(session, None, ok=False)
        raise Unauthorized(_l("Wrong username or password."))
    stored = _DUMMY_HASH if account.is_system else account.password_hash  # the same work, never a match
    if not check_password_hash(stored, password) or account.is_system or not account.is_active:
        _audit_login(session, account, ok=False)
        raise Unauthorized(_l("Wrong username or password."))
    account.last_login_at = clock.now()
    audit(session, actor=account, action="login", object_type="account", object_id=account.id)
    uow.flush(session)
    return account


def _audit_login(session: Session, account: Account | None, *, ok: bool) -> None:
    """A failed login is audited although its unit of work fails (`uow.keep`); never the password or the
    username typed (an unknown username is recorded as object_id None)."""
    account_id = account.id if account is not None else None
    uow.keep(lambda kept: audit(kept, actor=None, action="login" if ok else "login_failed", object_type="account",
                                object_id=account_id), session)


def issue_token(*, session: Session, account: Account, ttl_days: int, name: str = "api") -> tuple[str, ApiToken]:
    """Returns the token (shown once) and its stored record."""
    token = "xt_" + secrets.token_urlsafe(32)
    record = ApiToken(
        account_id=account.id,
        token_hash=hash_token(token),
        name=name,
        expires_at=clock.now() + dt.timedelta(days=ttl_days),
    )
    session.add(record)
    session.flush()
    audit(session, actor=account, action="issue_token", object_type="api_token", object_id=record.id)
    uow.flush(session)
    return token, record


def account_for_token(*, session: Session, token: str) -> Account | None:
    record = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    now = clock.now()
    if record is None or record.revoked_at is not None or record.expires_at < now:
        return None
    if not record.account.is_active:
        return None
    # Touch at most once a minute: a token used in a loop should not write on every call.
    if record.last_used_at is None or now - record.last_used_at > dt.timedelta(minutes=1):
        session.execute(update(ApiToken).where(ApiToken.id == record.id).values(last_used_at=now))
        uow.flush(session)
    return record.account


def revoke_token(*, session: Session, token: str) -> None:
    record = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token),
                                                   ApiToken.revoked_at.is_(None)))
    if record is None:
        return
    record.revoked_at = clock.now()
    audit(session, actor=record.account, action="revoke_token", object_type="api_token", object_id=record.id)
    uow.flush(session)


def _revoke_all_tokens(session: Session, account: Account) -> int:
    """A new password ends every API token of the account too (a leaked token must not outlive the password
    change meant to shut out whoever had the old one), and so does a deactivation (for good: reactivating the
    account must not bring back tokens that were out of its holder's hands meanwhile)."""
    return session.execute(update(ApiToken).where(ApiToken.account_id == account.id, ApiToken.revoked_at.is_(None))
                           .values(revoked_at=clock.now())).rowcount


# The columns the accounts list may be sorted by (`sort`, "-" in front for descending; by id when not given).
ACCOUNT_SORT = {"username": Account.username, "display_name": Account.display_name, "role": Account.role,
                "last_login_at": Account.last_login_at}


def list_accounts(*, session: Session, actor: Account, role: str | None = None, q: str | None = None,
                  sort: str | None = None):
    """The accounts of the actor's area; `q`: any part of the username or the name; `sort`: a column."""
    policy.require(actor, policy.Rule.ACCOUNT_MANAGE, object_type="account")
    stmt = policy.accounts(actor).options(undefer(Account.locked_until))  # one query
    if role:
        stmt = stmt.where(Account.role == Role(role))
    if q and q.strip():
        stmt = stmt.where(or_(Account.username.contains(q.strip(), autoescape=True),
                              Account.display_name.contains(q.strip(), autoescape=True)))
    if sort and sort.lstrip("-") in ACCOUNT_SORT:  # as matcher.apiutil.apply_sort (which imports this module)
        column = ACCOUNT_SORT[sort.lstrip("-")]
        return stmt.order_by(column.desc() if sort.startswith("-") else column.asc(), Account.id)
    return stmt.order_by(Account.id)


def get_account(*, session: Session, actor: Account, account_id: int) -> Account:
    policy.require(actor, policy.Rule.ACCOUNT_MANAGE, object_type="account", object_id=account_id)
    return policy.find(session, actor, policy.accounts(actor), Account, account_id, _l("No such account."),
                       object_type="account")


def system_account(session: Session) -> Account:
    """The `system` account, made on first use: an administrator of every area (its bureau is the top of the
    places) whose password hash matches no password, so nobody logs in as it."""
    account = session.scalar(select(Account).where(Account.username == SYSTEM_USERNAME))
    if account is not None:
        return account
    top = session.scalar(select(Place.code).order_by(func.length(Place.code), Place.code).limit(1))
    if top is None:
        raise NotFound(_l("Load the reference data first: flask --app matcher seed reference."))
    account = Account(username=SYSTEM_USERNAME, display_name="系统（命令行）", role=Role.ADMINISTRATOR,
                      bureau_code=top, password_hash=UNUSABLE_PASSWORD)
    session.add(account)
    session.flush()
    audit(session, actor=None, action="create", object_type="account", object_id=account.id, fields=("username",))
    return account


def acting_account(session: Session, username: str | None) -> Account:
    """Who a command acts as: the named active account, else the system account."""
    if not username:
        return system_account(session)
    account = session.scalar(select(Account).where(Account.username == username))
    if account is None or not account.is_active:
        raise NotFound(_l("No active account is called %(name)s. `flask --app matcher accounts list` shows the "
                          "accounts; `flask --app matcher accounts create` makes one.", name=username))
    return account


def account_named(*, session: Session, actor: Account, username: str) -> Account:
    """An account of the actor's area by its username (the command line names accounts so)."""
    policy.require(actor, policy.Rule.ACCOUNT_MANAGE, object_type="account")
    account = session.scalar(policy.accounts(actor).where(Account.username == username))
    if account is None:
        raise NotFound(_l("No account is called %(name)s.", name=username))
    return account


def create_account(*, session: Session, actor: Account | None, data: dict) -> Account:
    """Administrators create accounts; `actor=None` is the CLI and the demo seed."""
    if actor is not None:
        policy.require(actor, policy.Rule.ACCOUNT_MANAGE, object_type="account")
    data = dict(data)
    password = data.pop("password")
    account = Account(password_hash=hash_password(password), **data)
    _check_scope_fields(session, account, actor)
    if session.scalar(select(Account.id).where(Account.username == account.username)) is not None:
        raise Conflict(_l("That username is taken."), field="username")
    session.add(account)
    try:
        session.flush()
        audit(session, actor=actor, action="create", object_type="account", object_id=account.id,
              fields=sorted(set(data) | {"password"}))
        uow.flush(session)
    except IntegrityError:  # the same username, taken a moment ago by someone else
        raise Conflict(_l("That username is taken."), field="username") from None
    return account


def update_account(*, session: Session, actor: Account, account_id: int, data: dict) -> Account:
    account = get_account(session=session, actor=actor, account_id=account_id)
    if account.is_system:
        # What the command line acts as: a password would let someone log in as it (authenticate refuses it
        # anyway), a deactivation would stop every command.
        raise Invalid(_l("The system account cannot be changed."))
    data = dict(data)
    if account.id == actor.id and data.get("is_active_account") is False:
        # The last administrator locking themselves out would leave nobody to undo it.
        raise Invalid(_l("You cannot deactivate your own account."), field="is_active")
    changed = {key for key, value in data.items() if key == "password" or getattr(account, key, None) != value}
    if "password" in data:
        account.password_hash = hash_password(data.pop("password"))
        if _revoke_all_tokens(session, account):
            changed.add("api_tokens")
    for key, value in data.items():
        setattr(account, key, value)
    _check_scope_fields(session, account, actor)
    deactivated = data.get("is_active_account") is False and "is_active_account" in changed
    if deactivated and _revoke_all_tokens(session, account):
        changed.add("api_tokens")
    action = "deactivate" if deactivated else "update"
    audit(session, actor=actor, action=action, object_type="account", object_id=account.id, fields=changed)
    uow.flush(session)
    return account


def _check_scope_fields(session: Session, account: Account, actor: Account | None = None) -> None:
    """The role's scope field is set and names something that exists, in the administrator's area."""
    needed = {
        Role.CASEWORKER: ("office_id", _l("A caseworker belongs to a judicial office.")),
        Role.EMPLOYER: ("company_id", _l("An employer account belongs to a company.")),
        Role.ORGANISER: ("bureau_code", _l("An organiser works for a bureau (a city or district).")),
        Role.ADMINISTRATOR: ("bureau_code", _l("An administrator works for a bureau (a city or district).")),
    }
    scope_field, message = needed[account.role]
    if getattr(account, scope_field) is None:
        raise Invalid(message, field=scope_field)
    # Every scope field that is set must name something that exists, not only the role's own: another
    # role's field set to nothing would otherwise reach the database's foreign key (a 500).
    for field, model in (("office_id", JudicialOffice), ("company_id", Company), ("bureau_code", Place)):
        value = getattr(account, field)
        if value is None:
            continue
        with session.no_autoflush:  # look before the changed account reaches the database
            exists = session.get(model, value) is not None
        if not exists:
            raise Invalid(_l("%(value)s names nothing that exists.", value=value), field=field)
    if actor is not None and not policy.account_in_area(session, actor, account):
        raise Invalid(_l("This is outside your bureau's area."), field=scope_field)


def find_accounts(*, session: Session, actor: Account, role: str | None = None, q: str | None = None,
                  sort: str | None = None) -> list[Account]:
    """The accounts `list_accounts` selects, loaded."""
    return list(session.scalars(list_accounts(session=session, actor=actor, role=role, q=q, sort=sort)).unique())


def usernames_of(session: Session, account_ids) -> dict[int, str]:
    """Username by account id, for the ids given (a page naming who asked and who decided)."""
    ids = {account_id for account_id in account_ids if account_id}
    if not ids:
        return {}
    return dict(session.execute(select(Account.id, Account.username).where(Account.id.in_(ids))).all())
