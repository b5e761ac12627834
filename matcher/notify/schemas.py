"""Schemas for notifications: one's own list, its filter, and the unread count."""

from __future__ import annotations

from marshmallow import fields

from matcher.apiutil import Instant, Schema
from matcher.notify.models import NotificationKind


class NotificationListQuerySchema(Schema):
    unread = fields.Bool(metadata={"description": "true: only unread; false: only read; absent: all (unread first)."})


class NotificationReadSchema(Schema):
    id = fields.Int()
    kind = fields.Enum(NotificationKind, by_value=True)
    subject = fields.Str(metadata={"description": "The message's title, in the request's language."})
    body = fields.Str(metadata={"description": "The message, in the request's language."})
    subject_type = fields.Str(allow_none=True, metadata={
        "description": "What it is about: referral, company or follow_up (with subject_id where there is one)."})
    subject_id = fields.Int(allow_none=True)
    params = fields.Dict(metadata={"description": "The values in the message (public numbers, titles, dates)."})
    created_at = Instant()
    read_at = Instant(allow_none=True)
    emailed_at = Instant(allow_none=True)


class UnreadCountSchema(Schema):
    unread = fields.Int()


class ReadAllSchema(Schema):
    marked = fields.Int(metadata={"description": "How many notifications were marked read."})
