"""Xintu (新途): matching people released from prison to resettlement-base jobs and training."""

from __future__ import annotations

import gc
import itertools
import logging
import sqlite3
from typing import Any

from flask import Flask, current_app, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

import matcher.i18n_messages  # noqa: F401 - first: schemas copy marshmallow's messages when they are defined
from matcher.config import MIGRATIONS_DIR, Config

LOCALE_ALIASES = {"zh": "zh_CN", "zh_CN": "zh_CN", "zh-CN": "zh_CN", "en": "en"}


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Application factory: config -> extensions -> blueprints -> errors -> CLI."""
    app = Flask(__name__, instance_relative_config=False)
    app.config.from_object(Config)
    if config:
        app.config.update(config)
    app.json.ensure_ascii = False  # Chinese stays readable in JSON answers
    app.json.sort_keys = False

    _init_extensions(app)

    from matcher.api import register_api
    from matcher.errors import register_error_handlers

    api_blueprints = register_api(app)
    from matcher.web import register_web

    register_web(app, api_blueprints)  # the pages; the API's blueprints are exempt from their CSRF guard
    register_error_handlers(app)

    from matcher.security import init_security

    init_security(app)  # headers, session lifetime, login throttling

    from matcher.policy import init_policy

    init_policy(app)  # per-request caches of the access policy

    from matcher import uow

    uow.init_app(app)  # one unit of work per request, committed or rolled back by its answer

    from matcher.cli import register_cli

    register_cli(app)

    # What follows a referral's moves (tasks, notifications) listens to referrals.signals.referral_moved.
    from matcher.followup.listeners import connect as connect_follow_up

    connect_follow_up()
    from matcher.notify.listeners import connect as connect_notify

    connect_notify()
    from matcher.bases.answers import connect as connect_answers

    connect_answers()  # a paused base that answers resumes at once
    from matcher.audit.listeners import connect as connect_audit

    connect_audit()

    from matcher.ops import init_ops

    init_ops(app)  # /healthz, /readyz, /metrics; request id, access log line, request metrics

    # A full garbage collection scans every tracked object, and the libraries imported above (scikit-learn,
    # SciPy, OR-Tools, SQLAlchemy) leave about 250,000 that live as long as the process: every few requests
    # paused ~130 ms to scan them (measured on the fair pages). Freezing moves them out of the collector's
    # sight, as pre-fork servers do; they are still freed by reference counting.
    gc.collect()
    gc.freeze()
    _freeze_after_warm_up(app)
    return app


# The requests import what they use (scikit-learn and the model, OR-Tools, the pages' templates) and fill the
# per-process caches (the open slots, the bases' standings, SQLAlchemy's compiled statements) after the freeze above:
# some 150,000 long-lived objects that every full collection scanned again, about 90 ms every thirty-odd requests
# of a caseworker's pages (under load, the recommendations page's slowest twentieth). So the process collects and
# freezes again after its first requests, once each response is sent: garbage is collected first, and only what is
# left, what the process keeps, leaves the collector's sight (still freed by reference counting when dropped).
DEFAULT_WARM_UP_FREEZES = (1, 10, 100)


def _freeze_after_warm_up(app: Flask) -> None:
    setting = app.config.get("GC_FREEZE_AFTER_REQUESTS")
    if setting is None:
        after = frozenset(() if app.config.get("TESTING") else DEFAULT_WARM_UP_FREEZES)
    else:
        after = frozenset(int(n) for n in str(setting).replace(",", " ").split())
    if not after:
        return
    served = itertools.count(1)

    @app.after_request
    def _freeze_once_sent(response):
        if next(served) in after:
            response.call_on_close(_collect_and_freeze)
        return response


def _collect_and_freeze() -> None:
    gc.collect()
    gc.freeze()


def _select_locale() -> str:
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    if not has_request_context():  # CLI, background work: the configured default (zh_CN)
        return default
    wanted = request.args.get("lang") or request.cookies.get("lang")
    if wanted in LOCALE_ALIASES:
        return LOCALE_ALIASES[wanted]
    best = request.accept_languages.best_match(["zh_CN", "zh", "en"], default=default)
    return LOCALE_ALIASES.get(best.replace("-", "_"), default)


def _init_extensions(app: Flask) -> None:
    from matcher import models  # noqa: F401 - register every table on the metadata
    from matcher.auth.current import load_account_from_request, load_account_from_session
    from matcher.extensions import babel, db, login_manager, migrate
    from matcher.ops import noting_the_actor

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # Writers queue behind each other (sqlite3's timeout is SQLite's busy_timeout) instead of failing at once
        # with "database is locked"; see _sqlite_pragmas for the rest.
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            **app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}),
            "connect_args": {"timeout": app.config["SQLITE_BUSY_TIMEOUT_MS"] / 1000, "check_same_thread": False},
        }
    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True, compare_type=True)
    babel.init_app(app, locale_selector=_select_locale)
    login_manager.init_app(app)
    # Each loader also notes the account it found for the access line (matcher.ops).
    login_manager.user_loader(noting_the_actor(load_account_from_session))
    login_manager.request_loader(noting_the_actor(load_account_from_request))


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # Let SQLAlchemy's "begin" hook below issue BEGIN itself (pysqlite's own BEGIN is deferred).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    if any(file for _seq, name, file in cursor.execute("PRAGMA database_list") if name == "main"):
        # A database file (not :memory:): reads go on beside the one writer (WAL), and a commit syncs the log, not
        # the database, which stays consistent after a crash (synchronous=NORMAL).
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin_immediate(conn) -> None:
    """On SQLite take the write lock at BEGIN: a deferred transaction that reads, then writes,
    fails outright when another writer got in between, instead of waiting its turn."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")


logging.getLogger("matcher").addHandler(logging.NullHandler())
