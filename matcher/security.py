"""The web application's hardening in one place: security headers and caching on every answer, the session's
lifetime checked before every page (kept by matcher.auth.sessions), JSON bodies too deeply nested, and login
throttling with Flask-Limiter.

Configured in matcher.config (README, Security); create_app calls init_security(app).
"""

from __future__ import annotations

import json

from flask import Flask, current_app, request
from flask_babel import lazy_gettext as _l
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from werkzeug.middleware.proxy_fix import ProxyFix

from matcher.auth.sessions import check_session_lifetime
from matcher.errors import DomainError

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
# No API input nests deeper than a few levels; parsing and validating a body recurse once per level, so a body
# nested hundreds of levels deep would exhaust the stack (a 500) on any endpoint that reads JSON.
MAX_JSON_DEPTH = 32


def init_security(app: Flask) -> None:
    if app.config.get("TRUST_PROXY"):
        # Behind one reverse proxy that terminates TLS: trust its X-Forwarded-For/-Proto, so the
        # throttling sees the client's address and HSTS is sent on https.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]
    app.before_request(check_session_lifetime)
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
