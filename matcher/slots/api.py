"""REST endpoints for slots: /api/v1/slots."""

from __future__ import annotations

from flask.views import MethodView

from matcher.apiutil import MAX_PAGE_SIZE, PAGE_SIZE, blueprint, paginate_select
from matcher.auth.current import current_actor
from matcher.extensions import db
from matcher.slots import service
from matcher.slots.schemas import (
    SlotCreateSchema,
    SlotListQuerySchema,
    SlotReadSchema,
    SlotStatusSchema,
    SlotUpdateSchema,
)

blp = blueprint("slots", __name__, "/slots", "Job and training slots posted by bases.")


@blp.route("")
class Slots(MethodView):
    @blp.arguments(SlotListQuerySchema, location="query")
    @blp.response(200, SlotReadSchema(many=True))
    @blp.paginate(page_size=PAGE_SIZE, max_page_size=MAX_PAGE_SIZE)
    def get(self, filters, pagination_parameters):
        """List slots visible to you"""
        stmt = service.list_slots(session=db.session, actor=current_actor(), filters=filters)
        return paginate_select(db.session, stmt, pagination_parameters)

    @blp.arguments(SlotCreateSchema)
    @blp.response(201, SlotReadSchema)
    def post(self, data):
        """Post a slot (as a draft) for your base"""
        return service.create_slot(session=db.session, actor=current_actor(), data=data)


@blp.route("/<id:slot_id>")
class SlotById(MethodView):
    @blp.response(200, SlotReadSchema)
    def get(self, slot_id):
        """Read one slot"""
        return service.get_slot(session=db.session, actor=current_actor(), slot_id=slot_id)

    @blp.arguments(SlotUpdateSchema(partial=True))
    @blp.response(200, SlotReadSchema)
    def patch(self, data, slot_id):
        """Edit a slot"""
        return service.update_slot(session=db.session, actor=current_actor(), slot_id=slot_id, data=data)


@blp.route("/<id:slot_id>/status")
class SlotStatusView(MethodView):
    @blp.arguments(SlotStatusSchema)
    @blp.response(200, SlotReadSchema)
    def post(self, data, slot_id):
        """Open or close a slot"""
        return service.set_slot_status(session=db.session, actor=current_actor(), slot_id=slot_id, **data)
