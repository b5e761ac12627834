"""Running in production: liveness and readiness, one structured access line per request, Prometheus metrics.

`init_ops(app)` (called by create_app after init_security) registers:

* `GET /healthz`: liveness. The process answers; nothing else is touched (no database, no session).
* `GET /readyz`: readiness. The database answers a trivial query, its Alembic revision is the head, an active
  scoring model loads, Redis answers when XINTU_REDIS_URL is set. 200 with each check, 503 naming the failing
  checks; never an exception text or a connection string.
* `GET /metrics`: Prometheus text format (matcher.ops.metrics), for a bearer XINTU_METRICS_TOKEN or, when no
  token is configured, for a direct loopback caller only.
* a request id (`X-Request-ID`: the caller's when it is a UUID, else a new one), echoed in the answer and
  carried by every log line of the request;
* the access line (logger `matcher.access`): method, URL rule (never the raw path or its query string),
  status, duration, actor id and role; and the request metrics.

These three endpoints are anonymous, `Cache-Control: no-store`, outside the session (matcher.security skips
OPS_PATHS) and exempt from Flask-Limiter.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from flask import Flask, g, request
from flask_login import user_logged_in

from matcher.auth.sessions import OPS_PATHS  # noqa: F401 - one list, kept by matcher.auth.sessions
from matcher.ops.base import bp

REQUEST_ID_HEADER = "X-Request-ID"
# A caller's id is kept only when it is a UUID (hex, with or without its dashes): any freer shape could carry
# personal data into every log line of the request (an ID number is letters and digits too).
_REQUEST_ID_OK = re.compile(r"[0-9a-fA-F]{32}|[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")
UNMATCHED = "<unmatched>"  # no URL rule: a 404 (the raw path is never logged nor used as a label)



def init_ops(app: Flask) -> None:
    from matcher.ops import health, logs, metrics  # noqa: F401 - the views register themselves on bp

    logs.configure_logging(app)
    metrics.init_metrics(app)
    app.register_blueprint(bp)
    limiter = app.extensions.get("xintu_limiter")
    if limiter is not None:
        limiter.exempt(bp)
    # First in, last out: the clock starts before any other hook (a 401 from a before_request hook is still
    # timed and logged) and stops after every other after_request hook.
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    app.after_request_funcs.setdefault(None, []).insert(0, _finish)
    app.teardown_request_funcs.setdefault(None, []).append(_teardown)
    # A page login (login_user) sets the account without a loader.
    user_logged_in.connect(_note_login, app)


def _start() -> None:
    g.request_started = time.perf_counter()
    g.pop("xintu_actor", None)  # `g` may outlive a request where an app context is kept open (tests)
    offered = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = offered if _REQUEST_ID_OK.fullmatch(offered) else uuid.uuid4().hex
    from matcher.ops import metrics

    metrics.request_started()
    g.request_in_flight = True


def endpoint_label() -> str:
    rule = request.url_rule
    return rule.rule if rule is not None else UNMATCHED


def _actor() -> tuple[int | None, str | None]:
    """The account behind the request, as noted when Flask-Login loaded it (never loaded here)."""
    return g.get("xintu_actor") or (None, None)


def note_actor(account: Any) -> None:
    """Keep the account's id and role for the access line the moment it is loaded, so the line never re-reads an
    account that a commit has expired."""
    if account is not None:
        role = getattr(account, "role", None)
        g.xintu_actor = (account.id, getattr(role, "value", role))


def noting_the_actor(loader: Callable[..., Any]) -> Callable[..., Any]:
    """A Flask-Login user or request loader that also notes the account it found (matcher/__init__.py)."""

    def load(*args: Any) -> Any:
        account = loader(*args)
        note_actor(account)
        return account

    load.__name__, load.__doc__ = loader.__name__, loader.__doc__
    return load


def _note_login(_app: Flask, user: Any = None, **_extra: Any) -> None:
    note_actor(user)


def _finish(response):
    started = g.pop("request_started", None)
    if started is None:  # the request never reached _start (cannot happen through Flask, but be safe)
        return response
    rid = g.get("request_id")
    if rid:
        response.headers[REQUEST_ID_HEADER] = rid
    _done(response.status_code, time.perf_counter() - started)
    return response


def _teardown(exc) -> None:
    """When no answer went through _finish (an error escaped every handler), the line is still written."""
    started = g.pop("request_started", None)
    if started is not None:
        _done(500, time.perf_counter() - started)
    if g.pop("request_in_flight", False):
        from matcher.ops import metrics

        metrics.request_ended()


def _done(status: int, seconds: float) -> None:
    from matcher.ops import logs, metrics

    endpoint = endpoint_label()
    metrics.observe(endpoint=endpoint, method=request.method, status=status, seconds=seconds)
    actor_id, role = _actor()
    logs.access_line(request_id=g.get("request_id"), method=request.method, endpoint=endpoint, status=status,
                     duration_ms=round(seconds * 1000, 1), actor_id=actor_id, actor_role=role)
