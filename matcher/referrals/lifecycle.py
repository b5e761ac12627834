"""The referral lifecycle's words, in one place: the statuses, who may make which move, which statuses hold a seat,
count as started or as ended, the stays confirmed at 30/90/180 days, and why a referral ended.

Everything that reasons about a referral's stage (seats, follow-up checks, disclosure of a name to a base, the
reports, the model's training labels, the pages) imports these; nothing redefines them. Pure Python: no ORM.
"""

from __future__ import annotations

import enum


class ReferralStatus(enum.StrEnum):
    PROPOSED = "proposed"  # drafted by the office, not yet sent to the base
    SENT = "sent"  # with the base, waiting for its answer
    INTERVIEW = "interview"
    OFFERED = "offered"
    ACCEPTED = "accepted"  # the candidate accepted the offer: a seat is held from here on
    STARTED = "started"
    STAYED_30 = "stayed_30"
    STAYED_90 = "stayed_90"
    STAYED_180 = "stayed_180"
    DECLINED = "declined"  # ended by the base (or the office on its behalf) before a start
    WITHDRAWN = "withdrawn"  # ended by the office before a start
    LEFT = "left"  # ended after a start


S = ReferralStatus

# The way forward, in order; every other status ends the referral.
PATH = (S.PROPOSED, S.SENT, S.INTERVIEW, S.OFFERED, S.ACCEPTED, S.STARTED, S.STAYED_30, S.STAYED_90, S.STAYED_180)
ENDED = (S.DECLINED, S.WITHDRAWN, S.LEFT)
ENDED_BEFORE_START = (S.DECLINED, S.WITHDRAWN)
# The SQL of "not ended", for the partial unique index of one live referral per candidate and slot.
NOT_ENDED_SQL = "status NOT IN (" + ", ".join(f"'{status.value}'" for status in ENDED) + ")"

# Before a start: waiting for someone to move it on.
WAITING = (S.PROPOSED, S.SENT, S.INTERVIEW, S.OFFERED, S.ACCEPTED)
# The base's turn: it answers (interview, offer, decline) or confirms a start.
AWAITING_BASE = (S.SENT, S.INTERVIEW, S.OFFERED, S.ACCEPTED)
# The base answered a sent referral.
ANSWERED = (S.INTERVIEW, S.OFFERED)
# In work (or on the course) now: started and not ended.
IN_WORK = (S.STARTED, S.STAYED_30, S.STAYED_90, S.STAYED_180)
# Started at some point, whether still there or gone.
STARTED_EVER = (*IN_WORK, S.LEFT)
# A seat is taken from the acceptance until the referral ends.
SEAT_HOLDING = (S.ACCEPTED, *IN_WORK)
# Nothing more is expected: ended, or the last stay confirmed.
SETTLED = (*ENDED, S.STAYED_180)

# The stays confirmed after a start, by days since the start.
STAY_DAYS = {S.STAYED_30: 30, S.STAYED_90: 90, S.STAYED_180: 180}
STAY_FOR_DAYS = {days: status for status, days in STAY_DAYS.items()}
# The outcome the model and the reports judge a placement by: still there after this many days.
OUTCOME_DAYS = 90
# Statuses that prove a stay of at least `days`.
STAYED_AT_LEAST = {days: tuple(s for s, d in STAY_DAYS.items() if d >= days) for days in STAY_DAYS.values()}
# The next stay to confirm after each placed status: (status, days from the start).
NEXT_STAY = dict(zip((S.STARTED, *STAY_DAYS), STAY_DAYS.items(), strict=False))


class Milestone(enum.StrEnum):
    """The furthest a placement got, kept on the referral when it ends: "stayed 90 days, left in month 5" is status
    `left` with milestone `stayed_90`. The outcome labels (training, base records) read it, not the status."""

    STARTED = "started"
    STAYED_30 = "stayed_30"
    STAYED_90 = "stayed_90"
    STAYED_180 = "stayed_180"


# The milestone a move to each placed status reaches.
MILESTONE_OF = {S.STARTED: Milestone.STARTED, S.STAYED_30: Milestone.STAYED_30, S.STAYED_90: Milestone.STAYED_90,
                S.STAYED_180: Milestone.STAYED_180}
