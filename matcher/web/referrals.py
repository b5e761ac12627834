"""Referral pages: referring a candidate from a recommendation, the caseworker's referral board and referral page,
and the employer's incoming referrals on the pseudonymous skills-only card; moving a referral along its lifecycle.

Thin views over matcher.referrals.service (scope, the lifecycle's rules, seats); the base reads a referral as the
disclosure model lets it (no office notes, no score).
"""

from __future__ import annotations

from collections import Counter, defaultdict

from flask import flash, redirect, render_template, request, url_for
from flask_babel import format_percent, get_locale
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from matcher import disclosure
from matcher.auth.models import Role
from matcher.candidates.models import ConsentKind
from matcher.candidates.service import has_consent, referral_card
from matcher.clock import today
from matcher.errors import DomainError, translate
from matcher.extensions import db
from matcher.matching import service as matching
from matcher.referrals import lifecycle
from matcher.referrals import service as referrals
from matcher.referrals.models import Referral
from matcher.referrals.schemas import TransitionSchema
from matcher.web.base import actor, bp, page
from matcher.web.candidates import candidate_or_404, own
from matcher.web.filters import date_text
from matcher.web.forms import fields, int_in, is_htmx, run_form, text
from matcher.web.interview_context import interview_context
from matcher.web.labels import label, reason_choices, reference_names

CW, EMPLOYER = Role.CASEWORKER, Role.EMPLOYER
PAGE_SIZE = 50
WITHDRAWN = lifecycle.ReferralStatus.WITHDRAWN


# ---- referring from a recommendation -------------------------------------------------------------

@bp.route("/caseworker/candidates/<id:candidate_id>/refer", methods=["POST"])
@page(CW)
def caseworker_refer(candidate_id: int):
    candidate = candidate_or_404(candidate_id)
    slot_id = int_in(request.form.get("slot_id"))
    back = url_for("web.caseworker_recommendations", candidate_id=candidate.id)
    try:
        # Sent at once where the candidate consented to being referred; otherwise proposed (the service decides).
        outcome = run_form(lambda: referrals.refer_from_recommendation(
            session=db.session, actor=actor(), candidate_id=candidate.id, slot_id=slot_id or 0,
            internal_note=_path_note(candidate.id, slot_id) if request.form.get("with_path") else None))
    except DomainError as exc:  # a slot out of reach: said here, on the recommendations, not as a page of its own
        outcome = None
        message = translate(exc.message)
    else:
        message = outcome.summary
    if outcome is None or not outcome.ok:
        if is_htmx():
            return render_template("web/caseworker/_refer_result.html", ok=False, message=message)
        flash(message, "error")
        return redirect(back)
    referral = outcome.value
    sent = referral.status != lifecycle.ReferralStatus.PROPOSED
    if sent:
        message = _("Referred to %(base)s: %(slot)s.", base=referral.slot.company.name, slot=referral.slot.title)
    else:
        message = _("Proposed for %(slot)s, not sent: the candidate has not consented to being referred to "
                    "bases. Record the consent on the file, then send it from the referral.", slot=referral.slot.title)
    if is_htmx():
        return render_template("web/caseworker/_refer_result.html", ok=True, sent=sent, message=message,
                               referral=referral)
    flash(message, "success" if sent else "error")
    return redirect(back)


def _path_note(candidate_id: int, slot_id: int | None) -> str | None:
    """The office's note on a referral to a course: the jobs it opens after it ends, as the path showed them (the
    second step is planned again when the course ends: the note records what was intended)."""
    path = matching.path_of(session=db.session, actor=actor(), candidate_id=candidate_id, slot_id=slot_id or 0)
    if path is None or not path.jobs:
        return None
    separator = "；" if str(get_locale()).startswith("zh") else "; "
    jobs = separator.join(_("%(job)s at %(base)s (likelihood %(p)s)", job=j.slot.title, base=j.slot.company.name,
                      p=format_percent(j.score)) for j in path.jobs)
    return _("Path: the course ends %(day)s, then %(jobs)s.", day=date_text(path.course_end), jobs=jobs)[:500]


# ---- the caseworker's referral board -------------------------------------------------------------

def _list_query(args) -> dict:
    """The referral list's search, status filter and sort, as read from the query string (unknown values dropped)."""
    status = text(args, "status")
    sort = text(args, "sort")
    return {"q": text(args, "q")[:60], "status": status if status in lifecycle.ReferralStatus.__members__.values()
            else "", "sort": sort if sort.lstrip("-") in referrals.SEARCH_SORTS else "-updated_at"}


