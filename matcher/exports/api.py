"""REST endpoints for identified exports: /api/v1/export-requests (ask, decide, download once)."""

from __future__ import annotations

from flask import Response
from flask.views import MethodView

from matcher.apiutil import MAX_PAGE_SIZE, PAGE_SIZE, blueprint, paginate_select
from matcher.auth.current import current_actor
from matcher.exports import service
from matcher.exports.schemas import (
    ExportDecisionSchema,
    ExportRequestCreateSchema,
    ExportRequestQuerySchema,
    ExportRequestReadSchema,
)
from matcher.extensions import db

blp = blueprint("exports", __name__, "/export-requests",
                "Identified exports of personal data: asked for with a reason, approved by another administrator, "
                "downloaded once. Plain exports (GET /exports/{kind}) are pseudonymous.")


@blp.route("")
class ExportRequests(MethodView):
    @blp.arguments(ExportRequestQuerySchema, location="query")
    @blp.response(200, ExportRequestReadSchema(many=True))
    @blp.paginate(page_size=PAGE_SIZE, max_page_size=MAX_PAGE_SIZE)
    def get(self, filters, pagination_parameters):
        """Your export requests, newest first (administrators: everyone's)"""
        stmt = service.list_requests(session=db.session, actor=current_actor(), filters=filters)
        return paginate_select(db.session, stmt, pagination_parameters)

    @blp.arguments(ExportRequestCreateSchema)
    @blp.response(201, ExportRequestReadSchema)
    def post(self, data):
        """Ask for an identified export, saying why; an administrator (not you) decides"""
        return service.create_request(session=db.session, actor=current_actor(), data=data)


@blp.route("/<id:request_id>")
class ExportRequestItem(MethodView):
    @blp.response(200, ExportRequestReadSchema)
    def get(self, request_id):
        """One export request (yours; administrators: any)"""
        return service.get_request(session=db.session, actor=current_actor(), request_id=request_id)


@blp.route("/<id:request_id>/approve")
class ExportRequestApprove(MethodView):
    @blp.arguments(ExportDecisionSchema)
    @blp.response(200, ExportRequestReadSchema)
    def post(self, data, request_id):
        """Approve a pending request (administrators; never your own): the asker may download it once"""
        return service.decide(session=db.session, actor=current_actor(), request_id=request_id, approve=True,
                              note=data.get("note"))


@blp.route("/<id:request_id>/refuse")
class ExportRequestRefuse(MethodView):
    @blp.arguments(ExportDecisionSchema)
    @blp.response(200, ExportRequestReadSchema)
    def post(self, data, request_id):
        """Refuse a pending request, with a note (administrators)"""
        return service.decide(session=db.session, actor=current_actor(), request_id=request_id, approve=False,
                              note=data.get("note"))


@blp.route("/<id:request_id>/file")
class ExportRequestFile(MethodView):
    @blp.doc(responses={"200": {"description": "The identified file, as an attachment (once).", "content": {
        "text/csv": {"schema": {"type": "string", "format": "binary"}},
        service.XLSX_MIMETYPE: {"schema": {"type": "string", "format": "binary"}},
    }}})
    def get(self, request_id):
        """Download the identified file of your approved request: once, before the approval expires"""
        export = service.download(session=db.session, actor=current_actor(), request_id=request_id)
        response = Response(export.content, content_type=export.mimetype)
        response.headers["Content-Disposition"] = f'attachment; filename="{export.filename}"'
        response.headers["X-Row-Count"] = str(export.count)
        response.headers["Cache-Control"] = "no-store"  # personal data (security.py sets it too)
        return response
