"""The bureau's own reference (本单位编号) on candidates, bases and slots: its form, whose it is, and finding by it.

A bureau arriving with years of spreadsheets knows its records by its own numbers. Xintu keeps that number as
`external_id` beside its own ids so files, plans and exports can be joined back to the bureau's records.

Whose reference it is (`external_scope`), one rule for every writer: the county or district (区县) of the
record's place, i.e. the first six digits of its place code. For a candidate that place is the township of the
judicial office keeping the file; for a base its place; for a slot its base's place. A base or slot placed at
city (or province) level belongs to that city's (province's) code. The same record therefore gets the same scope
whoever writes it (the command line's system account, an administrator, a caseworker), and a reference is unique
within it: two candidates (or two bases, or two slots) of one county cannot share one. The scope is set when the
reference is written and kept when a file moves (the reference stays the old bureau's number).

Finding by a reference (imports, `assign --candidates-file`) happens inside the actor's scope (matcher.policy),
and only among references of the actor's own area (`policy.reference_area`), so another bureau's identical
reference is never found.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from matcher.errors import Conflict, Invalid

MAX_LENGTH = 64
BUREAU_SETS_REFERENCE = _l("The bureau's own reference is set by the bureau.")


def scope_of(place_code: str) -> str:
    """The county or district code of a place code (330782001 -> 330782); a city's or province's own code."""
    return place_code[:6]


class ExternalIdField(fields.Str):
    """Optional text up to 64 characters, trimmed; empty (or blank) means none, and clears it on an update."""

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("allow_none", True)
        kwargs.setdefault("metadata", {"description": "本单位编号: the bureau's own reference, unique in the "
                                                      "county or district of the record's place.",
                                       "maxLength": MAX_LENGTH})
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if not text:
            return None
        if len(text) > MAX_LENGTH:
            raise ValidationError(_l("At most %(max)s characters.", max=MAX_LENGTH))
        if any(not character.isprintable() for character in text):
            raise ValidationError(_l("The reference holds an invisible or control character."))
        return text


def set_reference(session: Session, record: Any, place_code: str | None, message: Any) -> None:
    """Give `record` the scope of its reference, from its place; raise Conflict (`message`) when another record
    of the same kind in that scope already holds it."""
    if record.external_id is None or place_code is None:
        record.external_scope = None
        return
    scope = scope_of(place_code)
    model = getattr(record, "__model__", type(record))  # a batch's draft (candidates.service) names its model
    stmt = select(model.id).where(model.external_scope == scope, model.external_id == record.external_id)
    if record.id is not None:
        stmt = stmt.where(model.id != record.id)
    with session.no_autoflush:
        taken = session.scalar(stmt.limit(1))
    if taken is not None:
        raise Conflict(message, field="external_id")
    record.external_scope = scope


def find_many(session: Session, scope: Select, model: type, references, area: str) -> dict[str, Any]:
    """`find` for many references at once (a file's): the records found, by reference (stripped), for the
    references that name exactly one; ask `find` about the others (none, or several: its answer says which)."""
    wanted = sorted({reference.strip() for reference in references})
    found: dict[str, list] = {}
    for start in range(0, len(wanted), 500):
        stmt = scope.where(model.external_id.in_(wanted[start:start + 500]))
        if area:
            stmt = stmt.where(model.external_scope.startswith(area))
        for record in session.scalars(stmt).unique():
            found.setdefault(record.external_id, []).append(record)
    return {reference: records[0] for reference, records in found.items() if len(records) == 1}


def find(session: Session, scope: Select, model: type, reference: str, area: str) -> Any | None:
    """The one record of `scope` (a policy query) whose reference is `reference`, among the references of `area`
    (a scope prefix, "" for every area). None when there is none; Invalid when several bureaus of the area use it."""
    stmt = scope.where(model.external_id == reference.strip())
    if area:
        stmt = stmt.where(model.external_scope.startswith(area))
    found = list(session.scalars(stmt.limit(2)).unique())
    if len(found) > 1:
        raise Invalid(_l("Several records of your area have this reference (in different counties): use "
                         "Xintu's id."), field="external_id")
    return found[0] if found else None
