"""Domain errors, and the one place that turns them (and every HTTP error) into an answer.

API answers are JSON `{code, status, message, errors}`; messages are translated by the
request's locale (Accept-Language), so a caseworker reads Chinese and a developer English.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify, request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException, default_exceptions
from werkzeug.http import HTTP_STATUS_CODES

log = logging.getLogger(__name__)


class DomainError(Exception):
    """A rule of the domain was broken; carries a user-facing message and optional field errors."""

    status = 400
    links: dict[str, str] | None = None  # where to go next (the API's error body carries them under `links`)

    def __init__(self, message: Any = None, *, field: str | None = None, errors: dict | None = None):
        # Keep a lazy message lazy: it is translated when answered, in the asker's language.
        super().__init__(message if message is not None else self.__class__.__name__)
        self.message = message
        self.errors = dict(errors or {})
        if field:
            self.errors.setdefault(field, []).append(message)


class NotFound(DomainError):
    status = 404


class Forbidden(DomainError):
    status = 403


class Conflict(DomainError):
    status = 409


class Invalid(DomainError):
    status = 422


class Unauthorized(DomainError):
    status = 401


# Two writers raced past every check and a constraint of the database stopped the second: whether a flush or the
# edge's commit finds it (matcher.uow), the answer is this 409.
RACED = _l("Someone else changed this at the same moment; reload and try again.")


def translate(message: Any) -> str:
    """One message in the request's locale. A lazy string translates itself, and so do marshmallow's messages
    (matcher/i18n_messages.py); plain text is looked up in the catalogue."""
    return gettext(message) if type(message) is str else str(message)


def translate_errors(errors: Any) -> Any:
    """Translate a field-error tree; a field's messages are always a list."""
    if isinstance(errors, dict):
        return {str(key): [translate(value)] if _is_message(value) else translate_errors(value)
                for key, value in errors.items()}
    if isinstance(errors, list | tuple):
        return [translate_errors(value) for value in errors]
    return translate(errors)


def _is_message(value: Any) -> bool:
    return not isinstance(value, dict | list | tuple)


def _merge_locations(messages: dict) -> dict:
    """webargs groups errors by location ({"json": {...}}); clients want them by field."""
    merged: dict = {}
    for location, fields in messages.items():
        if isinstance(fields, dict):
            merged.update(fields)
        else:
            merged[location] = fields
    return merged


DEFAULT_MESSAGES = {
    400: _l("The request could not be understood."),
    401: _l("Log in first: send a valid bearer token."),
    403: _l("You may not do this."),
    404: _l("Not found."),
    405: _l("This method is not allowed here."),
    409: _l("This conflicts with the current state."),
    413: _l("The upload is too large."),
    415: _l("Unsupported media type."),
    422: _l("Some fields are not valid."),
    429: _l("Too many requests."),
    500: _l("Something went wrong on our side; it has been logged."),
}


def error_body(status: int, message: Any = None, errors: dict | None = None) -> dict:
    body = {
        "code": status,
        "status": HTTP_STATUS_CODES.get(status, "Error"),
        "message": translate(message if message is not None else DEFAULT_MESSAGES.get(status, "")),
    }
    if errors:
        body["errors"] = translate_errors(errors)
    return body



def _wants_page() -> bool:
    """Browsers on the web pages get an HTML page; the API (and anything asking for JSON) gets JSON."""
    return not request.path.startswith("/api") and request.path != "/healthz" \
        and request.accept_mimetypes.accept_html


def _page(status: int, message: Any):
    from flask import render_template

    return render_template("web/error.html", code=status, message=translate(message)), status


def http_exception_answer(exc: HTTPException):
    status = exc.code or 500
    if _wants_page():
        return _page(status, DEFAULT_MESSAGES.get(status, exc.description or ""))
    errors = None
    data = getattr(exc, "data", None)
    if status in (400, 422) and data and isinstance(data.get("messages"), dict):
        errors = _merge_locations(data["messages"])
    message = None
    if status not in DEFAULT_MESSAGES and exc.description:
        message = exc.description
    response = jsonify(error_body(status, message, errors))
    response.status_code = status
    headers = (data or {}).get("headers") or {}
    for name, value in headers.items():
        response.headers[name] = value
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="xintu"'
    return response


def answer_for(exc: DomainError):
    """The page or JSON answer to a broken rule of the domain."""
    if _wants_page():
        return _page(exc.status, exc.message)
    body = error_body(exc.status, exc.message, exc.errors or None)
    if exc.links:
        body["links"] = dict(exc.links)
    response = jsonify(body)
    response.status_code = exc.status
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="xintu"'
    return response


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(DomainError, answer_for)

    @app.errorhandler(IntegrityError)
    def _raced(_exc: IntegrityError):
        return answer_for(Conflict(RACED))

    for code in default_exceptions:
        app.register_error_handler(code, http_exception_answer)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        if isinstance(exc, HTTPException):
            return http_exception_answer(exc)
        # Log the type and place only: request bodies may hold personal data.
        log.error("unhandled %s at %s %s", type(exc).__name__, request.method, request.path,
                  exc_info=app.debug or app.testing)
        if _wants_page():
            return _page(500, DEFAULT_MESSAGES[500])
        response = jsonify(error_body(500))
        response.status_code = 500
        return response
