"""REST endpoints of the bureau's report: /api/v1/reports/figures (JSON) and /api/v1/reports/figures.xlsx."""

from __future__ import annotations

from flask import Response
from flask.views import MethodView

from matcher.apiutil import blueprint
from matcher.auth.current import current_actor
from matcher.extensions import db
from matcher.reports import service
from matcher.reports.export import XLSX_MIMETYPE, report_workbook, workbook_name
from matcher.reports.schemas import ReportExportQuerySchema, ReportQuerySchema, ReportSchema

blp = blueprint("reports", __name__, "/reports",
                "The figures a bureau reports, for a period and an area (administrators of the bureau).")


def _period(query: dict) -> tuple:
    default_from, default_to = service.default_period()
    return query.get("date_from") or default_from, query.get("date_to") or default_to


@blp.route("/figures")
class Figures(MethodView):
    @blp.arguments(ReportQuerySchema, location="query")
    @blp.response(200, ReportSchema)
    def get(self, query):
        """The bureau's figures for a period and an area, optionally by district, office and month

        Administrators only, inside their bureau's area: a district or office outside it is a 422 naming the
        field. Each figure's definition is in this schema and in `definitions` (in the language asked for)."""
        date_from, date_to = _period(query)
        result = service.report(session=db.session, actor=current_actor(), date_from=date_from, date_to=date_to,
                                district=query.get("district"), office_id=query.get("office_id"),
                                by=query.get("by"), months=query["months"])
        result["definitions"] = service.figure_definitions()
        return result


@blp.route("/figures.xlsx")
class FiguresWorkbook(MethodView):
    @blp.arguments(ReportExportQuerySchema, location="query")
    @blp.doc(responses={"200": {"description": "The report as an Excel workbook (an attachment): summary with "
                                               "definitions, by district, by office, by month.", "content": {
        XLSX_MIMETYPE: {"schema": {"type": "string", "format": "binary"}}}}})
    def get(self, query):
        """Download the report as Excel: summary, by district, by office, by month"""
        actor = current_actor()
        date_from, date_to = _period(query)
        content = report_workbook(session=db.session, actor=actor, date_from=date_from, date_to=date_to,
                                  district=query.get("district"), office_id=query.get("office_id"),
                                  lang=query["lang"])
        code = query.get("district") or actor.bureau_code or "area"
        if query.get("office_id"):
            code = f"office{query['office_id']}"
        response = Response(content, content_type=XLSX_MIMETYPE)
        response.headers["Content-Disposition"] = f'attachment; filename="{workbook_name(code, date_from, date_to)}"'
        return response
