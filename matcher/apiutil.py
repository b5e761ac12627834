"""What every API edge shares: the base schema, instants, pagination of a select, sorting, the place input, and
the refusal of query parameters that the operation does not declare."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

import marshmallow as ma
from apispec import BasePlugin
from flask import current_app, request
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint
from flask_smorest.spec.plugins import FlaskPlugin
from marshmallow import fields, validate
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session
from werkzeug.routing import IntegerConverter

from matcher import clock, disclosure
from matcher.errors import Invalid

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
# Ids fit PostgreSQL's INTEGER; a larger number is not an id of anything (and must not reach the database).
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """`<id:name>` in a route: a positive integer that fits the id columns, else 404."""

    def __init__(self, url_map, *args, **kwargs):
        super().__init__(url_map, min=1, max=MAX_ID)


def id_param_schema(_converter) -> dict:
    return {"type": "integer", "minimum": 1, "maximum": MAX_ID}


def IdField(**kwargs) -> fields.Int:  # noqa: N802 - reads like the marshmallow field it is
    return fields.Int(validate=validate.Range(min=1, max=MAX_ID), **kwargs)


class Instant(fields.DateTime):
    """A moment in time. Sent as RFC 3339 in UTC with its offset (`2026-12-06T17:12:01.123456Z`); read with any
    offset. Input without an offset is taken as UTC, as the API sent and read it before 0.2; that reading is
    deprecated and kept for one version (see README, Dates and times)."""

    def __init__(self, **kwargs):
        metadata = dict(kwargs.pop("metadata", {}))
        said = metadata.get("description")
        metadata["description"] = (f"{said} " if said else "") + "RFC 3339 with offset, sent in UTC (Z)."
        super().__init__(format="iso", metadata=metadata, **kwargs)

    def _serialize(self, value: dt.datetime | None, attr, obj, **kwargs) -> str | None:
        if value is None:
            return None
        return clock.rfc3339(value)

    def _deserialize(self, value, attr, data, **kwargs) -> dt.datetime:
        return clock.as_utc(super()._deserialize(value, attr, data, **kwargs))


def _nul_fields(data: Any, prefix: str = "") -> list[str]:
    """Where the input holds a NUL character (keys and values, nested, every value of a repeated query key)."""
    if isinstance(data, str):
        return [prefix or "_schema"] if "\x00" in data else []
    if isinstance(data, Mapping):
        found = []
        for key in data:
            values = data.getlist(key) if hasattr(data, "getlist") else [data[key]]
            name = f"{prefix}.{key}" if prefix else str(key)
            if "\x00" in str(key):
                found.append(name)
            for value in values:
                found += _nul_fields(value, name)
        return found
    if isinstance(data, list | tuple):
        return [name for index, value in enumerate(data) for name in _nul_fields(value, f"{prefix}.{index}")]
    return []


# ---- characters that text may not hold ---------------------------------------------------------------------------

# C0 and C1 control characters (a backspace, an escape) other than tab and line ends: never typed on purpose, they
# come from pasting out of other programs and corrupt what is shown and exported. NUL has its own refusal (below).
CONTROL_CHARACTERS = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Direction overrides and isolates (U+202A-U+202E, U+2066-U+2069) make text display in another order than it is
# stored: "Trojan Source" text that reads differently to the clerk, the base and the audit log.
DIRECTION_OVERRIDES = re.compile("[\u202a-\u202e\u2066-\u2069]")
LINE_BREAKS = re.compile("[\t\n\r\u2028\u2029]")


def is_name_field(field_name: str) -> bool:
    """A field called `name` or `…_name` holds the name of a person, an organisation, a fair, a place: what is
    matched, deduplicated and printed, so it is one line with no invisible character at all."""
    return field_name == "name" or field_name.endswith("_name")


def _character(text: str, index: int) -> dict:
    char = text[index]
    return {"char": f"U+{ord(char):04X} {unicodedata.name(char, '')}".strip(), "position": index + 1}


def text_problem(text: str, *, name: bool = False):
    """Why this text is refused, or None. Every text: no control character but tab and line ends, no direction
    override. A name also: one line, and no invisible format character (zero-width spaces and joiners, direction
    marks, a BOM), which would make two spellings of one name. (An ID number is not checked here: its field takes
    such characters out, matcher.identifiers.normalise_id_number.)"""
    found = CONTROL_CHARACTERS.search(text)
    if found is not None:
        return _l("Text may not contain control characters (%(char)s, position %(position)s), which come from "
                  "pasting out of another program; retype it.", **_character(text, found.start()))
    found = DIRECTION_OVERRIDES.search(text)
    if found is not None:
        return _l("Text may not contain direction-override characters (%(char)s, position %(position)s), which "
                  "make it show in another order than it is stored; retype it.", **_character(text, found.start()))
    if not name:
        return None
    found = LINE_BREAKS.search(text)
    if found is not None:
        return _l("A name is one line: remove the line break or tab at position %(position)s.",
                  position=found.start() + 1)
    for index, char in enumerate(text):
        if unicodedata.category(char) == "Cf":
            return _l("A name may not contain invisible characters (%(char)s, position %(position)s); retype it "
                      "rather than pasting it.", **_character(text, index))
    return None


class TextCharacters(validate.Validator):
    """The validator every text field of every input schema gets (Schema.on_bind_field): see text_problem."""

    def __init__(self, *, name: bool):
        self.name = name

    def __call__(self, value: Any) -> Any:
        if isinstance(value, str):
            problem = text_problem(value, name=self.name)
            if problem is not None:
                raise ma.ValidationError(str(problem))
        return value


def _guard_text(field: fields.Field, *, name: bool) -> None:
    if isinstance(field, fields.String):
        if not any(isinstance(check, TextCharacters) for check in field.validators):
            field.validators.append(TextCharacters(name=name))
    elif isinstance(field, fields.List):
        _guard_text(field.inner, name=name)
    elif isinstance(field, fields.Tuple):
        for inner in field.tuple_fields:
            _guard_text(inner, name=name)
    elif isinstance(field, fields.Dict) and field.value_field is not None:
        _guard_text(field.value_field, name=False)


class Schema(ma.Schema):
    """Unknown fields are an error: a misspelt field must not be silently dropped. Text holding a NUL
    character is refused (422) on every input: PostgreSQL cannot store or compare it (a 500 there). Every text
    field refuses control characters and direction overrides, and a name field invisible characters and line
    breaks too (text_problem), so the API, the pages and the imports, which all load through these schemas,
    agree."""

    class Meta:
        unknown = ma.RAISE
        ordered = True

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        super().on_bind_field(field_name, field_obj)
        _guard_text(field_obj, name=is_name_field(field_name))

    def _serialize(self, obj, *, many: bool = False):
        """Serialise as the disclosure model allows (matcher.disclosure): an object's fields are kept for the
        parties the requesting account is to it, and its nested parts inherit those parties. marshmallow calls this
        for every object of every schema, root or nested, which is why the filter sits here and not in a hook that
        runs once per list."""
        if many:
            return [self._serialize(item) for item in obj]
        resource = disclosure.resource_of(self)
        if resource not in disclosure.FIELDS:  # not a response (an input schema dumped for a job's parameters)
            return super()._serialize(obj)
        token = None
        # The root decides who the reader is to it, and so does any part that is an object of its own (an
        # interview in a plan); the other parts (a referral's events, its candidate's card) inherit.
        if disclosure.current_parties.get() is None or disclosure.has_own_parties(resource):
            token = disclosure.current_parties.set(disclosure.parties_of(resource, obj))
        try:
            return disclosure.keep(resource, super()._serialize(obj), disclosure.current_parties.get())
        finally:
            if token is not None:
                disclosure.current_parties.reset(token)

    @ma.pre_load
    def _refuse_nul(self, data, **_kwargs):
        found = _nul_fields(data)
        if found:
            message = str(_l("Text may not contain the NUL character (\\u0000)."))
            raise ma.ValidationError({name: [message] for name in found})
        return data


def blueprint(name: str, import_name: str, url_prefix: str, description: str) -> Blueprint:
    blp = Blueprint(name, import_name, url_prefix=f"/api/v1{url_prefix}", description=description)
    blp.before_request(_refuse_unknown_query_parameters)
    return blp


# ---- query parameters: what the OpenAPI document declares, and nothing else --------------------------------------

# Every operation answers in the language `lang` names (matcher._select_locale), so every operation declares it.
LANG_PARAMETER = {"in": "query", "name": "lang", "required": False, "schema": {"type": "string"}, "description":
                  "The language of the answer's messages, before Accept-Language: zh or en (also zh_CN, zh-CN). "
                  "Any other value is ignored."}


class EveryOperationPlugin(BasePlugin):
    """Documents what every API operation takes and may answer besides its own declarations: the `lang` query
    parameter, and 422 for a query parameter it does not declare (_refuse_unknown_query_parameters)."""

    def operation_helper(self, path=None, operations=None, **kwargs) -> None:
        for operation in (operations or {}).values():
            parameters = operation.setdefault("parameters", [])
            if not any(_is_query(parameter, "lang") for parameter in parameters):
                parameters.append(dict(LANG_PARAMETER))
            operation.setdefault("responses", {}).setdefault("422", "UNPROCESSABLE_ENTITY")


def _is_query(parameter: Any, name: str) -> bool:
    return isinstance(parameter, Mapping) and parameter.get("in") == "query" and parameter.get("name") == name


def declared_query_parameters(app, spec: dict) -> dict[tuple[str, str], frozenset[str]]:
    """(endpoint, method) -> the names of the query parameters the OpenAPI document declares for the operation:
    its query-arguments schemas, pagination and `lang`, as flask-smorest wrote them there (so what is refused and
    what is documented are one and the same)."""
    components = spec.get("components", {}).get("parameters", {})

    def resolved(parameter: dict) -> dict:
        ref = parameter.get("$ref")
        return components.get(ref.rsplit("/", 1)[-1], {}) if ref else parameter

    declared = {}
    for rule in app.url_map.iter_rules():
        item = spec["paths"].get(FlaskPlugin.flaskpath2openapi(rule.rule))
        if item is None:
            continue
        for method, operation in item.items():
            if method.upper() not in rule.methods:
                continue  # also skips the path's shared "parameters"
            parameters = map(resolved, [*item.get("parameters", []), *operation.get("parameters", [])])
            declared[(rule.endpoint, method.upper())] = frozenset(
                parameter["name"] for parameter in parameters if parameter.get("in") == "query")
    return declared


def _refuse_unknown_query_parameters() -> None:
    """A query parameter the operation does not declare is refused (422, naming each), not ignored: a misspelt
    filter (`?stauts=sent`) would otherwise answer everything, as if it matched. webargs alone cannot tell:
    it reads the query with unknown=EXCLUDE, and pagination's parameters with a schema of their own."""
    declared = current_app.extensions.get("xintu_query_parameters")
    if declared is None:  # worked out once per app, on its first API request, from its OpenAPI document
        api = current_app.extensions["flask-smorest"]["blp_name_to_api"][request.blueprint]
        declared = current_app.extensions["xintu_query_parameters"] = declared_query_parameters(
            current_app, api.spec.to_dict())
    method = "GET" if request.method == "HEAD" else request.method
    allowed = declared.get((request.endpoint, method))
    if allowed is None:  # not an operation of the document (OPTIONS)
        return
    unknown = [name for name in request.args if name not in allowed]
    if unknown:
        raise Invalid(_l("Unknown query parameters: check their spelling against the API documentation."),
                      errors={name: [_l("Unknown query parameter.")] for name in unknown})


