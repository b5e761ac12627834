"""REST endpoints for reading free text and titles onto the reference data: the queue of free-text skills and the
readings administrators confirm (/api/v1/skill-texts), and occupation codes suggested from a slot's title."""

from __future__ import annotations

from flask.views import MethodView
from marshmallow import fields, validate

from matcher.apiutil import Schema, blueprint
from matcher.auth.current import current_actor
from matcher.extensions import db
from matcher.reference import service as reference
from matcher.reference import skill_mappings
from matcher.reference.models import MappingStatus

blp = blueprint("skill_texts", __name__, "", "Free-text skills read onto the taxonomy, and occupation codes "
                "suggested from titles.")


class SkillTextSuggestionSchema(Schema):
    code = fields.Str()
    score = fields.Float()


class SkillTextMappingSchema(Schema):
    id = fields.Int()
    text_key = fields.Str()
    text = fields.Str()
    status = fields.Enum(MappingStatus, by_value=True)
    skill_code = fields.Str(allow_none=True, metadata={"description": "Confirmed: the skill; null: names nothing."})
    suggested_code = fields.Str(allow_none=True)
    suggested_at = fields.DateTime(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)


class SkillTextSchema(Schema):
    text_key = fields.Str(metadata={"description": "The text normalised (width, case, spaces, punctuation)."})
    text = fields.Str()
    status = fields.Str(metadata={"description": "pending, suggested or confirmed."})
    code = fields.Str(allow_none=True, metadata={"description": "The skill the matcher reads it as today."})
    how = fields.Str(metadata={"description": "exact, nothing (confirmed: no skill), similar, contained (guesses), "
                                              "ambiguous or unknown (read as text only)."})
    candidates = fields.Int(metadata={"description": "People seeking work in your scope who wrote it."})
    slots = fields.Int(metadata={"description": "Live slots in your scope that require it."})
    suggestions = fields.List(fields.Nested(SkillTextSuggestionSchema))
    mapping = fields.Nested(SkillTextMappingSchema, allow_none=True)


class SkillTextQuerySchema(Schema):
    show = fields.Str(load_default="pending", validate=validate.OneOf(skill_mappings.QUEUE_SHOWS))
    q = fields.Str(validate=validate.Length(min=1, max=60))


class SkillTextReadingSchema(Schema):
    text = fields.Str(required=True, validate=validate.Length(min=1, max=60))
    skill_code = fields.Str(required=True, allow_none=True, validate=validate.Length(max=40),
                            metadata={"description": "The skill the text means; null: it names nothing in the "
                                                     "taxonomy."})


class OccupationSuggestionQuerySchema(Schema):
    title = fields.Str(load_default="", validate=validate.Length(max=100),
                       metadata={"description": "The slot's title; none: no suggestion."})
    limit = fields.Int(load_default=3, validate=validate.Range(min=1, max=10))


class OccupationSuggestionSchema(Schema):
    code = fields.Str()
    name_zh = fields.Str()
    name_en = fields.Str()
    score = fields.Float(metadata={"description": "Cosine similarity of character n-grams, 0..1."})
    matched = fields.Str(metadata={"description": "The name or alias the title is nearest."})


@blp.route("/skill-texts")
class SkillTexts(MethodView):
    @blp.arguments(SkillTextQuerySchema, location="query")
    @blp.response(200, SkillTextSchema(many=True))
    def get(self, query):
        """Free-text skills in your scope: pending (not read for sure), suggested or confirmed, most affected
        first"""
        return skill_mappings.queue(session=db.session, actor=current_actor(), **query)


@blp.route("/skill-texts/suggestions")
class SkillTextSuggestions(MethodView):
    @blp.arguments(SkillTextReadingSchema)
    @blp.response(201, SkillTextMappingSchema)
    def post(self, data):
        """Suggest what a free text of your files means (an administrator confirms it)"""
        return skill_mappings.suggest_mapping(session=db.session, actor=current_actor(), **data)


@blp.route("/skill-texts/readings")
class SkillTextReadings(MethodView):
    @blp.arguments(SkillTextReadingSchema)
    @blp.response(200, SkillTextMappingSchema)
    def post(self, data):
        """Confirm how a free text is read from now on: as a skill, or (skill_code null) as naming none
        (administrators)"""
        return skill_mappings.confirm_mapping(session=db.session, actor=current_actor(), **data)


@blp.route("/skill-texts/readings/<id:mapping_id>")
class SkillTextReading(MethodView):
    @blp.response(204)
    def delete(self, mapping_id):
        """Withdraw a reading or a suggestion: the text is read by similarity again (administrators)"""
        skill_mappings.withdraw_mapping(session=db.session, actor=current_actor(), mapping_id=mapping_id)


@blp.route("/reference/occupation-suggestions")
class OccupationSuggestions(MethodView):
    @blp.arguments(OccupationSuggestionQuerySchema, location="query")
    @blp.response(200, OccupationSuggestionSchema(many=True))
    def get(self, query):
        """Occupation codes a slot's title most likely is, best first (a suggestion: the person confirms it)"""
        current_actor()
        return reference.occupation_suggestions(session=db.session, **query)
