"""The job fair's day and after: check-in, walk-ins, late cancellations, withdrawals and re-planning (organisers);
outcomes recorded at a booth on a phone (organisers and the booth's own employer); the employer's fairs; and the
post-fair report with its charts.

Thin views over `matcher.fairs.service`: the service checks scope (a fair, booth or interview outside it is the
not-found page) and every rule; a broken rule comes back as a message on the page, never a stack trace. Taps that
happen many times a day (check-in, outcomes) answer htmx with the changed card and work as plain forms without it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from matcher import clock
from matcher.auth.models import Role
from matcher.candidates.models import DisclosurePurpose
from matcher.candidates.service import candidate_card, disclosed_candidate_ids
from matcher.errors import Invalid, NotFound
from matcher.extensions import db
from matcher.fairs import queries as fair_queries
from matcher.fairs import service as fairs
from matcher.fairs.models import Fair, FairStatus
from matcher.web.base import actor, bp, page
from matcher.web.forms import int_in, is_htmx, run_form
from matcher.web.labels import reference_names

RUNNING = (Role.ORGANISER, Role.ADMINISTRATOR)
AT_BOOTH = (*RUNNING, Role.EMPLOYER)
OUTCOMES = ("offer", "second_interview", "no", "no_show")
CHECK_IN_ROWS = 100  # a phone list stays short; the search box finds anyone else
REASON_MAX = 300
# The outcomes' colours, as on the booth page's buttons (fairday.css), for the report's chart.
OUTCOME_COLOURS = {"offer": "#2e7d32", "second_interview": "#1e6fb8", "no": "#6d6d6d", "no_show": "#c62828"}


# ---- small helpers ----------------------------------------------------------------------------------

def _block(value, *, field: str, high: int) -> int:
    number = int_in(value, low=0, high=high)
    if number is None:
        raise Invalid(_("Choose a block."), field=field)
    return number


def _blocks(fair: Fair) -> list[dict]:
    return [{"n": t, "label": fair.block_label(t)} for t in range(fair.n_blocks)]


def _clock(fair: Fair) -> dict:
    """Where the day stands on the fair's (China) clock: before it, a block under way, or over."""
    now = clock.china_now()
    local = now.replace(tzinfo=None)
    start = dt.datetime.combine(fair.held_on, fair.starts_at)
    end = start + dt.timedelta(minutes=fair.block_minutes * fair.n_blocks)
    block = fairs.current_block(fair, now)
    state = "before" if local < start else "over" if local >= end else "running"
    return {"now": now, "state": state, "block": block if state == "running" else None,
            "first_open": fairs.first_open_block(fair, now)}


def _default_block(fair: Fair) -> int:
    """The block a booth's page opens on: the one under way (the first before the day, the last after it)."""
    return min(fairs.current_block(fair), fair.n_blocks - 1)


def _render(template: str, **context):
    return render_template(template, **context)


# ---- the organiser's day ------------------------------------------------------------------------------

def _day_page(fair_id: int, *, failed: str | None = None, errors: dict | None = None, summary: str | None = None,
              form: dict | None = None, status: int = 200):
    who, session = actor(), db.session
    overview = fairs.fair_overview(session=session, actor=who, fair_id=fair_id)
    fair = fairs.get_fair(session=session, actor=who, fair_id=fair_id)
    q = (request.values.get("q") or "").strip()
    people, total = fair_queries.expected_people(session=session, actor=who, fair_id=fair.id, q=q,
                                                 limit=CHECK_IN_ROWS)
    booked: dict[int, list] = defaultdict(list)
    for interview in fairs.schedule(session=session, actor=who, fair_id=fair.id,
                                    invitation_ids=[person.id for person in people]):
        booked[interview.invitation_id].append(interview)
    clock = _clock(fair)
    summary_json = overview["summary"] or {}
    reasons = [(inv, fairs.reason_text(code)) for inv, code in fairs.unplaced(session, overview["run"])]
    next_block = min(clock["first_open"], fair.n_blocks - 1)
    values = {"arrives_block": next_block, "from_block": next_block, "withdraw_from": next_block,
              "public_id": "", "consent": False, "reason": "", "booth_id": None, "mode": "fill"}
    values.update(form or {})
    return _render(
        "web/fairday/day.html", fair=fair, overview=overview, clock=clock, blocks=_blocks(fair), q=q,
        people=people, total=total, limit=CHECK_IN_ROWS, booked=booked, run=overview["run"], plan=summary_json,
        unplaced=reasons, failed=failed, errors=errors or {}, summary=summary, form=values, tab="day",
        closed=fair.status != FairStatus.PREPARING, before_day=fairs.is_before_the_day(fair),
        quality=fairs.plan_quality(overview["run"]) if overview["run"] else None), status


