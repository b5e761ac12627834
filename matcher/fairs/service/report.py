"""What a fair came to: the report after the day, the overview for its page, who the plan could not
place and why, in words."""

from __future__ import annotations

import json
import math

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from matcher.auth.models import Account
from matcher.fairs.models import (
    FairInterview,
    FairInvitation,
    FairPlanRun,
    InterviewOutcome,
    InterviewStatus,
    InvitationSource,
    InvitationStatus,
)
from matcher.fairs.service.fairs import LIVE_INTERVIEW, current_block, first_open_block, live_interviews, run_fair
from matcher.fairs.service.planning import latest_run
from matcher.referrals.lifecycle import IN_WORK, ReferralStatus
from matcher.referrals.models import Referral

# Why the planner left a confirmed candidate without an interview (engine.fair.REASONS, and `withdrawn`, told
# apart here: the engine sees a withdrawn booth as one with no places), in words an organiser can act on: one
# wording for the pages, the API and the Excel file.
UNPLACED_REASONS = {
    "no_eligible_booth": _l("No booth brings a slot this candidate may take (with \"preferred courses only\": in a "
                            "course they asked for): register a base with such a slot, or turn that option off."),
    "capacity": _l("The booths this candidate could go to are full in every block: raise their interviews per "
                   "block, or register more bases."),
    "withdrawn": _l("Every booth this candidate could go to has withdrawn for the rest of the day: register another "
                    "base with such a slot, or invite the candidate to a later fair."),
    "not_available": _l("No free block while this candidate's booths are open (they arrive late, or the booths "
                        "withdrew)."),
}


def reason_text(code: str, lang: str | None = None) -> str:
    """The reason in the page's language, or in `lang` ("zh" or "en")."""
    message = UNPLACED_REASONS.get(code)
    if message is None:
        return code
    if lang is None:
        return str(message)
    with force_locale("zh_CN" if lang == "zh" else "en"):
        return str(message)

def plan_quality(run: FairPlanRun) -> str:
    """How good the plan is, in words an organiser understands (the gap is against the best plan that reaches as
    many people as possible; see engine.fair)."""
    if run.solver_status == "optimal" or run.gap <= 0:
        return str(_l("The best plan was found."))
    if run.gap < 0.01:
        return str(_l("The plan may not be the very best one, but it is less than one per cent below it."))
    return str(_l("The plan may not be the best one: it is at most %(n)s per cent below it.",
                  n=math.ceil(run.gap * 100)))


