"""Two-sided ranking: the best eligible slots for a candidate, the best eligible candidates for a slot.

Only eligible pairs are scored. Orders (`ORDERS`):

- "score": the score descending;
- "fit": pairs that *fit* first, then the score: a pair fits when the slot is within the person's travel limit
  (or the distance is unknown) and, for a job slot that requires skills, the person holds at least one of them
  (a training slot teaches its skills). A slot beyond the travel limit, or a job whose skills the person has
  none of, never ranks above one that fits, however well its other features score;
- "distance": nearest first; "starts_on": earliest start first; "pay": highest pay first (no pay last);
- "wish": the person's own utility times the score (`utility`): what the person wants, weighted by the chance
  that they start and stay, which public employment services' field experiments found to serve job seekers best.

Every order then breaks ties by score descending and id ascending, so equal keys always come out in the same
order and pages never overlap or skip.

`slot_weight` (optional, per slot row, in [0, 1]) turns the score into a value: score x weight, the value the orders
rank by (e.g. the chance that the slot's base answers a referral at all, times the chance of starting and staying
once it has: matcher.bases.answers). `Ranked.score` stays the scorer's probability; `Ranked.value` is the product;
the "wish" order multiplies the person's utility by the value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from matcher.engine.eligibility import eligible_mask
from matcher.engine.features import PAY_REFERENCE_CNY, PairFeaturizer, feature_index
from matcher.engine.types import CandidateTable, SlotTable

ORDERS = ("fit", "score", "distance", "starts_on", "pay", "wish")

# The person's utility (order "wish"): a weighted mean of three parts, each between 0 and 1.
UTILITY_WEIGHTS = {"wish": 0.5, "pay": 0.25, "near": 0.25}
UTILITY_PAY_FULL_CNY = 2 * PAY_REFERENCE_CNY  # pay this high (or higher) is worth the whole pay part
UTILITY_UNKNOWN = 0.5  # a part that cannot be told (no pay stated, a training seat, an unknown distance)


@dataclass
class Ranked:
    index: np.ndarray  # int64 row indices (slots or candidates) of this page, best first
    score: np.ndarray  # float64, aligned with index
    total: int  # how many eligible rows there are in all
    fits: np.ndarray | None = None  # bool, aligned with index: the pair fits (see the module's docstring)
    over_travel: np.ndarray | None = None  # bool, aligned: beyond the person's travel limit
    no_required_skill: np.ndarray | None = None  # bool, aligned: a job needing skills the person has none of
    fitting: int | None = None  # how many of all `total` rows fit
    utility: np.ndarray | None = None  # float64, aligned with index: the person's utility (order "wish" only)
    utility_parts: dict[str, np.ndarray] | None = None  # its parts (UTILITY_WEIGHTS' keys), aligned
    value: np.ndarray | None = None  # float64, aligned: score x slot weight, what was ranked by (None: the score)


def fit_flags(featurizer: PairFeaturizer, candidate_index: np.ndarray, slot_index: np.ndarray,
              X: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(over the travel limit, a job slot requiring skills of which the person holds none), bool per pair."""
    ci = np.asarray(candidate_index, np.int64).ravel()
    si = np.asarray(slot_index, np.int64).ravel()
    X = featurizer.features(ci, si) if X is None else X
    over = np.nan_to_num(X[:, feature_index("over_travel_km")], nan=0.0) > 0
    job = X[:, feature_index("is_training")] < 0.5
    no_skill = job & featurizer.requires_skills(si) & (featurizer.required_held(ci, si) == 0)
    return over, no_skill


