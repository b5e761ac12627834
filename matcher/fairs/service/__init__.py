"""Job fairs: set a fair up, register bases at booths, invite candidates, plan the interviews in one go,
run the day (check-in, walk-ins, cancellations, withdrawals, re-planning, outcomes) and report on it.

Who sees what:
- organisers (and administrators) run the fairs of their bureau's area. For the candidates at a fair they
  see what running it needs: the public id, the name (to check people in and hand out schedules), the
  office, preferred courses and skills; never offence, risk, ID number, address or household registration;
- caseworkers see the invitations of candidates in their scope and answer them (attendance and consent);
- employers see their own booth's schedule, candidates on the pseudonymous card, and record outcomes there.

One module a concern: `fairs` (scope, the fair, its blocks), `booths`, `invitations`, `planning` (the
pure `engine.fair` fed by `build_problem`), `schedule` (interviews and outcomes) and `report`. Functions
flush; the edge commits. This package re-exports what callers use, so they import `matcher.fairs.service`.
"""

from matcher.fairs.service.booths import BOOTH_RANGES, add_booth, remove_booth, update_booth, withdraw_booth
from matcher.fairs.service.fairs import (
    COMING,
    FAIR_RANGES,
    LIVE_INTERVIEW,
    RUNNING,
    STRUCTURE,
    create_fair,
    current_block,
    first_open_block,
    get_fair,
    is_before_the_day,
    list_fairs,
    set_status,
    update_fair,
)
from matcher.fairs.service.invitations import (
    INVITATION_SORTS,
    add_walk_in,
    answer_invitation,
    cancel_invitation,
    check_in,
    get_invitation,
    invite,
    list_invitations,
)
from matcher.fairs.service.planning import (
    PLANNING_SECONDS,
    REPLANNING_SECONDS,
    FairModel,
    build_problem,
    latest_run,
    list_runs,
    make_plan,
)
from matcher.fairs.service.report import (
    UNPLACED_REASONS,
    fair_overview,
    plan_quality,
    reason_text,
    report,
    unplaced,
)
from matcher.fairs.service.schedule import OUTCOME_TO_REFERRAL, get_interview, record_outcome, schedule, undo_outcome

__all__ = [
    "BOOTH_RANGES", "COMING", "FAIR_RANGES", "INVITATION_SORTS", "LIVE_INTERVIEW", "OUTCOME_TO_REFERRAL",
    "PLANNING_SECONDS",
    "REPLANNING_SECONDS", "RUNNING", "STRUCTURE", "UNPLACED_REASONS", "FairModel", "add_booth", "add_walk_in",
    "answer_invitation", "build_problem", "cancel_invitation", "check_in", "create_fair", "current_block",
    "fair_overview", "first_open_block", "get_fair", "get_interview", "get_invitation", "invite", "is_before_the_day",
    "latest_run",
    "list_fairs", "list_invitations", "list_runs", "make_plan", "plan_quality", "reason_text", "record_outcome",
    "remove_booth", "report", "schedule", "set_status", "undo_outcome", "unplaced", "update_booth", "update_fair",
    "withdraw_booth",
]
