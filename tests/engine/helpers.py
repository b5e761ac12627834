"""Helpers for engine tests: random worlds from a seed, featurizers, tables with one row changed."""

from __future__ import annotations

import dataclasses

import numpy as np

from matcher.engine.features import PairFeaturizer
from matcher.engine.synthetic import World, make_world
from matcher.engine.types import Ban, CandidateTable, SlotTable


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


def tiny_tables():
    """Two candidates and three slots with hand-picked facts (used by exact-value tests):
    (candidates, slots, taxonomy, skill names, today)."""
    today = 739_000
    candidates = CandidateTable(
        ids=np.array([10, 20]), lat=np.array([29.0, 29.0]), lng=np.array([119.6, 119.6]),
        max_travel_km=np.array([5.0, 30.0]), needs_housing=np.array([True, False]),
        education=np.array([2, 5], dtype=np.int8), birth_year=np.array([1990, 1985], dtype=np.int16),
        available_from=np.array([today - 10, today - 100]), active=np.array([True, True]),
        skills=({"chinese_cooking": 3, "pastry": 1}, {"arc_welding": 2}),
        free_text_skills=(("在厨房帮过工",), ()),
        certified_skills=(frozenset({"chinese_cooking"}), frozenset()),
        preferred_courses=(("cooking", "welding"), ("welding",)),
        bans=((), (Ban(kind="food_safety", courses=frozenset({"cooking"})),)),
    )
    slots = SlotTable(
        ids=np.array([3, 1, 2]), company_ids=np.array([7, 7, 8]),
        lat=np.array([29.0, 29.0 + 6.2 / 111.195, 29.3]), lng=np.array([119.6, 119.6, 119.6]),
        is_training=np.array([False, True, False]), course=("cooking", "cooking", "welding"),
        occupation=(None, None, None),
        required_skills=({"chinese_cooking": 2, "pastry": 2, "food_hygiene": 1, "kitchen_helper": 1},
                         {"chinese_cooking": 1}, {"arc_welding": 2}),
        free_text_required=((), (), ()), title=("中式烹调师", "烹饪培训班", "焊工"),
        seats_free=np.array([2, 1, 1], dtype=np.int32), housing_provided=np.array([False, True, True]),
        pay_mid=np.array([5200.0, np.nan, 6000.0]), certificate_awarded=np.array([False, True, False]),
        min_age=np.array([16, 16, 18], dtype=np.int16), starts_on=np.array([today + 5, today + 10, today]),
        open=np.array([True, True, True]), base_in_force=np.array([True, True, True]),
        base_placements=np.array([20.0, 20.0, 0.0]), base_stayed=np.array([15.0, 15.0, 0.0]),
    )
    taxonomy = {"chinese_cooking": "cooking", "pastry": "cooking", "food_hygiene": "cooking",
                "kitchen_helper": "cooking", "arc_welding": "welding"}
    names = {"chinese_cooking": "中式烹调", "pastry": "面点制作", "food_hygiene": "食品卫生",
             "kitchen_helper": "厨房帮工", "arc_welding": "电焊"}
    return candidates, slots, taxonomy, names, today
