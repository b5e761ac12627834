"""REST endpoints for the audit log: /api/v1/audit-events (administrators only; everyone else: 404)."""

from __future__ import annotations

from flask.views import MethodView

from matcher.apiutil import MAX_PAGE_SIZE, PAGE_SIZE, blueprint, paginate_select
from matcher.audit import service
from matcher.audit.schemas import AuditEventQuerySchema, AuditEventReadSchema, AuditVerificationSchema
from matcher.auth.current import current_actor
from matcher.extensions import db

blp = blueprint("audit", __name__, "/audit-events",
                "The append-only audit log of reads of sensitive fields and of every change (administrators).")


@blp.route("")
class AuditEvents(MethodView):
    @blp.arguments(AuditEventQuerySchema, location="query")
    @blp.response(200, AuditEventReadSchema(many=True))
    @blp.paginate(page_size=PAGE_SIZE, max_page_size=MAX_PAGE_SIZE)
    def get(self, filters, pagination_parameters):
        """Search the audit log, newest first (administrators)"""
        stmt = service.search_events(session=db.session, actor=current_actor(), filters=filters)
        return paginate_select(db.session, stmt, pagination_parameters)


@blp.route("/verification")
class AuditVerification(MethodView):
    @blp.response(200, AuditVerificationSchema)
    def get(self):
        """Walk the hash chain and check its anchors: ok, or the first event or anchor that fails (administrators)"""
        return service.verify_log_for(session=db.session, actor=current_actor())
