"""Helpers every page module shares: reading form fields, turning schema and domain errors into messages
by form field, the language of the page and htmx requests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import request
from flask_babel import get_locale
from flask_babel import gettext as _
from marshmallow import ValidationError

from matcher.errors import DomainError, translate


def leaves(value: Any) -> list[str]:
    """Every message in a (nested) error tree, translated."""
    if isinstance(value, dict):
        return [text for item in value.values() for text in leaves(item)]
    if isinstance(value, list | tuple):
        return [text for item in value for text in leaves(item)]
    return [translate(value)]


def form_errors(exc: Exception) -> tuple[dict[str, list[str]], str | None]:
    """Field errors by top-level form field (nested ones such as place.code fold into `place`), translated,
    and the error's own message when it is a domain error."""
    if isinstance(exc, ValidationError):
        raw, message = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}, None
    else:
        raw, message = getattr(exc, "errors", {}) or {}, getattr(exc, "message", None)
    errors: dict[str, list[str]] = {}
    for key, value in raw.items():
        field = str(key).split(".")[0]
        errors.setdefault(field, []).extend(leaves(value))
    summary = translate(message) if message is not None else _("Some fields are not valid; see below.")
    return errors, summary


def error_status(exc: Exception) -> int:
    return exc.status if isinstance(exc, DomainError) else 422


def text(form, name: str) -> str:
    return (form.get(name) or "").strip()


def put(data: dict, form, name: str, *, nullable: bool = False, key: str | None = None) -> None:
    """Copy a form field into the schema dict: empty means absent (or None where the schema allows it)."""
    value = text(form, name)
    if value:
        data[key or name] = value
    elif nullable:
        data[key or name] = None


def place_input(value: str) -> dict:
    """A place typed by the user: a code (digits) or a name."""
    value = value.strip()
    return {"code": value} if value.isdigit() else {"name": value}


def lang_code() -> str:
    locale = get_locale()
    return "zh" if locale is None or locale.language == "zh" else "en"


def parse_date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def int_in(value: Any, *, low: int = 1, high: int = 2**31 - 1) -> int | None:
    """A whole number typed or passed in a URL, within [low, high]; None when it is not one."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if low <= number <= high else None


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"
