"""GET /healthz (liveness) and GET /readyz (readiness).

A load balancer or orchestrator restarts a process that fails /healthz and sends no traffic to one that fails
/readyz. Answers name checks and say ok or failing; the reason goes to the log by exception type only (never a
connection string, a path or an exception's text, in the answer or the log).
"""

from __future__ import annotations

import logging
import os
import threading

from flask import current_app, jsonify
from sqlalchemy import text

from matcher.ops.base import bp

log = logging.getLogger(__name__)
OK, FAILING, NOT_CHECKED, NOT_CONFIGURED = "ok", "failing", "not checked", "not configured"

_heads_lock = threading.Lock()
_heads: dict[str, frozenset[str]] = {}


@bp.get("/healthz")
def healthz():
    """Liveness: the process answers requests. Touches nothing else, so a slow database never gets a
    healthy process restarted. (`database` names the configured dialect; it is not probed here.)"""
    from matcher.extensions import db

    return jsonify(status="ok", database=db.engine.dialect.name)


@bp.get("/readyz")
def readyz():
    checks: dict[str, str] = {}
    checks["database"] = _check("database", _database)
    if checks["database"] == OK:
        checks["migrations"] = _check("migrations", _migrations_at_head)
        checks["model"] = _check("model", _model_loads)
    else:
        checks["migrations"] = checks["model"] = NOT_CHECKED
    redis_url = redis_url_configured()
    checks["redis"] = _check("redis", lambda: _redis(redis_url)) if redis_url else NOT_CONFIGURED
    failing = [name for name, state in checks.items() if state in (FAILING, NOT_CHECKED)]
    if failing:
        response = jsonify(status="unavailable", failing=failing, checks=checks)
        response.status_code = 503
        response.headers["Retry-After"] = "5"
        return response
    return jsonify(status="ready", checks=checks)


def redis_url_configured() -> str | None:
    return current_app.config.get("REDIS_URL") or os.environ.get("XINTU_REDIS_URL") or None


def _check(name: str, probe) -> str:
    from matcher.extensions import db

    try:
        return OK if probe() else FAILING
    except Exception as exc:  # noqa: BLE001 - whatever breaks, the answer is "failing", the log names the type
        log.warning("readiness: %s failing (%s)", name, type(exc).__name__)
        return FAILING
    finally:
        db.session.rollback()


def _database() -> bool:
    from matcher.extensions import db

    return db.session.execute(text("SELECT 1")).scalar() == 1


def migration_heads() -> frozenset[str]:
    """The head revision(s) of the migrations shipped with this code, read once per process."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from matcher.config import MIGRATIONS_DIR

    with _heads_lock:
        if MIGRATIONS_DIR not in _heads:
            config = Config()
            config.set_main_option("script_location", MIGRATIONS_DIR)
            _heads[MIGRATIONS_DIR] = frozenset(ScriptDirectory.from_config(config).get_heads())
        return _heads[MIGRATIONS_DIR]


def _migrations_at_head() -> bool:
    from matcher.extensions import db

    current = set(db.session.execute(text("SELECT version_num FROM alembic_version")).scalars())
    return current == set(migration_heads())


def _model_loads() -> bool:
    """An active model is registered and its artefact loads (checked against its card; loaded once per
    process and kept, so this is cheap after the first time)."""
    from matcher.extensions import db
    from matcher.matching.service import active_model, active_scorer

    if active_model(db.session) is None:
        return False
    _scorer, version = active_scorer(db.session)
    return version != "prior-builtin"


def _redis(url: str) -> bool:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        return bool(client.ping())
    finally:
        client.close()
