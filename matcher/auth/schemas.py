"""Schemas for logging in, tokens and accounts."""

from __future__ import annotations

from marshmallow import fields, validate

from matcher.apiutil import IdField, Instant, Schema
from matcher.auth.models import Role


class LoginSchema(Schema):
    username = fields.Str(required=True, validate=validate.Length(min=1, max=60))
    password = fields.Str(required=True, load_only=True, validate=validate.Length(min=1, max=200))
    name = fields.Str(load_default="api", validate=validate.Length(min=1, max=60),
                      metadata={"description": "A label for the token, e.g. the script using it."})


class TokenSchema(Schema):
    token = fields.Str(metadata={"description": "Shown once; send as `Authorization: Bearer <token>`."})
    expires_at = Instant()


class AccountCreateSchema(Schema):
    username = fields.Str(required=True, validate=validate.Regexp(r"^[A-Za-z0-9_.\-]{3,60}$"))
    display_name = fields.Str(required=True, validate=validate.Length(min=1, max=60))
    password = fields.Str(required=True, load_only=True, validate=validate.Length(min=10, max=200))
    role = fields.Enum(Role, by_value=True, required=True)
    office_id = IdField(allow_none=True)
    company_id = IdField(allow_none=True)
    bureau_code = fields.Str(allow_none=True, validate=validate.Length(min=6, max=12))
    email = fields.Email(allow_none=True, validate=validate.Length(max=120),
                         metadata={"description": "Where notifications are also emailed (optional)."})


class AccountUpdateSchema(Schema):
    display_name = fields.Str(validate=validate.Length(min=1, max=60))
    password = fields.Str(load_only=True, validate=validate.Length(min=10, max=200))
    is_active_account = fields.Bool(data_key="is_active")
    office_id = IdField(allow_none=True)
    company_id = IdField(allow_none=True)
    bureau_code = fields.Str(allow_none=True, validate=validate.Length(min=6, max=12))
    email = fields.Email(allow_none=True, validate=validate.Length(max=120),
                         metadata={"description": "Where notifications are also emailed (optional)."})
    unlock = fields.Bool(load_only=True, metadata={
        "description": "true: lift every lock after failed logins, from whichever address."})


class AccountReadSchema(Schema):
    id = fields.Int()
    username = fields.Str()
    display_name = fields.Str()
    role = fields.Enum(Role, by_value=True)
    office_id = IdField(allow_none=True)
    company_id = IdField(allow_none=True)
    bureau_code = fields.Str(allow_none=True)
    email = fields.Str(allow_none=True)
    is_active = fields.Bool()
    last_login_at = Instant(allow_none=True)
    locked_until = Instant(allow_none=True, metadata={
        "description": "The end of the latest lock after too many failed logins from one address (logins "
                       "from other addresses go on)."})


class AccountListQuerySchema(Schema):
    role = fields.Enum(Role, by_value=True)