@bp.route("/caseworker/referrals")
@page(CW)
def caseworker_referrals():
    query = _list_query(request.args)
    listing = bool(query["q"] or query["status"] or request.args.get("view") == "list")
    context = {"query": query, "listing": listing, "statuses": list(lifecycle.ReferralStatus),
               "withdraw_reasons": reason_choices(dict.fromkeys(lifecycle.END_REASONS[WITHDRAWN])),
               "sorts": referrals.SEARCH_SORTS}
    if listing:
        page_no = int_in(request.args.get("page"), high=10**6) or 1
        stmt = referrals.search_referrals(session=db.session, actor=actor(), q=query["q"],
                                          status=lifecycle.ReferralStatus(query["status"]) if query["status"] else None,
                                          sort=query["sort"])
        paged = db.paginate(stmt, page=page_no, per_page=PAGE_SIZE, error_out=False)
        return render_template("web/caseworker/referrals.html", rows=paged.items, page_no=page_no,
                               more=paged.has_next, total=paged.total, **context)
    live, ended = referrals.referral_board(session=db.session, actor=actor(), ended_limit=PAGE_SIZE)
    grouped: dict[str, list[Referral]] = defaultdict(list)
    for referral in live:
        grouped[referral.status.value].append(referral)
    counts = Counter(r.status.value for r in live)
    return render_template("web/caseworker/referrals.html", grouped=grouped, columns=lifecycle.PATH, ended=ended,
                           counts=counts, total=len(live), **context)


@bp.route("/caseworker/referrals/withdraw", methods=["POST"])
@page(CW)
def caseworker_referrals_withdraw():
    """Withdraw the referrals ticked on the list, with one reason (the base learns the reason only)."""
    query = _list_query(request.form)
    back = url_for("web.caseworker_referrals", view="list", **{k: v for k, v in query.items() if v})
    ids = [number for number in (int_in(value) for value in request.form.getlist("referral_id")) if number]
    reason = text(request.form, "reason_code")
    if not ids:
        flash(_("Tick the referrals to withdraw first."), "error")
        return redirect(back, 303)
    if reason not in lifecycle.EndReason.__members__.values():
        flash(_("Say why: choose a reason."), "error")
        return redirect(back, 303)
    outcome = run_form(lambda: referrals.withdraw_referrals(
        session=db.session, actor=actor(), referral_ids=ids, reason_code=lifecycle.EndReason(reason),
        internal_note=text(request.form, "internal_note") or None))
    if not outcome.ok:
        flash(outcome.summary or "", "error")
        return redirect(back, 303)
    done, refused = outcome.value
    if done:
        flash(_("%(n)s referrals withdrawn.", n=len(done)), "success")
    if refused:
        flash(_("%(n)s not withdrawn: %(why)s", n=len(refused),
                why="; ".join(sorted({translate(message) for message in refused.values()}))), "error")
    return redirect(back, 303)


def _render_referral(referral: Referral, *, form: MultiDict | None = None, errors: dict | None = None,
                     status: int = 200, interview_form: MultiDict | None = None, interview_errors: dict | None = None):
    moves = referrals.allowed_moves(referral.status, CW) if own(referral.candidate) else []
    ending = [move for move in moves if move in lifecycle.END_REASONS]
    codes = dict.fromkeys(code for move in ending for code in lifecycle.END_REASONS[move])
    return render_template(
        "web/caseworker/referral.html", r=referral, moves=moves, ending=ending,
        end_reasons=reason_choices(codes),
        form=form or MultiDict(), errors=errors or {}, consented=has_consent(
            db.session, referral.candidate_id, ConsentKind.REFERRAL), own=own(referral.candidate),
        next_milestone=lifecycle.NEXT_STAY.get(referral.status),
        **interview_context(referral, form=interview_form, errors=interview_errors)), status


@bp.route("/caseworker/referrals/<id:referral_id>")
@page(CW)
def caseworker_referral(referral_id: int):
    return _render_referral(referrals.get_referral(session=db.session, actor=actor(), referral_id=referral_id))


def _move(referral_id: int, data: dict):
    return run_form(lambda loaded: referrals.transition(session=db.session, actor=actor(), referral_id=referral_id,
                                                        **loaded), data, schema=TransitionSchema())


@bp.route("/caseworker/referrals/<id:referral_id>/move", methods=["POST"])
@page(CW)
def caseworker_referral_move(referral_id: int):
    referral = referrals.get_referral(session=db.session, actor=actor(), referral_id=referral_id)
    outcome = _move(referral.id, fields(request.form, "to", "reason_code", "shared_note", "internal_note", "on_date"))
    if outcome.ok:
        flash(_("The referral is now: %(status)s.", status=label(outcome.value.status, "referral_status")), "success")
        return redirect(url_for("web.caseworker_referral", referral_id=referral_id))
    referral = referrals.get_referral(session=db.session, actor=actor(), referral_id=referral_id)
    return _render_referral(referral, form=request.form, errors=outcome.errors_or_summary(), status=outcome.status)


