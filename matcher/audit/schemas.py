"""What the audit log's API reads and answers."""

from __future__ import annotations

from marshmallow import fields, validate

from matcher.apiutil import IdField, Instant, Schema


class AuditEventQuerySchema(Schema):
    actor_id = IdField()
    object_type = fields.Str(validate=validate.Length(max=32), metadata={"example": "candidate"})
    object_id = IdField()
    action = fields.Str(validate=validate.Length(max=24), metadata={"example": "read"})
    date_from = fields.Date(metadata={"description": "From this day (China's calendar), inclusive."})
    date_to = fields.Date(metadata={"description": "Up to this day (China's calendar), inclusive."})


class AuditEventReadSchema(Schema):
    id = fields.Int()
    at = Instant()
    actor_id = fields.Int(allow_none=True, metadata={"description": "None: the system (a command) or a failed login"})
    actor_role = fields.Str(allow_none=True)
    action = fields.Str()
    object_type = fields.Str()
    object_id = fields.Int(allow_none=True)
    fields_ = fields.Method("_field_names", data_key="fields",
                           metadata={"description": "Names of the fields read or changed, never their values"})
    remote_addr = fields.Str(allow_none=True)
    prev_hash = fields.Str()
    hash = fields.Str()

    def _field_names(self, event) -> list[str]:
        return event.fields.split(",") if event.fields else []


class AuditVerificationSchema(Schema):
    ok = fields.Bool()
    first_bad_id = fields.Int(allow_none=True)
    checked = fields.Int()
