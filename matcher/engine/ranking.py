"""Two-sided ranking: the best eligible slots for a candidate, the best eligible candidates for a slot.

Only eligible pairs are scored. Order: score descending, then id ascending, so equal scores always come
out in the same order and pages never overlap or skip.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from matcher.engine.eligibility import eligible_mask
from matcher.engine.features import PairFeaturizer
from matcher.engine.model import score
from matcher.engine.types import CandidateTable, SlotTable


@dataclass
class Ranked:
    index: np.ndarray  # int64 row indices (slots or candidates) of this page, best first
    score: np.ndarray  # float64, aligned with index
    total: int  # how many eligible rows there are in all


def _page(rows: np.ndarray, p: np.ndarray, ids: np.ndarray, offset: int, limit: int) -> Ranked:
    offset, limit = max(0, int(offset)), max(0, int(limit))
    total = len(rows)
    end = min(total, offset + limit)
    if offset >= end:
        return Ranked(index=np.zeros(0, np.int64), score=np.zeros(0), total=total)
    if end < total // 4:
        # Only the top `end` need a full sort; keep everything tied with the last of them.
        threshold = np.partition(-p, end - 1)[end - 1]
        keep = np.flatnonzero(-p <= threshold)
        rows, p, ids = rows[keep], p[keep], ids[keep]
    order = np.lexsort((ids, -p))[offset:end]
    return Ranked(index=rows[order].astype(np.int64), score=p[order].astype(np.float64), total=total)


def rank_slots(scorer, featurizer: PairFeaturizer, candidates: CandidateTable, slots: SlotTable, candidate: int,
               today: int, offset: int = 0, limit: int = 20,
               prerequisites: Mapping[str, Iterable[str]] | None = None) -> Ranked:
    """Eligible slots for one candidate row, by score (desc) then slot id (asc), one page."""
    slot_rows = np.arange(len(slots), dtype=np.int64)
    cand_rows = np.full(len(slot_rows), int(candidate), dtype=np.int64)
    ok = eligible_mask(candidates, slots, cand_rows, slot_rows, today, prerequisites)
    slot_rows, cand_rows = slot_rows[ok], cand_rows[ok]
    p = score(scorer, featurizer, cand_rows, slot_rows)
    return _page(slot_rows, p, np.asarray(slots.ids)[slot_rows], offset, limit)


def rank_candidates(scorer, featurizer: PairFeaturizer, candidates: CandidateTable, slots: SlotTable, slot: int,
                    today: int, offset: int = 0, limit: int = 20,
                    prerequisites: Mapping[str, Iterable[str]] | None = None) -> Ranked:
    """Eligible candidates for one slot row, by score (desc) then candidate id (asc), one page."""
    cand_rows = np.arange(len(candidates), dtype=np.int64)
    slot_rows = np.full(len(cand_rows), int(slot), dtype=np.int64)
    ok = eligible_mask(candidates, slots, cand_rows, slot_rows, today, prerequisites)
    cand_rows, slot_rows = cand_rows[ok], slot_rows[ok]
    p = score(scorer, featurizer, cand_rows, slot_rows)
    return _page(cand_rows, p, np.asarray(candidates.ids)[cand_rows], offset, limit)