# ---- the employer's referrals --------------------------------------------------------------------

EMPLOYER_SHOWS = ("waiting", "all")
# The answers a base gives to many referrals at once from its list (each checked as if given one by one).
BULK_MOVES = (lifecycle.ReferralStatus.INTERVIEW, lifecycle.ReferralStatus.DECLINED)


@bp.route("/employer/referrals")
@page(EMPLOYER)
def employer_referrals():
    who = actor()
    show = request.args.get("show", "waiting")
    show = show if show in EMPLOYER_SHOWS else "waiting"
    sort = request.args.get("sort", "")
    sort = sort if sort in referrals.BASE_LIST_SORTS else ""
    q = text(request.args, "q")[:50]
    stmt = referrals.base_referral_list(session=db.session, actor=who,
                                        filters={"waiting": show == "waiting", "q": q or None, "sort": sort or None})
    paged = db.paginate(stmt, page=int_in(request.args.get("page"), high=10**6) or 1, per_page=PAGE_SIZE,
                        error_out=False)
    rows = paged.items
    return render_template("web/employer/referrals.html", referrals=rows, paging=paged, show=show, q=q, sort=sort,
                           sorts=referrals.BASE_LIST_SORTS,
                           days=referrals.waiting_days(session=db.session, referrals=rows),
                           bulk_moves=BULK_MOVES, bulk_reasons=reason_choices(
                               lifecycle.END_REASONS[lifecycle.ReferralStatus.DECLINED]))


@bp.route("/employer/referrals/answer", methods=["POST"])
@page(EMPLOYER)
def employer_referrals_bulk():
    """One answer to the referrals ticked on the list: each moved in its own savepoint, so one that cannot take
    the answer (already moved on, a reason missing) is reported and the others are still answered."""
    ids = [number for number in (int_in(value) for value in request.form.getlist("referral_id")) if number]
    data = fields(request.form, "to", "reason_code", "shared_note")
    back = url_for("web.employer_referrals", **{key: request.form[key] for key in ("show", "q", "sort", "page")
                                                if request.form.get(key)})
    if not ids:
        flash(_("Tick the referrals to answer first."), "error")
        return redirect(back, 303)
    done, failed = 0, []
    for referral_id in ids[:PAGE_SIZE]:
        outcome = _move(referral_id, data)
        if outcome.ok:
            done += 1
        else:
            failed.append(outcome.summary if not outcome.errors else " ".join(
                message for messages in outcome.errors.values() for message in messages))
    if done:
        flash(_("%(count)s referrals answered: %(move)s.", count=done,
                move=label(data.get("to"), "referral_move")), "success")
    if failed:
        flash(_("%(count)s referrals were not answered: %(why)s", count=len(failed),
                why=" ".join(dict.fromkeys(failed))), "error")
    return redirect(back, 303)


def _referral_page(referral, *, errors=None, summary=None, failed_move=None, form=None, status: int = 200,
                   interview_form=None, interview_errors=None):
    who = actor()
    moves = referrals.allowed_moves(referral.status, who.role)
    # The page shows the referral as the disclosure model lets this base see it (no office notes, no score).
    shown = disclosure.view("ReferralRead", referral, nested={"events": "ReferralEvent", "slot": "SlotRef"})
    return render_template("web/employer/referral.html", referral=shown,
                           card=referral_card(db.session, who, referral), names=reference_names(),
                           moves=moves, end_reasons=lifecycle.END_REASONS, dated=lifecycle.DATED_MOVES,
                           errors=errors or {}, summary=summary, failed_move=failed_move, form=form or {},
                           today=today(), waited=referrals.waiting_days(session=db.session, referrals=[referral])
                           .get(referral.id), waiting=referral.status in lifecycle.AWAITING_BASE,
                           **interview_context(referral, form=interview_form, errors=interview_errors)), status


@bp.route("/employer/referrals/<id:referral_id>")
@page(EMPLOYER)
def employer_referral(referral_id: int):
    return _referral_page(referrals.get_referral(session=db.session, actor=actor(), referral_id=referral_id))


@bp.route("/employer/referrals/<id:referral_id>/move", methods=["POST"])
@page(EMPLOYER)
def employer_referral_move(referral_id: int):
    outcome = _move(referral_id, fields(request.form, "to", "on_date", "reason_code", "shared_note"))
    if not outcome.ok:
        referral = referrals.get_referral(session=db.session, actor=actor(), referral_id=referral_id)
        return _referral_page(referral, errors=outcome.errors, summary=outcome.summary,
                              failed_move=text(request.form, "to"), form=request.form, status=outcome.status)
    flash(_("The referral is updated."), "info")
    return redirect(url_for("web.employer_referral", referral_id=outcome.value.id), 303)
