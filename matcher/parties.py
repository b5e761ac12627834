"""The audiences of the data that leaves the server, and how a field of an object is read: the vocabulary the
access policy (who an account is to an object) and the disclosure model (who reads which field) share."""

from __future__ import annotations

import enum
from typing import Any


class Party(enum.StrEnum):
    """An audience: every field that leaves the server names the parties that may read it, and an account reads
    it when it is one of them for that object (matcher.policy decides that)."""

    OFFICE = "office"  # caseworkers of the file's jurisdiction, and the administrators of its area
    BUREAU = "bureau"  # administrators and organisers of the area (reports, the bases register, records)
    ADMIN = "admin"  # administrators of the area only (accounts, audit, approvals)
    ORGANISER = "organiser"  # the organisers (and administrators) of the fair's area
    STAFF = "staff"  # any caseworker, organiser or administrator
    BASE = "base"  # the base the object concerns, through its employer accounts
    BASE_CONSENTED = "base_consented"  # that base, with the person's consent for it and the purpose in force
    SELF = "self"  # the account the object belongs to (its notifications, jobs, requests, token)
    SIGNED_IN = "signed_in"  # anyone signed in (reference data)


def field_value(obj: Any, name: str) -> Any:
    """A field of an object: an attribute, or a key of a plain view of it (some services answer with dicts)."""
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)
