"""Helpers for engine tests: random worlds from a seed, featurizers, tables with one row changed."""

from __future__ import annotations

import dataclasses

import numpy as np

from matcher.engine.features import PairFeaturizer
from matcher.engine.synthetic import World, make_world
from matcher.engine.types import CandidateTable, SlotTable


def random_world(seed: int = 0, n_candidates: int = 600, n_slots: int = 120, n_history: int = 1500) -> World:
    """Random candidate and slot tables with a referral history drawn from a known ground truth."""
    return make_world(seed, n_candidates, n_slots, n_history)


def featurizer_for(world: World, candidates: CandidateTable | None = None,
                   slots: SlotTable | None = None) -> PairFeaturizer:
    return PairFeaturizer(candidates or world.candidates, slots or world.slots, taxonomy=world.taxonomy,
                          skill_names=world.skill_names)


def replace_row(table, row: int, **changes):
    """A copy of a table whose row `row` has the given column values (arrays copied, tuples rebuilt)."""
    updates = {}
    for name, value in changes.items():
        column = getattr(table, name)
        if isinstance(column, np.ndarray):
            column = column.copy()
            column[row] = value
        else:
            column = tuple(value if i == row else v for i, v in enumerate(column))
        updates[name] = column
    return dataclasses.replace(table, **updates)
