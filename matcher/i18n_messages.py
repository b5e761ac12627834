"""The messages that libraries (marshmallow, webargs) write, made translatable in one place.

marshmallow writes English, some of it with values inside ("Must be greater than or equal to {min}."). Each default
message of its fields and validators is replaced here, once, by a `Template`, whose English text is the catalogue's
msgid. A template, and what its `format()` gives, is still a str of the English text (marshmallow keeps only str as
a message; a lazy string it would take apart letter by letter), but turns into text, `str()` or in a page, in the
language of the moment: the translated template, then filled in. So the API answers in the asker's language and a
background job's errors, kept in both languages, are right in each (matcher.errors.translate).

Imported first by `matcher/__init__.py`: fields and several validators copy their messages when they are created,
that is when a schema class is defined.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext
from markupsafe import Markup, escape
from marshmallow import Schema, fields, validate


def N_(message: str) -> str:  # noqa: N802 - the conventional name for "mark, don't translate"
    return message


class Template(str):
    """An English message template, translated when it is read (see the module's docstring)."""

    __slots__ = ()

    def format(self, *args: Any, **kwargs: Any) -> str:  # type: ignore[override]
        english = str.format(self, *args, **kwargs)
        if "{{" in self:
            # The first of two steps (Range: "Must be {min_op} {{min}}." -> "Must be greater than or equal to
            # {min}."): the result, a whole sentence, is the msgid.
            return Template(english)
        return Filled(english, msgid=str.__str__(self), args=args, kwargs=kwargs)

    def __str__(self) -> str:
        return gettext(str.__str__(self))

    def __html__(self) -> Markup:
        return escape(str(self))


class Filled(str):
    """A filled-in Template: the English text as a str, translated and filled in again when it is read."""

    __slots__ = ("msgid", "args", "kwargs")

    def __new__(cls, english: str, *, msgid: str, args: tuple, kwargs: dict) -> Filled:
        filled = super().__new__(cls, english)
        filled.msgid, filled.args, filled.kwargs = msgid, args, kwargs
        return filled

    def __str__(self) -> str:
        return gettext(self.msgid).format(*self.args, **self.kwargs)

    def __html__(self) -> Markup:
        return escape(str(self))


# Field messages, by class: a class's messages are merged over its bases' when a field is created.
FIELD_MESSAGES: dict[type[fields.Field], dict[str, str]] = {
    fields.Field: {"required": N_("Missing data for required field."), "null": N_("Field may not be null."),
                   "validator_failed": N_("Invalid value.")},
    fields.Nested: {"type": N_("Invalid type.")},
    fields.List: {"invalid": N_("Not a valid list.")},
    fields.Tuple: {"invalid": N_("Not a valid tuple.")},
    fields.String: {"invalid": N_("Not a valid string."), "invalid_utf8": N_("Not a valid utf-8 string.")},
    fields.UUID: {"invalid_uuid": N_("Not a valid UUID.")},
    fields.Number: {"invalid": N_("Not a valid number."), "too_large": N_("Number too large.")},
    fields.Integer: {"invalid": N_("Not a valid integer.")},
    fields.Float: {"special": N_("Special numeric values (nan or infinity) are not permitted.")},
    fields.Decimal: {"special": N_("Special numeric values (nan or infinity) are not permitted.")},
    fields.Boolean: {"invalid": N_("Not a valid boolean.")},
    # marshmallow says "Not a valid {obj_type}." with an English type name: one whole sentence per type instead.
    fields.DateTime: {"invalid": N_("Not a valid datetime.")},
    fields.NaiveDateTime: {"invalid_awareness": N_("Not a valid naive datetime.")},
    fields.AwareDateTime: {"invalid_awareness": N_("Not a valid aware datetime.")},
    fields.Date: {"invalid": N_("Not a valid date.")},
    fields.Time: {"invalid": N_("Not a valid time.")},
    fields.TimeDelta: {"invalid": N_("Not a valid period of time.")},
    fields.Mapping: {"invalid": N_("Not a valid mapping type.")},
    fields.Url: {"invalid": N_("Not a valid URL.")},
    fields.Email: {"invalid": N_("Not a valid email address.")},
    fields.Enum: {"unknown": N_("Must be one of: {choices}.")},
}

# Validator messages, by class and attribute.
VALIDATOR_MESSAGES: dict[type[validate.Validator], dict[str, str]] = {
    validate.URL: {"default_message": N_("Not a valid URL.")},
    validate.Email: {"default_message": N_("Not a valid email address.")},
    # Range puts its words together in two steps; every sentence it can make is below and in the catalogue.
    validate.Range: {"message_min": "Must be {min_op} {{min}}.", "message_max": "Must be {max_op} {{max}}.",
                     "message_all": "Must be {min_op} {{min}} and {max_op} {{max}}."},
    validate.Length: {"message_min": N_("Shorter than minimum length {min}."),
                      "message_max": N_("Longer than maximum length {max}."),
                      "message_all": N_("Length must be between {min} and {max}."),
                      "message_equal": N_("Length must be {equal}.")},
    validate.Equal: {"default_message": N_("Must be equal to {other}.")},
    validate.Regexp: {"default_message": N_("String does not match expected pattern.")},
    validate.Predicate: {"default_message": N_("Invalid input.")},
    validate.NoneOf: {"default_message": N_("Invalid input.")},
    validate.OneOf: {"default_message": N_("Must be one of: {choices}.")},
    validate.ContainsOnly: {"default_message": N_("One or more of the choices you made was not in: {choices}.")},
    validate.ContainsNoneOf: {"default_message": N_("One or more of the choices you made was in: {values}.")},
}

RANGE_SENTENCES = [
    N_("Must be greater than or equal to {min}."), N_("Must be greater than {min}."),
    N_("Must be less than or equal to {max}."), N_("Must be less than {max}."),
    N_("Must be greater than or equal to {min} and less than or equal to {max}."),
    N_("Must be greater than {min} and less than or equal to {max}."),
    N_("Must be greater than or equal to {min} and less than {max}."),
    N_("Must be greater than {min} and less than {max}."),
]

SCHEMA_MESSAGES = {"type": N_("Invalid input type."), "unknown": N_("Unknown field.")}

# Written by webargs as plain text, translated when the answer is written.
WEBARGS_MESSAGES = [N_("Invalid JSON body.")]


def _install() -> None:
    for field_class, messages in FIELD_MESSAGES.items():
        # Assigned on the class itself: each class's dict is its own, merged with its bases' at field creation.
        field_class.default_error_messages = {**field_class.__dict__.get("default_error_messages", {}),
                                              **{key: Template(text) for key, text in messages.items()}}
    for validator_class, messages in VALIDATOR_MESSAGES.items():
        for attribute, text in messages.items():
            setattr(validator_class, attribute, Template(text))
    Schema._default_error_messages = {key: Template(text) for key, text in SCHEMA_MESSAGES.items()}


_install()


class ShownDate:
    """A date inside a message, written as the reader's language writes dates (the `date` filter's style: zh
    2026年12月7日, en Dec 7, 2026) when the message is turned into text; ISO outside a request."""

    __slots__ = ("day",)

    def __init__(self, day: Any) -> None:
        self.day = day

    def __str__(self) -> str:
        from flask import has_request_context
        from flask_babel import format_date

        if not has_request_context():
            return self.day.isoformat()
        return format_date(self.day, "medium")

    def __repr__(self) -> str:
        return f"ShownDate({self.day!r})"