def _back_to_day(fair_id: int, anchor: str | None = None):
    q = (request.form.get("q") or "").strip()
    url = url_for("web.fairday_day", fair_id=fair_id, **({"q": q} if q else {}))
    return redirect(url + (f"#{anchor}" if anchor else ""), 303)


def _refused(fair_id: int, which: str, outcome, form: dict):
    """The day page again, with the refused form's errors next to what was typed."""
    return _day_page(fair_id, failed=which, errors=outcome.errors, summary=outcome.summary, form=form,
                     status=outcome.status)


@bp.route("/organiser/fairs/<id:fair_id>/day")
@page(*RUNNING)
def fairday_day(fair_id: int):
    return _day_page(fair_id)


@bp.route("/organiser/fairs/<id:fair_id>/day/check-in", methods=["POST"])
@page(*RUNNING)
def fairday_check_in(fair_id: int):
    who, session = actor(), db.session
    undo = request.form.get("undo") == "1"
    invitation_id = request.form.get("invitation_id", "")
    if not invitation_id.isdigit():
        raise NotFound(_("No such invitation."))
    outcome = run_form(lambda: fairs.check_in(session=session, actor=who, fair_id=fair_id,
                                              invitation_id=int(invitation_id), undo=undo))
    error = None if outcome.ok else outcome.summary
    invitation = outcome.value if outcome.ok else fairs.get_invitation(session=session, actor=who,
                                                                       invitation_id=int(invitation_id))
    if is_htmx():
        fair = fairs.get_fair(session=session, actor=who, fair_id=fair_id)
        booked = fairs.schedule(session=session, actor=who, fair_id=fair.id, invitation_id=invitation.id)
        # The card, and the day's 已签到 counter swapped in beside it (htmx out-of-band), so it never goes stale.
        checked_in = fairs.fair_overview(session=session, actor=who, fair_id=fair.id)["checked_in"]
        return _render("web/fairday/_person.html", fair=fair, inv=invitation, booked={invitation.id: booked},
                       q=request.form.get("q", ""), error=error, closed=fair.status != FairStatus.PREPARING,
                       before_day=fairs.is_before_the_day(fair), checked_in_now=checked_in)
    if error:
        flash(error, "error")
    elif undo:
        flash(_("Check-in of %(number)s undone.", number=invitation.candidate.public_id), "info")
    else:
        flash(_("%(number)s %(name)s is checked in.", number=invitation.candidate.public_id,
                name=invitation.candidate.name), "success")
    return _back_to_day(fair_id, f"inv-{invitation.id}")


@bp.route("/organiser/fairs/<id:fair_id>/day/invitations/<id:invitation_id>/cancel", methods=["POST"])
@page(*RUNNING)
def fairday_cancel(fair_id: int, invitation_id: int):
    who, session = actor(), db.session
    fairs.get_fair(session=session, actor=who, fair_id=fair_id)
    invitation = fairs.get_invitation(session=session, actor=who, invitation_id=invitation_id)
    if invitation.fair_id != fair_id:
        raise NotFound(_("No such invitation."))
    reason = (request.form.get("reason") or "").strip()[:REASON_MAX] or None
    outcome = run_form(lambda: fairs.cancel_invitation(session=session, actor=who, invitation_id=invitation.id,
                                                       reason=reason))
    if not outcome.ok:
        flash(outcome.summary, "error")
        return _back_to_day(fair_id, f"inv-{invitation_id}")
    flash(_("The invitation of %(number)s is cancelled; their interviews still to come are cancelled too. "
            "Re-plan to give their places to others.", number=invitation.candidate.public_id), "success")
    return _back_to_day(fair_id, "check-in")


