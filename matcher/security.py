"""The web application's hardening in one place: security headers and caching on every answer, the
session's lifetime (rotation at login, idle and absolute timeouts, the account's session version, logout
ending it on the server), JSON bodies too deeply nested, and login throttling with Flask-Limiter.

Configured in matcher.config (README, Security); create_app calls init_security(app).
"""

from __future__ import annotations

import datetime as dt
import json
import secrets

from flask import Flask, current_app, request, session
from flask_babel import lazy_gettext as _l
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from sqlalchemy import delete, event
from sqlalchemy.exc import IntegrityError
from werkzeug.middleware.proxy_fix import ProxyFix

from matcher import clock
from matcher.auth.models import Account, EndedSession
from matcher.errors import DomainError
from matcher.extensions import db

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "form-action 'self'",
])
# Answers that never carry personal data and may be cached; everything else is `no-store`.
CACHEABLE_PREFIXES = ("/static/",)
CACHEABLE_PATHS = ("/api/openapi.json", "/api/docs")
# Anonymous operations endpoints (matcher.ops): outside the session and the login throttling.
OPS_PATHS = ("/healthz", "/readyz", "/metrics")
# What the session keeps besides Flask-Login's own keys.
SESSION_ID, SESSION_VERSION, LOGGED_IN_AT, LAST_SEEN_AT = "sid", "sv", "login_at", "seen_at"
# Writing the last-seen time re-sends the cookie; once a minute is precise enough for a 30-minute timeout.
SEEN_RESOLUTION_SECONDS = 60
# No API input nests deeper than a few levels; parsing and validating a body recurse once per level, so a body
# nested hundreds of levels deep would exhaust the stack (a 500) on any endpoint that reads JSON.
MAX_JSON_DEPTH = 32


def init_security(app: Flask) -> None:
    if app.config.get("TRUST_PROXY"):
        # Behind one reverse proxy that terminates TLS: trust its X-Forwarded-For/-Proto, so the
        # throttling sees the client's address and HSTS is sent on https.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]
    app.before_request(_check_session_lifetime)
    app.before_request(_api_writes_need_a_token)
    app.before_request(_refuse_deeply_nested_json)  # before the login throttling reads the username from it
    app.after_request(_security_headers)
    _init_login_throttling(app)


# ---- headers --------------------------------------------------------------------------------------

def _security_headers(response):
    headers = response.headers
    headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    headers["X-Frame-Options"] = "DENY"
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    if request.is_secure:
        headers["Strict-Transport-Security"] = f"max-age={current_app.config['HSTS_SECONDS']}; includeSubDomains"
    path = request.path
    if not (path.startswith(CACHEABLE_PREFIXES) or path in CACHEABLE_PATHS):
        headers["Cache-Control"] = "no-store"
    return response


# ---- the API -------------------------------------------------------------------------------------

# The one state-changing API call that needs no bearer token: getting one.
TOKENLESS_API_WRITES = {("POST", "auth.Tokens")}


def _api_writes_need_a_token() -> None:
    """A state-changing API call without a valid bearer token is answered 401 before its body is read
    (so an anonymous caller learns nothing from validation errors). The API ignores the session cookie,
    which is why it needs no CSRF token."""
    if request.method in ("GET", "HEAD", "OPTIONS") or not request.path.startswith("/api/"):
        return
    if (request.method, request.endpoint) in TOKENLESS_API_WRITES:
        return
    from matcher.auth.current import current_actor

    current_actor()  # raises Unauthorized (401 JSON) without a valid bearer token


def _refuse_deeply_nested_json() -> None:
    """A JSON body nested deeper than MAX_JSON_DEPTH is refused (400) before the schemas, the login throttling
    or anything else that recurses reads it."""
    if not request.is_json:
        return
    try:
        too_deep = _nested_deeper_than(json.loads(request.get_data(cache=True) or b"null"), MAX_JSON_DEPTH)
    except RecursionError:  # deeper than the parser itself can go
        too_deep = True
    except ValueError:
        return  # not JSON at all: whatever reads the body answers that (400), as before
    if too_deep:
        message = _l("The JSON body is nested more than %(depth)s levels deep.", depth=MAX_JSON_DEPTH)
        raise DomainError(message, field="json")


def _nested_deeper_than(value, limit: int) -> bool:
    """Whether arrays and objects nest more than `limit` levels; without recursion, so any depth is safe."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        pending.extend((child, depth + 1) for child in children)
    return False


# ---- sessions -------------------------------------------------------------------------------------

def start_session(account: Account) -> None:
    """Call before login_user(): a fresh session (nothing carried over from before the login, so a
    planted session cannot be promoted), with its own id, the account's session version and the times."""
    session.clear()
    now = clock.now().timestamp()
    session[SESSION_ID] = secrets.token_urlsafe(16)
    session[SESSION_VERSION] = account.session_version
    session[LOGGED_IN_AT] = now
    session[LAST_SEEN_AT] = now