MILESTONE_DAYS = {Milestone.STARTED: 0, **{MILESTONE_OF[status]: days for status, days in STAY_DAYS.items()}}
# Milestones that prove a stay of at least `days`, whatever the status now (a person may have left since).
MILESTONE_AT_LEAST = {days: tuple(m for m, d in MILESTONE_DAYS.items() if d >= days) for days in STAY_DAYS.values()}


def milestone_for(started_on, ended_on, today) -> Milestone | None:
    """The milestone the dates alone prove: the longest stay (30, 90, 180 days) that fits between the start and the
    end (or today, for a placement not ended); None without a start."""
    if started_on is None:
        return None
    days = ((ended_on or today) - started_on).days
    return max((m for m, d in MILESTONE_DAYS.items() if d <= days), key=MILESTONE_DAYS.get, default=Milestone.STARTED)


# Moves that happen on a day the mover gives (when it happened) rather than on the day they are recorded.
DATED_MOVES = (S.ACCEPTED, *IN_WORK)


class Mover(enum.StrEnum):
    """Who makes a move: the office that keeps the file, or the base. Administrators may make any move."""

    OFFICE = "office"
    BASE = "base"


OFFICE, BASE = Mover.OFFICE, Mover.BASE
BOTH = frozenset({OFFICE, BASE})
TRANSITIONS: dict[tuple[S, S], frozenset[Mover]] = {
    (S.PROPOSED, S.SENT): frozenset({OFFICE}),
    (S.SENT, S.INTERVIEW): frozenset({BASE}),
    (S.SENT, S.OFFERED): frozenset({BASE}),
    (S.INTERVIEW, S.OFFERED): frozenset({BASE}),
    (S.OFFERED, S.ACCEPTED): BOTH,
    (S.OFFERED, S.STARTED): BOTH,
    (S.ACCEPTED, S.STARTED): BOTH,
    (S.STARTED, S.STAYED_30): BOTH,
    (S.STAYED_30, S.STAYED_90): BOTH,
    (S.STAYED_90, S.STAYED_180): BOTH,
    **{(status, S.DECLINED): BOTH for status in AWAITING_BASE},
    **{(status, S.WITHDRAWN): frozenset({OFFICE}) for status in WAITING},
    **{(status, S.LEFT): BOTH for status in IN_WORK},
}


def moves_from(status: S, mover: Mover | None) -> list[S]:
    """The moves open from `status` to a mover (None: an administrator, who may make any of them)."""
    return [to for (frm, to), movers in TRANSITIONS.items() if frm == status and (mover is None or mover in movers)]


class EndReason(enum.StrEnum):
    """Why a referral ended, as a code: what a base learns when a placement or a referral ends. Free text about
    it stays with whoever wrote it (the office's notes are internal)."""

    NOT_SUITABLE = "not_suitable"  # the base found the candidate not suitable
    POSITION_FILLED = "position_filled"
    NO_SHOW = "no_show"  # did not come to the interview or the start
    CANDIDATE_DECLINED = "candidate_declined"  # the candidate turned the offer down
    OTHER_JOB = "other_job"  # took another job or course
    HEALTH = "health"
    MOVED_AWAY = "moved_away"
    FAMILY = "family"
    DISMISSED = "dismissed"  # the base ended the employment
    CONTRACT_ENDED = "contract_ended"  # the job or course came to its end
    PERSONAL = "personal"
    OTHER = "other"


R = EndReason
# The reasons each ending may give, in the order a form offers them.
END_REASONS = {
    S.DECLINED: (R.NOT_SUITABLE, R.POSITION_FILLED, R.NO_SHOW, R.CANDIDATE_DECLINED, R.OTHER),
    S.WITHDRAWN: (R.OTHER_JOB, R.CANDIDATE_DECLINED, R.HEALTH, R.MOVED_AWAY, R.FAMILY, R.PERSONAL, R.OTHER),
    S.LEFT: (R.OTHER_JOB, R.HEALTH, R.MOVED_AWAY, R.FAMILY, R.DISMISSED, R.CONTRACT_ENDED, R.PERSONAL, R.OTHER),
}
