"""REST endpoints for referrals: /api/v1/referrals."""

from __future__ import annotations

from flask.views import MethodView

from matcher.apiutil import MAX_PAGE_SIZE, PAGE_SIZE, blueprint, paginate_select
from matcher.auth.current import current_actor
from matcher.candidates.service import referral_card, referral_disclosures
from matcher.extensions import db
from matcher.idempotency import idempotent
from matcher.referrals import service
from matcher.referrals.schemas import (
    ReferralCreateSchema,
    ReferralListQuerySchema,
    ReferralReadSchema,
    TransitionSchema,
)

blp = blueprint("referrals", __name__, "/referrals",
                "Referrals of candidates to slots, followed to a start and to staying in work.")


def _for_actor(referral, actor, disclosed: bool | None = None):
    """Attach what this actor may see of the candidate and which moves they can make: a base sees name and
    phone only with the candidate's consent for that base and the referral's stage (interview, employment)."""
    referral.candidate_card = referral_card(db.session, actor, referral, disclosed=disclosed)
    referral.next_moves = [m.value for m in service.allowed_moves(referral.status, actor.role)]
    return referral


@blp.route("")
class Referrals(MethodView):
    @blp.arguments(ReferralListQuerySchema, location="query")
    @blp.response(200, ReferralReadSchema(many=True))
    @blp.paginate(page_size=PAGE_SIZE, max_page_size=MAX_PAGE_SIZE)
    def get(self, filters, pagination_parameters):
        """List referrals visible to you"""
        actor = current_actor()
        stmt = service.list_referrals(session=db.session, actor=actor, filters=filters)
        rows = list(paginate_select(db.session, stmt, pagination_parameters))
        disclosed = referral_disclosures(db.session, rows)  # one query for the page
        return [_for_actor(r, actor, r.id in disclosed) for r in rows]

    @idempotent
    @blp.arguments(ReferralCreateSchema)
    @blp.response(201, ReferralReadSchema)
    def post(self, data):
        """Refer a candidate to a slot"""
        actor = current_actor()
        create = service.refer_from_recommendation if data.pop("from_recommendation") else service.create_referral
        return _for_actor(create(session=db.session, actor=actor, **data), actor)


@blp.route("/<id:referral_id>")
class ReferralById(MethodView):
    @blp.response(200, ReferralReadSchema)
    def get(self, referral_id):
        """Read a referral with its history"""
        actor = current_actor()
        return _for_actor(service.get_referral(session=db.session, actor=actor, referral_id=referral_id), actor)


@blp.route("/<id:referral_id>/transitions")
class ReferralTransitions(MethodView):
    @blp.arguments(TransitionSchema)
    @blp.response(200, ReferralReadSchema)
    def post(self, data, referral_id):
        """Move a referral: send, interview, offer, accept, start, stayed 30/90/180, decline, withdraw, left"""
        actor = current_actor()
        referral = service.transition(session=db.session, actor=actor, referral_id=referral_id,
                                      **service.read_legacy_reason(data, actor))
        return _for_actor(referral, actor)