def end_session() -> None:
    """Logging out ends the session on the server too. A session is a signed cookie, valid by itself, so a copy
    taken before the logout would still work: its id is recorded as ended and refused from now on, until the
    session would have reached its absolute timeout anyway (then the record is pruned). The account's other
    sessions go on."""
    sid, logged_in_at = session.get(SESSION_ID), session.get(LOGGED_IN_AT)
    if not isinstance(sid, str) or not isinstance(logged_in_at, int | float):
        return  # not a session this module started: nothing to end
    now = clock.now()
    expires_at = dt.datetime.fromtimestamp(logged_in_at, dt.UTC) + dt.timedelta(
        hours=current_app.config["SESSION_MAX_HOURS"])
    db.session.execute(delete(EndedSession).where(EndedSession.expires_at < now))
    if expires_at > now:
        db.session.add(EndedSession(sid=sid, expires_at=expires_at))
    try:
        db.session.commit()
    except IntegrityError:  # the same session logged out twice at once: ended already
        db.session.rollback()


def _session_was_ended(sid) -> bool:
    return not isinstance(sid, str) or db.session.get(EndedSession, sid) is not None


def session_is_current(account: Account) -> bool:
    """The session was started for this account's present session version (see _bump_session_version)."""
    return session.get(SESSION_VERSION) == account.session_version


def _check_session_lifetime() -> None:
    """Ends a page session idle longer than SESSION_IDLE_MINUTES or older than SESSION_MAX_HOURS, or ended by a
    logout (a copy of its cookie)."""
    if request.path in OPS_PATHS or "_user_id" not in session or request.path.startswith(("/api/", "/static/")):
        return  # health, readiness and metrics never touch the session (matcher.ops)
    now = clock.now().timestamp()
    config = current_app.config
    logged_in_at, last_seen_at = session.get(LOGGED_IN_AT), session.get(LAST_SEEN_AT)
    if (not isinstance(logged_in_at, int | float) or not isinstance(last_seen_at, int | float)
            or now - last_seen_at > config["SESSION_IDLE_MINUTES"] * 60
            or now - logged_in_at > config["SESSION_MAX_HOURS"] * 3600
            or _session_was_ended(session.get(SESSION_ID))):
        session.clear()
        return
    if now - last_seen_at >= SEEN_RESOLUTION_SECONDS:
        session[LAST_SEEN_AT] = now


@event.listens_for(Account.password_hash, "set", propagate=True, active_history=True)
def _new_password_ends_sessions(account: Account, value, oldvalue, _initiator) -> None:
    """A new password ends every session of the account at once (Flask-Login's loader compares)."""
    if isinstance(oldvalue, str) and value != oldvalue:
        account.session_version = (account.session_version or 0) + 1


@event.listens_for(Account.is_active_account, "set", propagate=True, active_history=True)
def _deactivation_ends_sessions(account: Account, value, oldvalue, _initiator) -> None:
    """A deactivated account loses its sessions at once (auth.service revokes its API tokens)."""
    if oldvalue is True and value is False:
        account.session_version = (account.session_version or 0) + 1


# ---- login throttling -----------------------------------------------------------------------------

# Endpoints that take a password, and where their username is.
LOGIN_ENDPOINTS = {"web.login": "form", "auth.Tokens": "json"}


def _login_username() -> str:
    where = LOGIN_ENDPOINTS.get(request.endpoint or "", "form")
    if where == "json":
        body = request.get_json(silent=True)
        username = body.get("username") if isinstance(body, dict) else None
    else:
        username = request.form.get("username")
    return "username:" + (str(username or "").strip().lower()[:60])


def _throttling_off() -> bool:
    return not current_app.config.get("LOGIN_RATE_LIMIT_ENABLED")


def _init_login_throttling(app: Flask) -> None:
    """Per client address and per username, on the page login's POST and POST /api/v1/auth/tokens.

    One Limiter per app (tests build several apps); its storage is RATELIMIT_STORAGE_URI (memory by
    default; redis://… when several processes serve). LOGIN_RATE_LIMIT_ENABLED off (the tests' default)
    exempts every request without unregistering anything, so a test can switch it on.
    """
    if app.config.get("LOGIN_RATE_LIMIT_ENABLED") is None:
        app.config["LOGIN_RATE_LIMIT_ENABLED"] = not app.testing
    app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    app.config["RATELIMIT_ENABLED"] = True  # Flask-Limiter's own switch; ours is LOGIN_RATE_LIMIT_ENABLED
    limiter = Limiter(key_func=get_remote_address, app=app, key_prefix="xintu")
    app.extensions["xintu_limiter"] = limiter

    def per_address() -> str:
        return current_app.config["LOGIN_RATE_LIMIT_PER_ADDRESS"]

    def per_username() -> str:
        return current_app.config["LOGIN_RATE_LIMIT_PER_USERNAME"]

    for endpoint in LOGIN_ENDPOINTS:
        view = app.view_functions[endpoint]
        view = limiter.limit(per_username, key_func=_login_username, methods=["POST"], exempt_when=_throttling_off,
                             scope="login-username")(view)
        view = limiter.limit(per_address, methods=["POST"], exempt_when=_throttling_off,
                             scope="login-address")(view)
        app.view_functions[endpoint] = view
