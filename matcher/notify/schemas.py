"""Schemas for notifications: one's own list, its filter, and the unread count."""

from __future__ import annotations

from marshmallow import fields, validate

from matcher.apiutil import Instant, Schema, sort_field
from matcher.notify.models import NotificationKind


class NotificationListQuerySchema(Schema):
    unread = fields.Bool(metadata={"description": "true: only unread (and open); false: only read; absent: all "
                                                  "(open first, unread first)."})
    show = fields.Str(validate=validate.OneOf(("all", "open", "unread", "done")), metadata={
        "description": "open: tasks not done yet and notices not yet read; done: the rest; unread: open and unread."})
    q = fields.Str(validate=validate.Length(max=100), metadata={
        "description": "Any part of the values a notice holds (a file number, a slot's title, a base's name)."})
    sort = sort_field(["created_at", "kind"], "")


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
    task_key = fields.Str(allow_none=True, metadata={
        "description": "The task the notice announces (record kind and id, e.g. export_request:3); none: it informs."})
    done_at = Instant(allow_none=True, metadata={
        "description": "When the task was done (or an informing notice read): the notice is closed."})
    open = fields.Method("_open", metadata={"description": "Not done yet: the unread count counts open unread ones."})
    emailed_at = Instant(allow_none=True)


    def _open(self, item) -> bool:
        return item.done_at is None


class UnreadCountSchema(Schema):
    unread = fields.Int()


class ReadAllSchema(Schema):
    marked = fields.Int(metadata={"description": "How many notifications were marked read."})