def utility_parts(featurizer: PairFeaturizer, candidate_index: np.ndarray, slot_index: np.ndarray,
                  X: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """The parts of the person's utility per pair, each in [0, 1]:

    - "wish": the slot's course among the person's wished courses (1 the first wish, 0.66 the second, 0.33 the
      third, 0 not wished), for a job carrying a course code too (the trade they wished to learn);
    - "pay": the monthly pay (the middle of its range) over twice the usual pay, at most 1 (the usual
      PAY_REFERENCE_CNY is 0.5); a job without pay stated, and a training seat, count as the usual pay (0.5);
    - "near": 1 at home, falling in a straight line to 0 at the person's travel limit, 0 beyond it (0.5 when a
      coordinate is unknown)."""
    ci = np.asarray(candidate_index, np.int64).ravel()
    si = np.asarray(slot_index, np.int64).ravel()
    X = featurizer.features(ci, si) if X is None else X
    wish = X[:, feature_index("course_rank")]
    pay_mid = np.asarray(featurizer.slots.pay_mid, np.float64)[si]
    training = np.asarray(featurizer.slots.is_training, bool)[si]
    known_pay = np.isfinite(pay_mid) & ~training
    pay = np.where(known_pay, np.clip(np.nan_to_num(pay_mid) / UTILITY_PAY_FULL_CNY, 0.0, 1.0), UTILITY_UNKNOWN)
    distance = X[:, feature_index("distance_km")]
    limit = np.asarray(featurizer.candidates.max_travel_km, np.float64)[ci]
    with np.errstate(divide="ignore", invalid="ignore"):
        near = np.where(limit > 0, 1.0 - distance / limit, np.where(distance <= 0, 1.0, 0.0))
    near = np.where(np.isfinite(distance), np.clip(np.nan_to_num(near), 0.0, 1.0), UTILITY_UNKNOWN)
    return {"wish": wish.astype(np.float64), "pay": pay, "near": near}


def utility(parts: dict[str, np.ndarray]) -> np.ndarray:
    """The person's utility: UTILITY_WEIGHTS' weighted mean of the parts (between 0 and 1)."""
    return sum(UTILITY_WEIGHTS[name] * parts[name] for name in UTILITY_WEIGHTS)


def _page(rows: np.ndarray, p: np.ndarray, ids: np.ndarray, offset: int, limit: int, *,
          keys: tuple[np.ndarray, ...] = (), flags: tuple[np.ndarray, np.ndarray] | None = None,
          parts: dict[str, np.ndarray] | None = None, score: np.ndarray | None = None) -> Ranked:
    """One page of `rows` ordered by `keys` (most significant first), then `p` descending, then id. `score`: the
    probability to report when `p` is a weighted value (Ranked.value then holds `p`)."""
    offset, limit = max(0, int(offset)), max(0, int(limit))
    total = len(rows)
    end = min(total, offset + limit)
    fitting = None if flags is None else int((~(flags[0] | flags[1])).sum())
    if offset >= end:
        return Ranked(index=np.zeros(0, np.int64), score=np.zeros(0), total=total, fitting=fitting)
    position = np.arange(total)
    if not keys and end < total // 4:
        # Only the top `end` need a full sort; keep everything tied with the last of them.
        threshold = np.partition(-p, end - 1)[end - 1]
        position = np.flatnonzero(-p <= threshold)
    order = position[np.lexsort((ids[position], -p[position], *(k[position] for k in reversed(keys))))][offset:end]
    ranked = Ranked(index=rows[order].astype(np.int64),
                    score=(p if score is None else score)[order].astype(np.float64), total=total, fitting=fitting,
                    value=None if score is None else p[order].astype(np.float64))
    if flags is not None:
        over, no_skill = flags
        ranked.over_travel, ranked.no_required_skill = over[order], no_skill[order]
        ranked.fits = ~(over[order] | no_skill[order])
    if parts is not None:
        ranked.utility_parts = {name: value[order] for name, value in parts.items()}
        ranked.utility = utility(ranked.utility_parts)
    return ranked


def _rank(scorer, featurizer: PairFeaturizer, cand_rows: np.ndarray, slot_rows: np.ndarray, rows: np.ndarray,
          ids: np.ndarray, offset: int, limit: int, order: str, slot_weight: np.ndarray | None = None) -> Ranked:
    if order not in ORDERS:
        raise ValueError(f"order must be one of {ORDERS}, not {order!r}")
    X = featurizer.features(cand_rows, slot_rows)
    p = scorer.estimator.predict_proba(X)[:, 1] if len(X) else np.zeros(0)
    score = None
    if slot_weight is not None:
        score, p = p, p * np.asarray(slot_weight, dtype=np.float64)[slot_rows]
    flags = fit_flags(featurizer, cand_rows, slot_rows, X)
    keys: tuple[np.ndarray, ...] = ()
    if order == "fit":
        keys = ((flags[0] | flags[1]).astype(np.int8),)
    elif order == "distance":
        keys = (np.nan_to_num(X[:, feature_index("distance_km")], nan=np.inf),)
    elif order == "starts_on":
        keys = (featurizer.slots.starts_on[slot_rows].astype(np.int64),)
    elif order == "pay":
        pay = featurizer.slots.pay_mid[slot_rows]
        keys = (np.where(np.isfinite(pay), -pay, np.inf),)
    parts = None
    if order == "wish":
        parts = utility_parts(featurizer, cand_rows, slot_rows, X)
        keys = (-(utility(parts) * p),)
    return _page(rows, p, ids, offset, limit, keys=keys, flags=flags, parts=parts, score=score)


def rank_slots(scorer, featurizer: PairFeaturizer, candidates: CandidateTable, slots: SlotTable, candidate: int,
               today: int, offset: int = 0, limit: int = 20,
               prerequisites: Mapping[str, Iterable[str]] | None = None, order: str = "score",
               slot_weight: np.ndarray | None = None) -> Ranked:
    """Eligible slots for one candidate row, in `order` (see ORDERS), one page; ranked by score x `slot_weight`
    where it is given (see the module's docstring)."""
    slot_rows = np.arange(len(slots), dtype=np.int64)
    cand_rows = np.full(len(slot_rows), int(candidate), dtype=np.int64)
    ok = eligible_mask(candidates, slots, cand_rows, slot_rows, today, prerequisites)
    slot_rows, cand_rows = slot_rows[ok], cand_rows[ok]
    return _rank(scorer, featurizer, cand_rows, slot_rows, slot_rows, np.asarray(slots.ids)[slot_rows], offset,
                 limit, order, slot_weight)


def rank_candidates(scorer, featurizer: PairFeaturizer, candidates: CandidateTable, slots: SlotTable, slot: int,
                    today: int, offset: int = 0, limit: int = 20,
                    prerequisites: Mapping[str, Iterable[str]] | None = None, order: str = "score") -> Ranked:
    """Eligible candidates for one slot row, in `order` ("score", "fit" or "distance"), one page."""
    cand_rows = np.arange(len(candidates), dtype=np.int64)
    slot_rows = np.full(len(cand_rows), int(slot), dtype=np.int64)
    ok = eligible_mask(candidates, slots, cand_rows, slot_rows, today, prerequisites)
    cand_rows, slot_rows = cand_rows[ok], slot_rows[ok]
    return _rank(scorer, featurizer, cand_rows, slot_rows, cand_rows, np.asarray(candidates.ids)[cand_rows], offset,
                 limit, order)
