"""Matching pages: a candidate's ranked recommendations with their reasons and, just after the page, the paths of its
training seats; why a slot is not eligible for them (caseworkers); and the candidates suggested for a slot on the
pseudonymous card (employers)."""

from __future__ import annotations

import datetime as dt

from flask import render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import ValidationError

from matcher import clock
from matcher.auth.models import Role
from matcher.candidates.models import ConsentKind
from matcher.candidates.service import candidate_card, has_consent
from matcher.engine.features import PAY_REFERENCE_CNY
from matcher.errors import Invalid, NotFound
from matcher.extensions import db
from matcher.matching import service as matching
from matcher.matching.schemas import SlotRecommendationQuerySchema
from matcher.referrals.service import live_slot_ids
from matcher.slots.service import get_slot
from matcher.web.base import actor, bp, page
from matcher.web.candidates import candidate_or_404, own
from matcher.web.forms import int_in, is_htmx, lang_code, run_form
from matcher.web.labels import course_choices, reference_names

CW, EMPLOYER = Role.CASEWORKER, Role.EMPLOYER
RECOMMENDATIONS_PER_PAGE = 20
SUGGESTED_CANDIDATES = 20


PICKER_RESULTS = 20
FILTER_KEYS = ("course", "kind", "district", "starts_from", "starts_to")


def model_trained_on(page) -> dt.date | None:
    """The China day the scoring model was trained: what a caseworker is told about it (never its version)."""
    if page.model_kind != "learned" or not page.model_trained_at:
        return None
    try:
        return clock.china_date(dt.datetime.fromisoformat(page.model_trained_at))
    except ValueError:
        return None


def _recommendation_query() -> tuple[dict, dict]:
    """The list tools' query (order, filters) as the schema reads it, and its errors by field."""
    raw = {key: value.strip() for key, value in request.args.items() if value.strip()}
    raw.pop("page", None)
    raw = {key: value for key, value in raw.items() if key in ("order", *FILTER_KEYS)}
    try:
        return SlotRecommendationQuerySchema().load(raw), {}
    except ValidationError as exc:
        errors = {key: [str(m) for m in (messages if isinstance(messages, list) else [messages])]
                  for key, messages in exc.messages.items()}
        return SlotRecommendationQuerySchema().load({}), errors


