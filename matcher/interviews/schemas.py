"""Schemas of interviews arranged for referrals."""

from __future__ import annotations

import datetime as dt
import re

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields, validate, validates

from matcher import clock
from matcher.apiutil import IdField, Instant, Schema
from matcher.interviews.models import InterviewStatus
from matcher.interviews.service import MAX_DAYS_AHEAD, Action

PHONE = re.compile(r"^\+?[0-9][0-9 \-]{5,18}[0-9]$")
NOTE_AUDIENCE = "Shared: read by the base and by the office that keeps the file (never an internal note)."


def _required_text(max_length: int) -> fields.Str:
    return fields.Str(required=True, validate=validate.Length(min=1, max=max_length))


class InterviewProposeSchema(Schema):
    starts_at = Instant(required=True, metadata={
        "description": "When the interview begins. Write it with its offset, e.g. 2026-12-08T09:30:00+08:00 (China "
                       "time); it must be in the future, after the referral, and within 180 days."})
    place = _required_text(200)
    contact_name = _required_text(40)
    contact_phone = _required_text(20)
    bring = fields.Str(allow_none=True, validate=validate.Length(max=200), metadata={
        "description": "What the person should bring; the slip says 身份证、个人简历… when empty."})
    note = fields.Str(allow_none=True, validate=validate.Length(max=300), metadata={"description": NOTE_AUDIENCE})

    @validates("starts_at")
    def _in_future(self, value, **_kwargs) -> None:
        """Checked here too, so that a time in the past is reported with every other wrong field at once."""
        if clock.as_utc(value) <= clock.now():
            raise ValidationError(_l("The interview's time must be in the future."))
        if clock.as_utc(value) > clock.now() + dt.timedelta(days=MAX_DAYS_AHEAD):
            raise ValidationError(_l("The interview must be within %(days)s days.", days=MAX_DAYS_AHEAD))

    @validates("contact_phone")
    def _phone(self, value: str, **_kwargs) -> None:
        if not PHONE.match(value.strip()):
            raise ValidationError(_l("Enter a phone number (digits, may begin with +)."))


class InterviewActionSchema(Schema):
    action = fields.Str(required=True, validate=validate.OneOf(Action.ALL), metadata={
        "description": "confirm / other_time (the office), cancel (either side), attended / no_show (either side, "
                       "once the time has come)."})
    note = fields.Str(allow_none=True, validate=validate.Length(max=300), metadata={"description": NOTE_AUDIENCE})


class ReferralInterviewReadSchema(Schema):
    id = fields.Int()
    referral_id = IdField()
    status = fields.Enum(InterviewStatus, by_value=True)
    starts_at = Instant()
    place = fields.Str()
    contact_name = fields.Str()
    contact_phone = fields.Str()
    bring = fields.Str(allow_none=True)
    note = fields.Str(allow_none=True, metadata={"description": NOTE_AUDIENCE})
    next_actions = fields.List(fields.Str(), metadata={"description": "Steps you can take now."})
    appointment_texted_at = Instant(allow_none=True, metadata={"description": "When the person was texted."})
    reminder_texted_at = Instant(allow_none=True)
    text_error = fields.Str(allow_none=True, metadata={"description": "Why the last text failed (a code)."})
    created_at = Instant()
    updated_at = Instant()
