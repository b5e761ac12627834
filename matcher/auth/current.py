"""Who is asking: the account behind the bearer token or the session."""

from __future__ import annotations

from flask import current_app, has_request_context
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from matcher.auth.models import Account
from matcher.errors import Unauthorized
from matcher.extensions import db


def load_account_from_session(account_id: str) -> Account | None:
    from flask import request

    if request.path.startswith("/api/"):
        # The API authenticates by bearer token only, so a page's session cookie can never be
        # replayed against it from another site (the API takes no CSRF token).
        return None
    from matcher.auth.sessions import session_is_current

    account = db.session.get(Account, int(account_id))
    if account is None or not account.is_active or not session_is_current(account):
        return None  # deactivated, or its password changed since this session began
    return account


def load_account_from_request(request) -> Account | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    from matcher.auth.service import account_for_token

    return account_for_token(session=db.session, token=token.strip())


def signed_in_account() -> Account | None:
    """The account behind this request, or None (nobody signed in, or no request at all)."""
    if not has_request_context() or not current_user or not current_user.is_authenticated:
        return None
    return current_user._get_current_object()  # type: ignore[attr-defined]


def current_actor() -> Account:
    """The authenticated account, or a 401 answer."""
    account = signed_in_account()
    if account is None:
        raise Unauthorized(_l("Log in first: send a valid bearer token."))
    return account


def token_ttl_days() -> int:
    return current_app.config["API_TOKEN_TTL_DAYS"]
