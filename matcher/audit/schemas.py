"""What the audit log's API reads and answers."""

from __future__ import annotations

from marshmallow import fields, validate

from matcher.apiutil import IdField, Instant, Schema, sort_field


class AuditEventQuerySchema(Schema):
    actor_id = IdField()
    object_type = fields.Str(validate=validate.Length(max=32), metadata={"example": "candidate"})
    object_id = IdField()
    action = fields.Str(validate=validate.Length(max=24), metadata={"example": "read"})
    date_from = fields.Date(metadata={"description": "From this day (China's calendar), inclusive."})
    date_to = fields.Date(metadata={"description": "Up to this day (China's calendar), inclusive."})
    q = fields.Str(validate=validate.Length(max=100), metadata={
        "description": "Any part of the actor's username or of the field names; a number also finds the record id."})
    sort = sort_field(["id", "at", "action", "object_type", "actor"], "-id")


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
    key_id = fields.Str(allow_none=True, metadata={
        "description": "The audit key that signed `hash` (HMAC-SHA256); none: a plain SHA-256 from before the key"})

    def _field_names(self, event) -> list[str]:
        return event.fields.split(",") if event.fields else []


class AuditAnchorSchema(Schema):
    event_id = fields.Int()
    hash = fields.Str()
    events = fields.Int(metadata={"description": "Events in the log up to and including `event_id`"})
    at = Instant(attribute="instant", metadata={"description": "When the checkpoint was taken."})
    key_id = fields.Str()


class AuditAnchorCheckSchema(Schema):
    ok = fields.Bool(metadata={"description": "Every anchor is signed with the audit key and the log still holds "
                                              "each anchored event, and at least as many events"})
    checked = fields.Int(metadata={"description": "Anchors read from the anchor file"})
    latest = fields.Nested(AuditAnchorSchema, allow_none=True,
                           metadata={"description": "The newest anchor whose signature holds; none: no checkpoint yet"})
    failing_line = fields.Int(allow_none=True, metadata={"description": "Line of the first anchor that does not hold"})
    problem = fields.Str(attribute="message", allow_none=True,
                         metadata={"description": "Why the first failing anchor fails, in the asker's language"})


class AuditVerificationSchema(Schema):
    ok = fields.Bool(metadata={"description": "The chain and every anchor hold"})
    first_bad_id = fields.Int(attribute="chain.first_bad_id", allow_none=True,
                              metadata={"description": "The first event that does not fit the chain"})
    checked = fields.Int(attribute="chain.checked", metadata={"description": "Events checked"})
    legacy_events = fields.Int(metadata={"description": "Events from before the chain was keyed (plain SHA-256)"})
    key_id = fields.Str(attribute="key.key_id", metadata={"description": "The audit key the log was checked with"})
    anchors = fields.Nested(AuditAnchorCheckSchema)