@bp.route("/organiser/fairs/<id:fair_id>/day/walk-in", methods=["POST"])
@page(*RUNNING)
def fairday_walk_in(fair_id: int):
    who, session = actor(), db.session
    public_id = (request.form.get("public_id") or "").strip()
    consent = request.form.get("consent") == "1"
    form = {"public_id": public_id, "consent": consent, "arrives_block": request.form.get("arrives_block")}
    fair = fairs.get_fair(session=session, actor=who, fair_id=fair_id)

    def walk_in():
        if not public_id:
            raise Invalid(_("Enter the number on the candidate's file."), field="public_id")
        block = _block(request.form.get("arrives_block"), field="arrives_block", high=fair.n_blocks - 1)
        form["arrives_block"] = block
        return fairs.add_walk_in(session=session, actor=who, fair_id=fair_id, public_id=public_id, consent=consent,
                                 arrives_block=block)

    outcome = run_form(walk_in)
    if not outcome.ok:
        return _refused(fair_id, "walk_in", outcome, form)
    invitation = outcome.value
    flash(_("Walk-in %(number)s %(name)s is checked in, available from %(time)s. Re-plan the rest of the day to "
            "give them interviews.", number=invitation.candidate.public_id, name=invitation.candidate.name,
            time=f"{fair.block_start(invitation.arrives_block):%H:%M}"), "success")
    return _back_to_day(fair_id, "replan")


@bp.route("/organiser/fairs/<id:fair_id>/day/withdraw", methods=["POST"])
@page(*RUNNING)
def fairday_withdraw(fair_id: int):
    who, session = actor(), db.session
    reason = (request.form.get("reason") or "").strip()
    form = {"booth_id": request.form.get("booth_id"), "withdraw_from": request.form.get("from_block"),
            "reason": reason}
    fair = fairs.get_fair(session=session, actor=who, fair_id=fair_id)

    def withdraw():
        booth_id = request.form.get("booth_id", "")
        if not booth_id.isdigit() or int(booth_id) not in {b.id for b in fair.booths}:
            raise Invalid(_("Choose a booth."), field="booth_id")
        block = _block(request.form.get("from_block"), field="from_block", high=fair.n_blocks - 1)
        form["withdraw_from"], form["booth_id"] = block, int(booth_id)
        if not reason:
            raise Invalid(_("Say why the booth withdraws."), field="reason")
        if len(reason) > REASON_MAX:
            raise Invalid(_("At most %(n)s characters.", n=REASON_MAX), field="reason")
        return fairs.withdraw_booth(session=session, actor=who, fair_id=fair_id, booth_id=int(booth_id),
                                    from_block=block, reason=reason)

    outcome = run_form(withdraw)
    if not outcome.ok:
        errors = outcome.errors
        if "from_block" in errors:
            errors["withdraw_from"] = errors.pop("from_block")
        return _refused(fair_id, "withdraw", outcome, form)
    booth, block = outcome.value, form["withdraw_from"]
    flash(_("Booth %(label)s (%(base)s) is withdrawn from %(time)s; its interviews from then on are cancelled. "
            "Re-plan to send those candidates elsewhere.", label=booth.label, base=booth.company.name,
            time=f"{fair.block_start(block):%H:%M}"), "success")
    return _back_to_day(fair_id, "replan")


@bp.route("/organiser/fairs/<id:fair_id>/day/replan", methods=["POST"])
@page(*RUNNING)
def fairday_replan(fair_id: int):
    who, session = actor(), db.session
    # Filling free places keeps everyone's printed schedule; planning afresh may move people.
    keep_planned = request.form.get("mode") != "afresh"
    form = {"from_block": request.form.get("from_block"), "mode": "fill" if keep_planned else "afresh"}
    fair = fairs.get_fair(session=session, actor=who, fair_id=fair_id)

    def replan():
        block = _block(request.form.get("from_block"), field="from_block", high=fair.n_blocks - 1)
        form["from_block"] = block
        return fairs.make_plan(session=session, actor=who, fair_id=fair_id, from_block=block,
                               keep_planned=keep_planned)

    outcome = run_form(replan)
    if not outcome.ok:
        return _refused(fair_id, "replan", outcome, form)
    run = outcome.value
    summary = json.loads(run.summary_json)
    flash(_("The rest of the day is re-planned from %(time)s: %(kept)s kept, %(new)s new, %(moved)s moved or "
            "dropped.", time=f"{fair.block_start(run.from_block):%H:%M}", kept=summary.get("kept", 0),
            new=summary.get("new", 0), moved=summary.get("moved_or_dropped", 0)), "success")
    return _back_to_day(fair_id, "replan")


