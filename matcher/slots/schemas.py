"""Request and response schemas for slots."""

from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields, validate, validates_schema

from matcher.apiutil import IdField, Instant, PlaceInputSchema, PlaceOutSchema, Schema, SkillEntrySchema, sort_field
from matcher.clock import today
from matcher.extensions import db
from matcher.external_ids import ExternalIdField
from matcher.slots.models import SlotKind, SlotStatus

# How far ahead a slot may start, and how long it may run: a date beyond these is a typing slip.
START_AHEAD_DAYS = 2 * 366
LONGEST_DAYS = 10 * 366


class SlotCreateSchema(Schema):
    company_id = IdField(metadata={"description": "Administrators only; employers post for their own base."})
    external_id = ExternalIdField()
    kind = fields.Enum(SlotKind, by_value=True, required=True)
    title = fields.Str(required=True, validate=validate.Length(min=2, max=100))
    description = fields.Str(validate=validate.Length(max=4000))
    occupation_code = fields.Str(allow_none=True, validate=validate.Length(max=16))
    course_code = fields.Str(allow_none=True, validate=validate.Length(max=32))
    required_skills = fields.List(fields.Nested(SkillEntrySchema), validate=validate.Length(max=20))
    seats = fields.Int(required=True, validate=validate.Range(min=1, max=1000))
    place = fields.Nested(PlaceInputSchema, required=True)
    address = fields.Str(validate=validate.Length(max=200))
    pay_min = fields.Int(allow_none=True, validate=validate.Range(min=0, max=100000))
    pay_max = fields.Int(allow_none=True, validate=validate.Range(min=0, max=100000))
    hours_per_week = fields.Int(allow_none=True, validate=validate.Range(min=1, max=84))
    housing_provided = fields.Bool()
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(allow_none=True)
    certificate_awarded = fields.Bool()
    min_age = fields.Int(validate=validate.Range(min=16, max=70))

    # A new slot cannot start in the past; an edit of a slot that has started may keep its start.
    new_slot = True

    @validates_schema(skip_on_field_errors=False)
    def _coherent(self, data, partial=False, **_kwargs):
        """Every rule across fields, and the codes and place checked against the reference data, in one answer
        together with the fields' own errors (skip_on_field_errors=False): a form is refused once, with all that
        is wrong, never one error a round. A field whose own value is already wrong is not judged again here."""
        from matcher.slots.service import reference_errors

        errors: dict[str, list] = {}

        def add(field: str, message) -> None:
            errors.setdefault(field, []).append(message)

        if data.get("kind") == SlotKind.TRAINING and not data.get("course_code") and not partial:
            add("course_code", _l("A training slot names its course."))
        if data.get("pay_min") is not None and data.get("pay_max") is not None \
                and data["pay_min"] > data["pay_max"]:
            add("pay_min", _l("The lowest pay is above the highest."))
        starts, ends = data.get("starts_on"), data.get("ends_on")
        day = today()
        if starts is not None:
            if self.new_slot and starts < day:
                add("starts_on", _l("A new slot cannot start before today."))
            elif starts > day + dt.timedelta(days=START_AHEAD_DAYS):
                add("starts_on", _l("The start is more than two years away; check the year."))
        if ends is not None and starts is not None:
            if ends <= starts:
                add("ends_on", _l("The end date must be after the start date."))
            elif ends > starts + dt.timedelta(days=LONGEST_DAYS):
                add("ends_on", _l("The end is more than ten years after the start; check the year."))
        for field, messages in reference_errors(db.session, data).items():
            errors.setdefault(field, messages)
        if errors:
            raise ValidationError(errors)


class SlotUpdateSchema(SlotCreateSchema):
    new_slot = False


class SlotSkillOutSchema(Schema):
    skill_code = fields.Str(allow_none=True)
    free_text = fields.Str(allow_none=True)
    level = fields.Int()


class SlotReadSchema(Schema):
    id = fields.Int()
    company_id = IdField()
    company_name = fields.Function(lambda slot: slot.company.name)
    external_id = fields.Str(allow_none=True)
    kind = fields.Enum(SlotKind, by_value=True)
    title = fields.Str()
    description = fields.Str(allow_none=True)
    occupation_code = fields.Str(allow_none=True)
    course_code = fields.Str(allow_none=True)
    required_skills = fields.List(fields.Nested(SlotSkillOutSchema))
    seats = fields.Int()
    seats_taken = fields.Int()
    seats_free = fields.Int()
    place = fields.Nested(PlaceOutSchema)
    address = fields.Str(allow_none=True)
    lat = fields.Float()
    lng = fields.Float()
    pay_min = fields.Int(allow_none=True)
    pay_max = fields.Int(allow_none=True)
    hours_per_week = fields.Int(allow_none=True)
    housing_provided = fields.Bool()
    starts_on = fields.Date()
    ends_on = fields.Date(allow_none=True)
    certificate_awarded = fields.Bool()
    subsidy_eligible = fields.Bool()
    min_age = fields.Int()
    status = fields.Enum(SlotStatus, by_value=True)
    created_at = Instant()


class SlotListQuerySchema(Schema):
    company_id = IdField()
    kind = fields.Enum(SlotKind, by_value=True)
    course = fields.Str()
    status = fields.Enum(SlotStatus, by_value=True)
    place = fields.Str(metadata={"description": "A place code; slots inside it."})
    has_free_seats = fields.Bool()
    q = fields.Str(validate=validate.Length(min=1, max=50))
    sort = sort_field(["starts_on", "created_at", "title", "pay_max"], "-created_at")


class SlotStatusSchema(Schema):
    status = fields.Str(required=True, validate=validate.OneOf(["open", "closed"]))