@bp.route("/caseworker/candidates/<id:candidate_id>/recommendations")
@page(CW)
def caseworker_recommendations(candidate_id: int):
    candidate = candidate_or_404(candidate_id)
    size = RECOMMENDATIONS_PER_PAGE
    page_no = int_in(request.args.get("page")) or 1
    query, errors = _recommendation_query()
    filters = {key: query[key] for key in FILTER_KEYS if query.get(key)}
    # The training seats' paths come after the page (caseworker_recommendation_paths): the page stays fast.
    result = matching.recommend_slots(session=db.session, actor=actor(), candidate_id=candidate.id,
                                      offset=(page_no - 1) * size, limit=size, order=query["order"],
                                      filters=filters, with_paths=False)
    seats = [item.slot.id for item in result.items if item.slot.kind == "training"]
    # The ranking is computed, not a query to count: its pages come from the total it reports.
    paging = {"page": page_no, "pages": max(1, -(-result.total // size)), "total": result.total}
    args = {key: value for key, value in request.args.items() if key != "page" and value}
    return render_template(
        "web/caseworker/recommendations.html", c=candidate, result=result, paging=paging, own=own(candidate),
        referred=live_slot_ids(session=db.session, actor=actor(), candidate_id=candidate.id),
        consented=has_consent(db.session, candidate.id, ConsentKind.REFERRAL), trained_on=model_trained_on(result),
        rank_offset=(page_no - 1) * size, query=query, filter_errors=errors, filtered=bool(filters),
        pager_args={"candidate_id": candidate.id, **args}, courses=course_choices(),
        # The two orders' tabs keep the filters and start at the first page.
        order_args={"candidate_id": candidate.id, **{k: v for k, v in args.items() if k != "order"}},
        districts=matching.slot_districts(session=db.session, actor=actor()),
        pay_reference=PAY_REFERENCE_CNY,
        paths_url=url_for("web.caseworker_recommendation_paths", candidate_id=candidate.id, seat=seats,
                          **{k: v for k, v in args.items() if k in FILTER_KEYS}) if seats and not errors else None,
    ), 200 if not errors else 422


@bp.route("/caseworker/candidates/<id:candidate_id>/recommendations/paths")
@page(CW)
def caseworker_recommendation_paths(candidate_id: int):
    """The paths of the training seats on a recommendations page (`seat`: their slot numbers, the page's filters
    beside them), asked for once the page is shown: htmx puts each into its row; without JavaScript the page's
    link opens them as a page of their own (no seats named: those of the recommendations' first page)."""
    candidate = candidate_or_404(candidate_id)
    query, errors = _recommendation_query()
    filters = {key: query[key] for key in FILTER_KEYS if query.get(key)}
    raw = request.args.getlist("seat")
    seats = [int_in(value) for value in raw]
    if None in seats or len(seats) > RECOMMENDATIONS_PER_PAGE:
        errors["seat"] = [_("Not a valid number.")]
    if not raw and not errors:  # no seats named: those of the recommendations' first page
        first = matching.recommend_slots(session=db.session, actor=actor(), candidate_id=candidate.id,
                                         limit=RECOMMENDATIONS_PER_PAGE, order=query["order"], filters=filters,
                                         with_paths=False)
        seats = [item.slot.id for item in first.items if item.slot.kind == "training"]
    found = [] if errors or not seats else matching.seat_paths(
        session=db.session, actor=actor(), candidate_id=candidate.id, slot_ids=seats, filters=filters)
    template = "web/caseworker/_seat_paths.html" if is_htmx() else "web/caseworker/seat_paths.html"
    back = url_for("web.caseworker_recommendations", candidate_id=candidate.id,
                   **{k: v for k, v in request.args.items() if k in FILTER_KEYS and v})
    return render_template(template, c=candidate, found=found, errors=errors, back=back), 200 if not errors else 422


@bp.route("/caseworker/candidates/<id:candidate_id>/eligibility")
@page(CW)
def caseworker_eligibility(candidate_id: int):
    """Why a slot is not eligible: search the open slots (title, base or number), pick one, see why. Works as a
    plain search-then-pick form; htmx only swaps the results in place."""
    candidate = candidate_or_404(candidate_id)
    raw = request.args.get("slot_id", "").strip()
    q = request.args.get("q", "").strip()[:50]
    result, slot, errors = None, None, {}
    found = matching.search_open_slots(session=db.session, actor=actor(), q=q, limit=PICKER_RESULTS + 1) if q else None
    more_found = found is not None and len(found) > PICKER_RESULTS
    if raw:
        def check():
            try:  # the slot is what was typed: one out of reach is a field's error, not a missing page
                slot = get_slot(session=db.session, actor=actor(), slot_id=int_in(raw) or 0)
            except NotFound as exc:
                raise Invalid(exc.message or _("No such slot."), field="slot_id") from None
            return slot, matching.eligibility(session=db.session, actor=actor(), candidate_id=candidate.id,
                                              slot_id=slot.id)

        outcome = run_form(check)
        if outcome.ok:
            slot, result = outcome.value
        else:
            errors = {"slot_id": outcome.errors.get("slot_id") or [outcome.summary]}
    return render_template("web/caseworker/eligibility.html", c=candidate, check=result, slot=slot,
                           slot_id=raw, q=q, found=found[:PICKER_RESULTS] if found else found, more_found=more_found,
                           errors=errors), \
        200 if not errors or is_htmx() else 422  # htmx swaps only successful answers


@bp.route("/employer/slots/<id:slot_id>/candidates")
@page(EMPLOYER)
def employer_slot_candidates(slot_id: int):
    who, session = actor(), db.session
    slot = get_slot(session=session, actor=who, slot_id=slot_id)
    recommendations = matching.recommend_candidates(session=session, actor=who, slot_id=slot.id,
                                                    limit=SUGGESTED_CANDIDATES)
    items = [{"card": candidate_card(session, who, item.candidate), "score": item.score, "fits": item.fits,
              "over_travel": item.over_travel, "no_required_skill": item.no_required_skill,
              "sentence": item.sentence_en if lang_code() == "en" else item.sentence_zh}
             for item in recommendations.items]
    return render_template("web/employer/candidates.html", slot=slot, items=items, page=recommendations,
                           names=reference_names(), trained_on=model_trained_on(recommendations))