# ---- outcomes at a booth (phone) ------------------------------------------------------------------------

def _booth_or_404(fair: Fair, booth_id: int):
    """The booth at this fair; an employer only ever reaches their own base's booth."""
    who = actor()
    booth = next((b for b in fair.booths if b.id == booth_id), None)
    if booth is None or (who.role == Role.EMPLOYER and booth.company_id != who.company_id):
        raise NotFound(_("No such booth at this fair."))
    return booth


def _person(session, interview, disclosed: bool | None = None) -> dict:
    """Organisers see who it is (they check people in); employers the pseudonymous card, with name and phone
    only where the candidate consented to give them to this booth's base at a fair (purpose job_fair)."""
    who = actor()
    candidate = interview.invitation.candidate
    card = candidate_card(session, who, candidate, base_id=interview.booth.company_id,
                          purpose=DisclosurePurpose.JOB_FAIR, disclosed=disclosed)
    if who.role in RUNNING:
        card["name"] = candidate.name
    return card


def _interview_or_404(fair_id: int, booth_id: int, interview_id: int):
    interview = fairs.get_interview(session=db.session, actor=actor(), interview_id=interview_id)
    if interview.fair_id != fair_id or interview.booth_id != booth_id:
        raise NotFound(_("No such interview."))
    return interview


def _card_answer(fair_id: int, booth_id: int, interview, error: str | None = None):
    session = db.session
    if is_htmx():
        fair = fairs.get_fair(session=session, actor=actor(), fair_id=fair_id)
        return _render("web/fairday/_interview.html", fair=fair, booth=interview.booth, iv=interview,
                       card=_person(session, interview), names=reference_names(), error=error,
                       before_day=fairs.is_before_the_day(fair))
    if error:
        flash(error, "error")
    return redirect(url_for("web.fairday_outcomes", fair_id=fair_id, booth_id=booth_id, block=interview.block)
                    + f"#iv-{interview.id}", 303)


@bp.route("/fairs/<id:fair_id>/booths/<id:booth_id>/outcomes")
@page(*AT_BOOTH)
def fairday_outcomes(fair_id: int, booth_id: int):
    who, session = actor(), db.session
    fair = fairs.get_fair(session=session, actor=who, fair_id=fair_id)
    booth = _booth_or_404(fair, booth_id)
    raw = request.args.get("block", "")
    block = int(raw) if raw.isdigit() and int(raw) < fair.n_blocks else _default_block(fair)
    rows = fairs.schedule(session=session, actor=who, fair_id=fair.id, booth_id=booth.id)
    per_block = defaultdict(int)
    for row in rows:
        per_block[row.block] += 1
    interviews = [iv for iv in rows if iv.block == block]
    named = disclosed_candidate_ids(session, [iv.invitation.candidate_id for iv in interviews], booth.company_id,
                                    DisclosurePurpose.JOB_FAIR)
    cards = {iv.id: _person(session, iv, iv.invitation.candidate_id in named) for iv in interviews}
    return _render("web/fairday/outcomes.html", fair=fair, booth=booth, block=block, blocks=_blocks(fair),
                   per_block=per_block, interviews=interviews, cards=cards, names=reference_names(),
                   running=who.role in RUNNING, current=fairs.current_block(fair), tab="day",
                   before_day=fairs.is_before_the_day(fair))


@bp.route("/fairs/<id:fair_id>/booths/<id:booth_id>/interviews/<id:interview_id>/outcome", methods=["POST"])
@page(*AT_BOOTH)
def fairday_record(fair_id: int, booth_id: int, interview_id: int):
    session = db.session
    interview = _interview_or_404(fair_id, booth_id, interview_id)
    outcome = request.form.get("outcome", "")
    note = (request.form.get("note") or "").strip()[:REASON_MAX] or None

    def record():
        if outcome not in OUTCOMES:
            raise Invalid(_("Choose an outcome."), field="outcome")
        return fairs.record_outcome(session=session, actor=actor(), interview_id=interview.id, outcome=outcome,
                                    note=note)

    return _card_outcome(fair_id, booth_id, interview_id, run_form(record))