def paginate_select(session: Session, stmt: Select, pagination_parameters) -> list[Any]:
    """Count and page a select for flask-smorest's @paginate (sets the X-Pagination header)."""
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    pagination_parameters.item_count = total
    page, size = pagination_parameters.page, pagination_parameters.page_size
    offset = (page - 1) * size
    if offset >= total:  # past the last page (also a page number no database takes: a 64-bit overflow)
        return []
    return list(session.scalars(stmt.limit(size).offset(offset)).unique())


def sort_field(allowed: list[str], default: str) -> fields.Str:
    """A `sort` query field: one of the allowed names, '-' in front for descending."""
    choices = allowed + [f"-{name}" for name in allowed]
    return fields.Str(load_default=default, validate=validate.OneOf(choices),
                      metadata={"description": f"One of {', '.join(allowed)}; prefix '-' to reverse."})


def apply_sort(stmt: Select, sort: str, columns: dict[str, Any], tiebreak) -> Select:
    descending = sort.startswith("-")
    column = columns[sort.lstrip("-")]
    return stmt.order_by(column.desc() if descending else column.asc(), tiebreak)


class PlaceInputSchema(Schema):
    """A place as a user gives it: a code, a name (resolved against the reference data) or coordinates."""

    code = fields.Str(validate=validate.Length(min=6, max=12), metadata={"example": "330782001"})
    name = fields.Str(validate=validate.Length(min=2, max=120), metadata={"example": "义乌市稠城街道"})
    lat = fields.Float(validate=validate.Range(min=-90, max=90))
    lng = fields.Float(validate=validate.Range(min=-180, max=180))

    @ma.validates_schema
    def _one_way(self, data, **_kwargs):
        if ("lat" in data) != ("lng" in data):
            raise ma.ValidationError(_l("Give both lat and lng."), field_name="lat")
        if not data:
            raise ma.ValidationError(_l("Give a place code, a place name, or coordinates."),
                                     field_name="code")


class PlaceOutSchema(Schema):
    code = fields.Str()
    name = fields.Str()
    full_name = fields.Str()


class SkillEntrySchema(Schema):
    skill_code = fields.Str(allow_none=True, validate=validate.Length(max=40))
    free_text = fields.Str(allow_none=True, validate=validate.Length(min=1, max=60))
    level = fields.Int(load_default=2, validate=validate.Range(min=1, max=4))

    @ma.validates_schema
    def _names_a_skill(self, data, **_kwargs):
        if not data.get("skill_code") and not data.get("free_text"):
            raise ma.ValidationError(_l("Name a skill from the taxonomy or describe it in words."),
                                     field_name="skill_code")


class MessageSchema(Schema):
    message = fields.Str()
