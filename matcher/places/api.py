"""REST endpoints for reference data: places, judicial offices, courses, skills, occupations."""

from __future__ import annotations

from flask.views import MethodView
from marshmallow import fields, validate

from matcher.apiutil import MAX_PAGE_SIZE, PAGE_SIZE, Schema, blueprint, paginate_select
from matcher.auth.current import current_actor
from matcher.extensions import db
from matcher.offices import service as offices
from matcher.places import service as places
from matcher.places.models import PlaceLevel
from matcher.reference import service as reference

blp = blueprint("reference", __name__, "", "Reference data: places, judicial offices, courses, skills.")


class PlaceSchema(Schema):
    code = fields.Str()
    name = fields.Str()
    full_name = fields.Str()
    level = fields.Enum(PlaceLevel, by_value=True)
    parent_code = fields.Str(allow_none=True)
    lat = fields.Float()
    lng = fields.Float()


class PlaceQuerySchema(Schema):
    level = fields.Enum(PlaceLevel, by_value=True)
    parent = fields.Str(validate=validate.Length(min=6, max=12))
    q = fields.Str(validate=validate.Length(min=1, max=60))


class OfficeSchema(Schema):
    id = fields.Int()
    name = fields.Str()
    township_code = fields.Str()
    township_name = fields.Function(lambda o: o.township.full_name)
    phone = fields.Str(allow_none=True)


class OfficeQuerySchema(Schema):
    place = fields.Str(validate=validate.Length(min=6, max=12))


class CourseSchema(Schema):
    code = fields.Str()
    name_zh = fields.Str()
    name_en = fields.Str()
    min_age = fields.Int()
    duration_days = fields.Int()
    certificate = fields.Str(allow_none=True)


class SkillSchema(Schema):
    code = fields.Str()
    name_zh = fields.Str()
    name_en = fields.Str()
    course_code = fields.Str(allow_none=True)
    standard_occupation = fields.Str(allow_none=True, metadata={
        "description": "The occupation (2022 code) of the national skill standard the skill is taken from."})
    standard_grade = fields.Int(allow_none=True, metadata={
        "description": "The standard's lowest grade asking for it: 5 五级/初级工, 4 四级/中级工, 3 三级/高级工, "
                       "2 二级/技师, 1 一级/高级技师."})


class SkillQuerySchema(Schema):
    course = fields.Str()


class OccupationSchema(Schema):
    code = fields.Str()
    name_zh = fields.Str()
    name_en = fields.Str()
    level = fields.Int(metadata={"description": "1 大类, 2 中类, 3 小类, 4 细类 (the occupations a slot names)."})
    marks = fields.Str(allow_none=True, metadata={"description": "L a green occupation, S a digital one."})
    aliases = fields.Str(allow_none=True, metadata={"description": "Job titles used for it, comma separated."})


class OccupationQuerySchema(Schema):
    level = fields.Int(load_default=4, validate=validate.Range(min=1, max=4))
    q = fields.Str(validate=validate.Length(min=1, max=60))


@blp.route("/places")
class Places(MethodView):
    @blp.arguments(PlaceQuerySchema, location="query")
    @blp.response(200, PlaceSchema(many=True))
    @blp.paginate(page_size=PAGE_SIZE, max_page_size=MAX_PAGE_SIZE)
    def get(self, query, pagination_parameters):
        """Administrative divisions with coordinates"""
        current_actor()
        return paginate_select(db.session, places.list_places(session=db.session, **query), pagination_parameters)


@blp.route("/places/<code>")
class PlaceByCode(MethodView):
    @blp.response(200, PlaceSchema)
    def get(self, code):
        """One place"""
        current_actor()
        return places.get_place(session=db.session, code=code)


@blp.route("/offices")
class Offices(MethodView):
    @blp.arguments(OfficeQuerySchema, location="query")
    @blp.response(200, OfficeSchema(many=True))
    @blp.paginate(page_size=PAGE_SIZE, max_page_size=MAX_PAGE_SIZE)
    def get(self, query, pagination_parameters):
        """Judicial offices (司法所)"""
        current_actor()
        return paginate_select(db.session, offices.list_offices(session=db.session, **query),
                               pagination_parameters)


@blp.route("/offices/<id:office_id>")
class OfficeById(MethodView):
    @blp.response(200, OfficeSchema)
    def get(self, office_id):
        """One judicial office"""
        current_actor()
        return offices.get_office(session=db.session, office_id=office_id)


@blp.route("/reference/courses")
class Courses(MethodView):
    @blp.response(200, CourseSchema(many=True))
    def get(self):
        """Training courses"""
        current_actor()
        return reference.list_courses(session=db.session)


@blp.route("/reference/skills")
class Skills(MethodView):
    @blp.arguments(SkillQuerySchema, location="query")
    @blp.response(200, SkillSchema(many=True))
    def get(self, query):
        """The skills taxonomy"""
        current_actor()
        return reference.list_skills(session=db.session, **query)


@blp.route("/reference/occupations")
class Occupations(MethodView):
    @blp.arguments(OccupationQuerySchema, location="query")
    @blp.response(200, OccupationSchema(many=True))
    def get(self, query):
        """Occupations of the national classification (2022): by default the level-4 ones a slot names"""
        current_actor()
        return reference.list_occupations(session=db.session, **query)