def _card_outcome(fair_id: int, booth_id: int, interview_id: int, done):
    """The interview's card after a tap: the changed interview, or the interview as it was with the message."""
    if done.ok:
        return _card_answer(fair_id, booth_id, done.value)
    return _card_answer(fair_id, booth_id, _interview_or_404(fair_id, booth_id, interview_id), done.summary)


@bp.route("/fairs/<id:fair_id>/booths/<id:booth_id>/interviews/<id:interview_id>/undo", methods=["POST"])
@page(*AT_BOOTH)
def fairday_undo(fair_id: int, booth_id: int, interview_id: int):
    session = db.session
    interview = _interview_or_404(fair_id, booth_id, interview_id)
    done = run_form(lambda: fairs.undo_outcome(session=session, actor=actor(), interview_id=interview.id))
    return _card_outcome(fair_id, booth_id, interview_id, done)


# ---- the employer's fairs -------------------------------------------------------------------------------

@bp.route("/employer/fairs")
@page(Role.EMPLOYER)
def fairday_employer_fairs():
    who, session = actor(), db.session
    entries = []
    for fair in fair_queries.find_fairs(session=session, actor=who):
        booth = next((b for b in fair.booths if b.company_id == who.company_id), None)
        if booth is None:
            continue
        by_block: dict[int, list] = defaultdict(list)
        schedule = fairs.schedule(session=session, actor=who, fair_id=fair.id, booth_id=booth.id)
        # Name and phone only where the candidate agreed to give them to this base at a fair.
        named = disclosed_candidate_ids(session, [iv.invitation.candidate_id for iv in schedule], booth.company_id,
                                        DisclosurePurpose.JOB_FAIR)
        for interview in schedule:
            by_block[interview.block].append((interview, candidate_card(
                session, who, interview.invitation.candidate, base_id=booth.company_id,
                purpose=DisclosurePurpose.JOB_FAIR, disclosed=interview.invitation.candidate_id in named)))
        entries.append({"fair": fair, "booth": booth, "by_block": dict(sorted(by_block.items())),
                        "count": sum(len(v) for v in by_block.values())})
    return _render("web/fairday/employer_fairs.html", entries=entries)


# ---- the report ------------------------------------------------------------------------------------------

def _charts(figures: dict) -> dict:
    funnel = [(_("Invited"), figures["invited"]), (_("Confirmed"), figures["confirmed"]),
              (_("Checked in"), figures["checked_in"]), (_("Interviews held"), figures["interviews_held"]),
              (_("Offers"), figures["offers"]), (_("Started work"), figures["started"])]
    booths = figures["booths"]
    return {
        "funnel": {"kind": "funnel", "labels": [label for label, _count in funnel],
                   "datasets": [{"label": _("People or interviews"), "values": [count for _label, count in funnel],
                                 "colour": "#1e6fb8"}]},
        "booths": {"kind": "stacked", "labels": [b["label"] for b in booths], "datasets": [
            {"label": _("Offer"), "values": [b["offers"] for b in booths], "colour": OUTCOME_COLOURS["offer"]},
            {"label": _("Second interview"), "values": [b["second_interviews"] for b in booths],
             "colour": OUTCOME_COLOURS["second_interview"]},
            {"label": _("Not suitable"), "values": [b["no"] for b in booths], "colour": OUTCOME_COLOURS["no"]},
            {"label": _("No-show"), "values": [b["no_show"] for b in booths], "colour": OUTCOME_COLOURS["no_show"]},
        ]},
    }


@bp.route("/organiser/fairs/<id:fair_id>/report")
@page(*RUNNING)
def fairday_report(fair_id: int):
    who, session = actor(), db.session
    figures = fairs.report(session=session, actor=who, fair_id=fair_id)
    fair = fairs.get_fair(session=session, actor=who, fair_id=fair_id)
    for booth in figures["booths"]:
        booth["no"] = max(booth["held"] - booth["offers"] - booth["second_interviews"], 0)
    return _render("web/fairday/report.html", fair=fair, figures=figures, charts=_charts(figures), tab="report")
