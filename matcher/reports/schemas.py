"""Request and response schemas of the bureau's report; each figure's description is its definition."""

from __future__ import annotations

from marshmallow import fields, validate

from matcher.apiutil import IdField, Schema
from matcher.reports.definitions import BY_KEY, FIGURES, MONTHLY, RATE, RULES

PERIOD_RULES = " ".join(RULES)


def _figure_field(key: str) -> fields.Field:
    figure = BY_KEY[key]
    if figure.when == RATE:
        return fields.Float(allow_none=True, metadata={
            "description": f"{figure.label}: {figure.definition} A fraction (0.25 = 25 %); null when the "
                           f"denominator is 0."})
    when = "On the period's last day" if figure.when == "end" else "In the period"
    return fields.Int(metadata={"description": f"{figure.label} ({when}): {figure.definition}"})


FiguresSchema = Schema.from_dict({f.key: _figure_field(f.key) for f in FIGURES}, name="ReportFigures")
MonthFiguresSchema = Schema.from_dict({key: _figure_field(key) for key in MONTHLY}, name="ReportMonthFigures")


class _PeriodAreaSchema(Schema):
    date_from = fields.Date(metadata={"description": "First day of the period (default: 1 January this year)."})
    date_to = fields.Date(metadata={"description": "Last day of the period, included (default: today). A period "
                                                   "reaching past today is counted up to today."})
    district = fields.Str(validate=validate.Length(min=6, max=6), metadata={
        "description": "A district of the bureau's area (its place code): the report for that district only.",
        "example": "330782"})
    office_id = IdField(metadata={"description": "A judicial office of the bureau's area (and of `district` when "
                                                "given): the report for that office only."})


class ReportQuerySchema(_PeriodAreaSchema):
    by = fields.Str(validate=validate.OneOf(["district", "office", "both"]), metadata={
        "description": "Add rows by district, by judicial office, or both, inside the area."})
    months = fields.Bool(load_default=False, metadata={"description": "Add a row per month of the period."})


class ReportExportQuerySchema(_PeriodAreaSchema):
    lang = fields.Str(load_default="zh", validate=validate.OneOf(["zh", "en"]), metadata={
        "description": "Sheet names, headers and definitions in Chinese (default) or English."})


class AreaSchema(Schema):
    level = fields.Str(metadata={"description": "bureau (the bureau's whole area), district or office."})
    code = fields.Str(metadata={"description": "Place code of the area (an office: its township)."})
    name = fields.Str()
    district = fields.Str(allow_none=True)
    office_id = fields.Int(allow_none=True)


class ReportRowSchema(Schema):
    code = fields.Str(metadata={"description": "The district's code, or the office's township code."})
    name = fields.Str()
    office_id = fields.Int(allow_none=True)
    district = fields.Str(metadata={"description": "Rows by office: the office's district."})
    district_name = fields.Str()
    figures = fields.Nested(FiguresSchema)


class ReportMonthSchema(Schema):
    month = fields.Str(metadata={"example": "2025-03"})
    figures = fields.Nested(MonthFiguresSchema)


class DefinitionSchema(Schema):
    key = fields.Str()
    label = fields.Str()
    definition = fields.Str()
    when = fields.Str(metadata={"description": "period (in the period), end (on the last day) or rate."})


class ReportSchema(Schema):
    area = fields.Nested(AreaSchema)
    date_from = fields.Date()
    date_to = fields.Date()
    on = fields.Date(metadata={"description": "The counted last day: date_to, or today when the period reaches "
                                              "past today. The figures of the last day are as on this day."})
    figures = fields.Nested(FiguresSchema, metadata={"description": PERIOD_RULES})
    by_district = fields.List(fields.Nested(ReportRowSchema), allow_none=True)
    by_office = fields.List(fields.Nested(ReportRowSchema), allow_none=True)
    by_month = fields.List(fields.Nested(ReportMonthSchema), allow_none=True)
    definitions = fields.List(fields.Nested(DefinitionSchema), metadata={
        "description": "What each figure means, in the language asked for (Accept-Language)."})
