"""Logs: one line per record on stderr, JSON (python-json-logger) or plain text, never personal data.

XINTU_LOG_FORMAT=json|text chooses; gunicorn.conf.py makes json the default under gunicorn (production),
anything else (flask run, the CLI) defaults to text. XINTU_LOG_LEVEL (INFO) sets the level. Under the tests
(TESTING) no handler is installed unless XINTU_LOG_FORMAT is set: pytest captures the records.

What keeps personal data out:
* the access line (logger `matcher.access`) names the URL *rule* (`/caseworker/candidates/<id:candidate_id>`),
  never the path as asked nor its query string (search boxes send names, ID numbers and phone numbers), and the
  actor by id and role, never by username;
* the development server's own access line (werkzeug: the raw request line, query string and all) is dropped;
* errors are logged by type and URL rule (matcher.errors), SQL parameters are hidden from SQLAlchemy's
  exception texts (matcher.config: hide_parameters);
* a safety net on the handler replaces anything shaped like a mainland ID number or mobile number in a
  message with `[redacted]`. Names cannot be recognised this way: the guarantee is not logging them.
"""

from __future__ import annotations

import logging
import os
import re
import sys

from flask import Flask, has_request_context

ACCESS_LOGGER = "matcher.access"
ACCESS_FIELDS = ("request_id", "method", "endpoint", "status", "duration_ms", "actor_id", "actor_role")
REDACTED = "[redacted]"
# A resident ID number (18 characters, the last a digit or X) and a mainland mobile number, standing alone.
_PERSONAL_SHAPES = re.compile(r"(?<![0-9A-Za-z])(?:\d{17}[0-9Xx]|1[3-9]\d{9})(?![0-9A-Za-z])")
# werkzeug's development-server line: `127.0.0.1 - - [date] "GET /path?query HTTP/1.1" 200 -`.
_WERKZEUG_ACCESS = re.compile(r' - - \[[^\]]*\] "')

access_log = logging.getLogger(ACCESS_LOGGER)


def log_format(app: Flask | None = None) -> str:
    chosen = (app.config.get("LOG_FORMAT") if app is not None else None) or os.environ.get("XINTU_LOG_FORMAT")
    return "json" if (chosen or "").strip().lower() == "json" else "text"


class RequestIdFilter(logging.Filter):
    """Every record written during a request carries its id."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = None
            if has_request_context():
                from matcher.ops.base import request_id

                record.request_id = request_id()
        return True


class RedactFilter(logging.Filter):
    """The safety net: ID-number and mobile-number shapes in a message become `[redacted]`."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string is logged as it is, not lost
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def redact(text: str) -> str:
    return _PERSONAL_SHAPES.sub(REDACTED, text)


class DropWerkzeugAccessLines(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not _WERKZEUG_ACCESS.search(str(record.msg))


class TextFormatter(logging.Formatter):
    """`time level logger message key=value ...` with the access fields and the request id."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = [f"{key}={getattr(record, key)}" for key in ACCESS_FIELDS if getattr(record, key, None) is not None]
        return f"{line} {' '.join(extras)}" if extras else line


def json_formatter() -> logging.Formatter:
    from pythonjsonlogger.json import JsonFormatter

    return JsonFormatter("%(levelname)s %(name)s %(message)s", rename_fields={"levelname": "level", "name": "logger"},
                         timestamp="time", json_ensure_ascii=False)


def make_handler(fmt: str) -> logging.Handler:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(json_formatter() if fmt == "json" else TextFormatter())
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RedactFilter())
    handler._xintu = True  # type: ignore[attr-defined] - ours, replaced when the app is built again
    return handler


def configure_logging(app: Flask) -> None:
    level = logging.getLevelName((os.environ.get("XINTU_LOG_LEVEL") or "INFO").upper())
    level = level if isinstance(level, int) else logging.INFO
    logging.getLogger("matcher").setLevel(level)
    werkzeug = logging.getLogger("werkzeug")
    if not any(isinstance(f, DropWerkzeugAccessLines) for f in werkzeug.filters):
        werkzeug.addFilter(DropWerkzeugAccessLines())
    if app.testing and not (app.config.get("LOG_FORMAT") or os.environ.get("XINTU_LOG_FORMAT")):
        return
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "_xintu", False)]:
        root.removeHandler(handler)
    root.addHandler(make_handler(log_format(app)))
    if root.level > level or root.level == logging.NOTSET:
        root.setLevel(level)


def access_line(**fields) -> None:
    if access_log.isEnabledFor(logging.INFO):
        access_log.info("%s %s %s", fields["method"], fields["endpoint"], fields["status"], extra=fields)
