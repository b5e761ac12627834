"""What each reported figure means: one definition used by the service, the API schema, the pages, the Excel
workbook and the README (a test checks the README carries this text)."""

from __future__ import annotations

import dataclasses

N_ = str  # marks a msgid for extraction (keyword N_); translated where it is shown

PERIOD, END, RATE = "period", "end", "rate"


@dataclasses.dataclass(frozen=True)
class Figure:
    key: str
    label: str  # English msgid, translated when shown
    definition: str  # English msgid
    when: str  # PERIOD: happened in the period; END: the state on the period's last day; RATE: a ratio
    people: bool = False  # counts each person once in a row (distinct people), not events
    of: tuple[str, str] | None = None  # a rate: (numerator, denominator)

    @property
    def monthly(self) -> bool:
        """Period figures are also given month by month (rates from their months' counts)."""
        return self.when in (PERIOD, RATE)


FIGURES: tuple[Figure, ...] = (
    Figure("registered", N_("Registered candidates"), N_(
        "People under assistance on the last day: released on or before it, their five-year assistance period "
        "not over by then, and the file not closed by then. Pre-release hand-overs not yet released are not "
        "counted."),
        END),
    Figure("key_subjects", N_("Key subjects"), N_(
        "Of the registered candidates, those marked as key subjects (the mark as it stands today)."), END),
    Figure("dual_registration", N_("Under dual registration"), N_(
        "Of the registered candidates, those whose household registration is in another township than the one "
        "they live in."), END),
    Figure("under_assistance", N_("Under assistance in the period"), N_(
        "People under assistance on at least one day of the period: released on or before its last day, with "
        "an assistance period ending on or after its first day (closed files included). The base of the rates."),
        PERIOD),
    Figure("new_in_period", N_("Newly received"), N_(
        "People released in the period (up to today): newly received into assistance."), PERIOD),
    Figure("placed_in_period", N_("Placed in work or training"), N_(
        "People who started a job or a training course in the period (a referral's start date in the period), "
        "each person once."), PERIOD, people=True),
    Figure("helped_into_work", N_("Helped into work"), N_(
        "People who started a job (a job slot) in the period, each person once."), PERIOD, people=True),
    Figure("placed_in_training", N_("Placed in training"), N_(
        "People who started a training course (a training slot) in the period, each person once. Someone who "
        "started both a job and a course counts in both, and once in the placed."), PERIOD, people=True),
    Figure("placement_rate", N_("Placement rate"), N_(
        "People placed in work or training in the period, divided by the people under assistance in the "
        "period."), RATE, of=("placed_in_period", "under_assistance")),
    Figure("reached_90_days", N_("Placements reaching 90 days"), N_(
        "Placements (referrals that started, in work or training) whose 90th day after the start fell in the "
        "period."), PERIOD),
    Figure("stayed_90", N_("Stayed 90 days"), N_(
        "Of the placements reaching 90 days, those confirmed as staying 90 days (the referral reached "
        "stayed_90 or stayed_180, even if the person left later)."), PERIOD),
    Figure("stay_rate_90", N_("90-day stay rate"), N_(
        "Stayed 90 days divided by placements reaching 90 days; a stay not yet confirmed counts as not "
        "stayed."), RATE, of=("stayed_90", "reached_90_days")),
    Figure("training_certificates", N_("Training certificates"), N_(
        "Certificates (qualifications, skill certificates) recorded in the files with an issue date in the "
        "period."), PERIOD),
    Figure("training_subsidies", N_("Training subsidies"), N_(
        "Courses that award a recognised certificate completed in the period: the trainee started, the "
        "course's last day (its first day when it has no last day) fell in the period, and the trainee did not "
        "leave before it. Each makes the trainee eligible to claim the training subsidy."), PERIOD),
    Figure("visits_in_period", N_("Visits made"), N_("Visits recorded with a date in the period."), PERIOD),
    Figure("reoffended", N_("Re-offended"), N_(
        "People with a new offence recorded in the period, each person once."), PERIOD, people=True),
    Figure("reoffence_rate", N_("Re-offending rate"), N_(
        "People who re-offended in the period, divided by the people under assistance in the period."), RATE,
        of=("reoffended", "under_assistance")),
    Figure("interviews_scheduled", N_("Interviews scheduled"), N_(
        "Interviews arranged for referrals (proposed by the base, confirmed by the office) whose time fell in the "
        "period, up to today: those held, missed, or not yet recorded; cancelled ones are not counted. Job-fair "
        "interviews are counted in each fair's own report."), PERIOD),
    Figure("interviews_attended", N_("Interviews attended"), N_(
        "Of the interviews scheduled, those recorded as attended."), PERIOD),
    Figure("interviews_no_show", N_("Interviews missed"), N_(
        "Of the interviews scheduled, those recorded as not attended (no-show)."), PERIOD),
    Figure("interview_attendance_rate", N_("Interview attendance rate"), N_(
        "Interviews attended divided by interviews scheduled; an interview whose attendance was not recorded "
        "counts as not attended."), RATE, of=("interviews_attended", "interviews_scheduled")),
    Figure("certified_bases", N_("Certified bases"), N_(
        "Bases whose certification was in force on the last day, by their certification history: the last "
        "decision by that day certified them, valid until that day or later."), END),
    Figure("agreements_signed", N_("Agreements signed"), N_(
        "Assistance agreements with bases signed in the period."), PERIOD),
    Figure("agreements_in_force", N_("Agreements in force"), N_(
        "Assistance agreements running on the last day (signed on or before it, ending on or after it)."), END),
)
BY_KEY = {figure.key: figure for figure in FIGURES}
COUNTS = tuple(f.key for f in FIGURES if f.when != RATE)
RATES = tuple(f.key for f in FIGURES if f.when == RATE)
MONTHLY = tuple(f.key for f in FIGURES if f.monthly)
BASE_FIGURES = ("certified_bases", "agreements_signed", "agreements_in_force")  # counted where the base is

RULES: tuple[str, ...] = (
    N_("A report covers a period (both days included) and an area: the bureau's whole area, one district or "
       "one judicial office."),
    N_("Figures of the period count what happened on its days, up to today. Figures of the last day describe "
       "the state on the period's last day, or today when the period reaches past today."),
    N_("A person counts where the judicial office keeping the file is (normally where the person lives; a file "
       "under dual registration counts once). Bases and agreements count where the base is; a base registered "
       "for a whole district or city counts only in that district's or city's total."),
    N_("A file counts as open until the day it was closed (archiving closes it too); files closed before that "
       "day was recorded count as closed throughout in the figures of the last day, and are kept in those of "
       "the period."),
    N_("Figures of people count each person once in a row; a person counted in two months counts once in the "
       "period. The counts of the rows by district, and by office, add up to the whole area's (bases apart, as "
       "said above); rates are worked out from the counts."),
)


def markdown() -> str:
    """The README's definitions (English), generated from the table above."""
    lines = ["| figure | key | when | definition |", "|---|---|---|---|"]
    when = {PERIOD: "in the period", END: "on the last day", RATE: "rate"}
    for figure in FIGURES:
        lines.append(f"| {figure.label} | `{figure.key}` | {when[figure.when]} | {figure.definition} |")
    return "\n".join([*(f"* {rule}" for rule in RULES), "", *lines])


if __name__ == "__main__":
    print(markdown())
