"""Helpers every page module shares: reading form fields, running a form's action (its errors by form field,
what was typed kept), the language of the page and htmx requests."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Any

from flask import request
from flask_babel import get_locale
from flask_babel import gettext as _
from marshmallow import Schema, ValidationError

from matcher import uow
from matcher.errors import DomainError, NotFound, translate

FORM_KEY = "_form"  # where a form's own error goes when no field is named


def leaves(value: Any) -> list[str]:
    """Every message in a (nested) error tree, translated."""
    if isinstance(value, dict):
        return [text for item in value.values() for text in leaves(item)]
    if isinstance(value, list | tuple):
        return [text for item in value for text in leaves(item)]
    return [translate(value)]


def form_errors(exc: Exception, rows: dict[str, list[int]] | None = None) -> tuple[dict[str, list[str]], str]:
    """A schema's or a domain error's messages by top-level form field (nested ones such as place.code fold into
    `place`), translated, and a summary: the domain error's own message, or "see below".

    `rows` maps a list field (skills, preferred courses) to the form rows its entries came from, so an entry's
    message appears next to its row (`skills-3`) rather than at the top of the list."""
    if isinstance(exc, ValidationError):
        raw, message = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}, None
    else:
        raw, message = getattr(exc, "errors", {}) or {}, getattr(exc, "message", None)
    rows = rows or {}
    errors: dict[str, list[str]] = {}

    def add(key: str, value: Any) -> None:
        found = errors.setdefault(key, [])
        found.extend(text for text in leaves(value) if text not in found)

    for key, value in raw.items():
        parts = str(key).split(".")
        field = parts[0]
        if field in rows and len(parts) > 1 and parts[1].isdigit():
            add(_row_key(field, rows, int(parts[1])), value)
        elif field in rows and isinstance(value, dict) and value and all(str(k).isdigit() for k in value):
            for index, inner in value.items():
                add(_row_key(field, rows, int(index)), inner)
        else:
            add(field, value)
    summary = translate(message) if message is not None else _("Some fields are not valid; see below.")
    return errors, summary


def _row_key(field: str, rows: dict[str, list[int]], index: int) -> str:
    mapping = rows.get(field, [])
    return f"{field}-{mapping[index]}" if index < len(mapping) else field


def error_status(exc: Exception) -> int:
    return exc.status if isinstance(exc, DomainError) else 422


@dataclasses.dataclass
class Outcome:
    """What a form's action came to: its result, or the errors to show next to what was typed."""

    value: Any = None
    errors: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    summary: str | None = None
    status: int = 200
    links: dict[str, str] = dataclasses.field(default_factory=dict)  # a refusal's way on (DomainError.links)

    @property
    def ok(self) -> bool:
        return self.status < 400

    def errors_or_summary(self) -> dict[str, list[str]]:
        """The field errors; when none is named, the summary as the form's own error (FORM_KEY)."""
        return self.errors or {FORM_KEY: [self.summary or ""]}


_NO_DATA = object()


def run_form(action: Callable[..., Any], data: Any = _NO_DATA, *, schema: Schema | None = None,
             rows: dict[str, list[int]] | None = None) -> Outcome:
    """Run one form's use case in a savepoint: `action(schema.load(data))` (or `action(data)` without a schema,
    `action()` without data).

    A refused form (marshmallow's ValidationError, a DomainError) undoes only this attempt and comes back as field
    errors, a summary and the answer's status (422, 409, 403...), so the caller shows the form again with what was
    typed. NotFound is not a form's error: it raises on, to the not-found page."""
    try:
        with uow.savepoint():
            if data is _NO_DATA:
                value = action()
            else:
                value = action(schema.load(data) if schema is not None else data)
    except NotFound:
        raise
    except (ValidationError, DomainError) as exc:
        errors, summary = form_errors(exc, rows)
        return Outcome(errors=errors, summary=summary, status=error_status(exc),
                       links=dict(getattr(exc, "links", None) or {}))
    return Outcome(value=value)


def text(form, name: str) -> str:
    """One form field, stripped."""
    return (form.get(name) or "").strip()


def fields(form, *names: str, nullable: tuple[str, ...] = ()) -> dict[str, str | None]:
    """The named form fields as a schema's dict: stripped; empty means absent, or None for the `nullable` ones
    (the schema allows clearing them)."""
    data: dict[str, str | None] = {}
    for name in names:
        value = text(form, name)
        if value:
            data[name] = value
        elif name in nullable:
            data[name] = None
    return data


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
