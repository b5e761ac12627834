"""Request and response schemas for slots."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields, validate, validates_schema

from matcher.apiutil import IdField, Instant, PlaceInputSchema, PlaceOutSchema, Schema, SkillEntrySchema, sort_field
from matcher.slots.models import SlotKind, SlotStatus


class SlotCreateSchema(Schema):
    company_id = IdField(metadata={"description": "Administrators only; employers post for their own base."})
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

    @validates_schema
    def _coherent(self, data, partial=False, **_kwargs):
        if data.get("kind") == SlotKind.TRAINING and not data.get("course_code") and not partial:
            raise ValidationError(_l("A training slot names its course."), field_name="course_code")
        if data.get("pay_min") is not None and data.get("pay_max") is not None \
                and data["pay_min"] > data["pay_max"]:
            raise ValidationError(_l("The lowest pay is above the highest."), field_name="pay_min")
        if data.get("ends_on") and data.get("starts_on") and data["ends_on"] < data["starts_on"]:
            raise ValidationError(_l("The slot ends before it starts."), field_name="ends_on")


class SlotUpdateSchema(SlotCreateSchema):
    pass


class SlotSkillOutSchema(Schema):
    skill_code = fields.Str(allow_none=True)
    free_text = fields.Str(allow_none=True)
    level = fields.Int()


class SlotReadSchema(Schema):
    id = fields.Int()
    company_id = IdField()
    company_name = fields.Function(lambda slot: slot.company.name)
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