def report(*, session: Session, actor: Account, fair_id: int) -> dict:
    """After the fair: attendance, interviews held, outcomes, and what became of the referrals since
    (accepted, started, staying), overall and per booth. Every figure is a count over the fair's rows."""
    fair = run_fair(session, actor, fair_id, changing=False)
    # Invitations and walk-ins are counted apart: the invited funnel (invited -> confirmed -> came) is the
    # attendance rate; walk-ins add to who came.
    invited_only = (FairInvitation.fair_id == fair.id, FairInvitation.source != InvitationSource.WALK_IN)
    invitations = dict(session.execute(select(FairInvitation.status, func.count()).where(*invited_only)
                                       .group_by(FairInvitation.status)).all())
    came_invited = session.scalar(select(func.count()).where(*invited_only,
                                                             FairInvitation.checked_in_at.is_not(None))) or 0
    walk_ins = session.scalar(select(func.count()).where(FairInvitation.fair_id == fair.id,
                                                         FairInvitation.source == InvitationSource.WALK_IN)) or 0
    by_status = dict(session.execute(select(FairInterview.status, func.count()).where(
        FairInterview.fair_id == fair.id).group_by(FairInterview.status)).all())
    outcomes = dict(session.execute(select(FairInterview.outcome, func.count()).where(
        FairInterview.fair_id == fair.id, FairInterview.status == InterviewStatus.HELD)
        .group_by(FairInterview.outcome)).all())
    referral_ids = select(FairInterview.referral_id).where(FairInterview.fair_id == fair.id,
                                                          FairInterview.referral_id.is_not(None))
    referrals = dict(session.execute(select(Referral.status, func.count()).where(Referral.id.in_(referral_ids))
                                     .group_by(Referral.status)).all())
    started = sum(referrals.get(s, 0) for s in IN_WORK)
    left_after_start = session.scalar(select(func.count()).where(
        Referral.id.in_(referral_ids), Referral.status == ReferralStatus.LEFT, Referral.started_on.is_not(None))) or 0
    booths = []
    for booth in fair.booths:
        rows = session.execute(select(FairInterview.status, FairInterview.outcome, FairInterview.referral_id)
                               .where(FairInterview.booth_id == booth.id)).all()
        ref_ids = [r.referral_id for r in rows if r.referral_id]
        booth_started = session.scalar(select(func.count()).where(
            Referral.id.in_(ref_ids), Referral.started_on.is_not(None))) if ref_ids else 0
        booths.append({
            "booth_id": booth.id, "label": booth.label, "company_id": booth.company_id,
            "company_name": booth.company.name, "withdrawn": booth.withdrawn_from_block is not None,
            "planned": sum(1 for r in rows if r.status in LIVE_INTERVIEW or r.status == InterviewStatus.NO_SHOW),
            "held": sum(1 for r in rows if r.status == InterviewStatus.HELD),
            "no_show": sum(1 for r in rows if r.status == InterviewStatus.NO_SHOW),
            "offers": sum(1 for r in rows if r.outcome == InterviewOutcome.OFFER),
            "second_interviews": sum(1 for r in rows if r.outcome == InterviewOutcome.SECOND_INTERVIEW),
            "rejections": sum(1 for r in rows if r.outcome == InterviewOutcome.NO),
            "started": int(booth_started or 0),
        })
        booths[-1]["attendance_rate"] = _rate(booths[-1]["held"], booths[-1]["planned"])
    confirmed = invitations.get(InvitationStatus.CONFIRMED, 0)
    run = latest_run(session, fair.id)
    held, no_shows = by_status.get(InterviewStatus.HELD, 0), by_status.get(InterviewStatus.NO_SHOW, 0)
    scheduled = by_status.get(InterviewStatus.PLANNED, 0) + held + no_shows
    return {
        "fair_id": fair.id,
        "invited": sum(invitations.values()),
        "confirmed": confirmed,
        "declined": invitations.get(InvitationStatus.DECLINED, 0),
        "cancelled": invitations.get(InvitationStatus.CANCELLED, 0),
        "waiting_for_answer": invitations.get(InvitationStatus.INVITED, 0),
        "checked_in": came_invited + walk_ins,
        "checked_in_invited": came_invited,
        "walk_ins": walk_ins,
        "attendance_rate": round(came_invited / confirmed, 4) if confirmed else None,
        "interviews_planned": scheduled,
        "interviews_held": held,
        "no_shows": no_shows,
        # Interview attendance: of the interviews scheduled, how many the person came to (an outcome was
        # recorded), how many they missed, and how many have no record yet.
        "interviews_not_recorded": by_status.get(InterviewStatus.PLANNED, 0),
        "interview_attendance_rate": _rate(held, scheduled),
        "no_show_rate": _rate(no_shows, scheduled),
        "offers": outcomes.get(InterviewOutcome.OFFER, 0),
        "second_interviews": outcomes.get(InterviewOutcome.SECOND_INTERVIEW, 0),
        "rejections": outcomes.get(InterviewOutcome.NO, 0),
        "referrals": {status.value: n for status, n in referrals.items()},
        "accepted": referrals.get(ReferralStatus.ACCEPTED, 0) + started + left_after_start,
        "started": started + left_after_start,
        "staying_90": referrals.get(ReferralStatus.STAYED_90, 0) + referrals.get(ReferralStatus.STAYED_180, 0),
        "expected_stays": round(json.loads(run.summary_json).get("expected_stays", 0.0), 3) if run else None,
        "booths": booths,
    }


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def fair_overview(*, session: Session, actor: Account, fair_id: int) -> dict:
    """Counts for the fair's page: booths, invitations by status, the latest plan."""
    fair = run_fair(session, actor, fair_id, changing=False)
    invitations = dict(session.execute(select(FairInvitation.status, func.count()).where(
        FairInvitation.fair_id == fair.id).group_by(FairInvitation.status)).all())
    run = latest_run(session, fair.id)
    return {
        "booths": len(fair.booths),
        "booths_withdrawn": sum(1 for b in fair.booths if b.withdrawn_from_block is not None),
        "capacity": sum(b.capacity(t) for b in fair.booths for t in range(fair.n_blocks)),
        "invitations": {s.value: invitations.get(s, 0) for s in InvitationStatus},
        "checked_in": session.scalar(select(func.count()).where(FairInvitation.fair_id == fair.id,
                                                                FairInvitation.checked_in_at.is_not(None))) or 0,
        "interviews": session.scalar(select(func.count()).select_from(live_interviews(fair.id).subquery())),
        "run": run,
        "summary": json.loads(run.summary_json) if run else None,
        "current_block": current_block(fair),
        "first_open_block": first_open_block(fair),
    }


def unplaced(session: Session, run: FairPlanRun | None) -> list[tuple[FairInvitation, str]]:
    """The candidates the latest plan could not place, with the reason code."""
    if run is None:
        return []
    reasons = json.loads(run.summary_json).get("unplaced", {})
    if not reasons:
        return []
    rows = session.scalars(select(FairInvitation).where(FairInvitation.id.in_([int(k) for k in reasons]))
                           .order_by(FairInvitation.id))
    return [(inv, reasons[str(inv.id)]) for inv in rows]
