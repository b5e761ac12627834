"""Matching pages: a candidate's ranked recommendations with their reasons, why a slot is not eligible for them
(caseworkers), and the candidates suggested for a slot on the pseudonymous card (employers)."""

from __future__ import annotations

import dataclasses

from flask import render_template, request
from flask_babel import gettext as _

from matcher.auth.models import Role
from matcher.candidates.models import ConsentKind
from matcher.candidates.service import candidate_card, has_consent
from matcher.errors import Invalid, NotFound
from matcher.extensions import db
from matcher.matching import service as matching
from matcher.referrals.service import live_slot_ids
from matcher.slots.service import get_slot, open_slot_options
from matcher.web.base import actor, bp, page
from matcher.web.candidates import candidate_or_404, own
from matcher.web.forms import int_in, is_htmx, lang_code, run_form
from matcher.web.labels import reference_names

CW, EMPLOYER = Role.CASEWORKER, Role.EMPLOYER
RECOMMENDATIONS_PER_PAGE = 20
SUGGESTED_CANDIDATES = 20


@dataclasses.dataclass(frozen=True)
class _Named:
    name: str


@dataclasses.dataclass(frozen=True)
class _SlotOption:
    id: int
    title: str
    company: _Named


def _open_slots() -> list[_SlotOption]:
    """The eligibility picker's options: id, title and base name only."""
    return [_SlotOption(id=i, title=t, company=_Named(n))
            for i, t, n in open_slot_options(session=db.session, actor=actor())]


@bp.route("/caseworker/candidates/<id:candidate_id>/recommendations")
@page(CW)
def caseworker_recommendations(candidate_id: int):
    candidate = candidate_or_404(candidate_id)
    size = RECOMMENDATIONS_PER_PAGE
    page_no = int_in(request.args.get("page")) or 1
    result = matching.recommend_slots(session=db.session, actor=actor(), candidate_id=candidate.id,
                                      offset=(page_no - 1) * size, limit=size)
    # The ranking is computed, not a query to count: its pages come from the total it reports.
    paging = {"page": page_no, "pages": max(1, -(-result.total // size)), "total": result.total}
    return render_template(
        "web/caseworker/recommendations.html", c=candidate, result=result, paging=paging, own=own(candidate),
        referred=live_slot_ids(session=db.session, actor=actor(), candidate_id=candidate.id),
        consented=has_consent(db.session, candidate.id, ConsentKind.REFERRAL), open_slots=_open_slots(),
        rank_offset=(page_no - 1) * size)


@bp.route("/caseworker/candidates/<id:candidate_id>/eligibility")
@page(CW)
def caseworker_eligibility(candidate_id: int):
    candidate = candidate_or_404(candidate_id)
    raw = request.args.get("slot_id", "").strip()
    result, slot, errors = None, None, {}
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
    return render_template("web/caseworker/eligibility.html", c=candidate, result=result, slot=slot,
                           slot_id=raw, errors=errors, open_slots=_open_slots()), \
        200 if not errors or is_htmx() else 422  # htmx swaps only successful answers


@bp.route("/employer/slots/<id:slot_id>/candidates")
@page(EMPLOYER)
def employer_slot_candidates(slot_id: int):
    who, session = actor(), db.session
    slot = get_slot(session=session, actor=who, slot_id=slot_id)
    recommendations = matching.recommend_candidates(session=session, actor=who, slot_id=slot.id,
                                                    limit=SUGGESTED_CANDIDATES)
    items = [{"card": candidate_card(session, who, item.candidate), "score": item.score,
              "sentence": item.sentence_en if lang_code() == "en" else item.sentence_zh}
             for item in recommendations.items]
    return render_template("web/employer/candidates.html", slot=slot, items=items, page=recommendations,
                           names=reference_names())
