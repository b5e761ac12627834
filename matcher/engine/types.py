"""The engine's inputs and outputs: plain, columnar data (numpy arrays and tuples), no ORM objects.

The web layer builds these through `matcher.matching.adapters`; benchmarks and tests build them
directly. Row i of a table is one candidate (or slot); ids are the database ids.

Protected traits (sex, ethnicity, age beyond the legal minimum, risk grade, offence category,
household registration) are deliberately absent from `CandidateTable`: what the scorer never sees it
cannot use. The only age fact is `birth_year`, used by eligibility (legal minimum age) alone; an
offence matters only as an occupational ban (`Ban`), which eligibility applies.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# Ordinal education levels, in the order of matcher.candidates.models.Education.
EDUCATION_LEVELS = ("none", "primary", "junior_secondary", "senior_secondary", "vocational", "college",
                    "bachelor_or_above")


@dataclass(frozen=True)
class Ban:
    """A legal occupational ban (从业禁止): no placement in `courses` / `occupations` until `until`
    (a date ordinal; None: permanent, e.g. the Food Safety Law's ban after a food-safety crime)."""

    kind: str  # "court_order" | "food_safety" | a bureau-configured statutory ban
    courses: frozenset[str] = frozenset()
    occupations: frozenset[str] = frozenset()
    until: int | None = None


@dataclass(frozen=True)
class CandidateTable:
    ids: np.ndarray  # int64 [n]
    lat: np.ndarray  # float64 [n], where the person actually lives (residence, never household registration)
    lng: np.ndarray  # float64 [n]
    max_travel_km: np.ndarray  # float64 [n]
    needs_housing: np.ndarray  # bool [n]
    education: np.ndarray  # int8 [n], index into EDUCATION_LEVELS
    birth_year: np.ndarray  # int16 [n], eligibility (legal minimum age) only, never a feature
    available_from: np.ndarray  # int64 [n], date ordinal (release or earliest start, whichever later)
    active: np.ndarray  # bool [n], status pre_release/active/placed and file not closed
    skills: tuple[dict[str, int], ...]  # taxonomy code -> level 1..4
    free_text_skills: tuple[tuple[str, ...], ...]  # kept as typed, matched as text
    certified_skills: tuple[frozenset[str], ...]  # taxonomy codes with a certificate
    preferred_courses: tuple[tuple[str, ...], ...]  # course codes, first wish first
    bans: tuple[tuple[Ban, ...], ...] = field(default=())  # empty tuple per candidate when none
    # The level written with each free-text skill (parallel to free_text_skills); empty: every one at level 2,
    # the default level of a skill entry.
    free_text_levels: tuple[tuple[int, ...], ...] = ()

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class SlotTable:
    ids: np.ndarray  # int64 [m]
    company_ids: np.ndarray  # int64 [m]
    lat: np.ndarray  # float64 [m]
    lng: np.ndarray  # float64 [m]
    is_training: np.ndarray  # bool [m]
    course: tuple[str | None, ...]  # course code (training slots always; job slots when known)
    occupation: tuple[str | None, ...]
    required_skills: tuple[dict[str, int], ...]  # taxonomy code -> level 1..4
    free_text_required: tuple[tuple[str, ...], ...]
    title: tuple[str, ...]  # matched as text against free-text skills
    seats_free: np.ndarray  # int32 [m]
    housing_provided: np.ndarray  # bool [m]
    pay_mid: np.ndarray  # float64 [m], CNY/month (a training slot's: its stipend), NaN for none or unknown
    certificate_awarded: np.ndarray  # bool [m] (training subsidy eligible)
    min_age: np.ndarray  # int16 [m]
    starts_on: np.ndarray  # int64 [m], date ordinal
    open: np.ndarray  # bool [m], status open
    base_in_force: np.ndarray  # bool [m], the base's certification is certified and in date
    base_placements: np.ndarray  # float64 [m], earlier placements (started) at this slot's base
    base_stayed: np.ndarray  # float64 [m], of those, how many stayed the horizon
    # A recurring slot's intake starts (date ordinals, ascending, the first being starts_on); empty tuple: the slot
    # starts once. Eligibility reads the intake that fits each person. Empty (the default): no slot has intakes.
    intake_starts: tuple[tuple[int, ...], ...] = ()
    # The level asked with each free-text requirement (parallel to free_text_required); empty: level 2 each.
    free_text_required_levels: tuple[tuple[int, ...], ...] = ()

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class History:
    """Referrals that were made, with their outcome: the training data (row indices into the tables)."""

    candidate_index: np.ndarray  # int64 [h]
    slot_index: np.ndarray  # int64 [h]
    referred_on: np.ndarray  # int64 [h], date ordinal
    stayed: np.ndarray  # bool [h], started and stayed the horizon (e.g. 90 days)
    # Only referrals whose horizon has fully passed belong here (censoring is the adapter's job).
