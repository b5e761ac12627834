"""The slot side built once, joined to candidates per request, gives PairFeaturizer's features."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from matcher.engine.features import PairFeaturizer
from matcher.engine.slot_side import SlotSide
from matcher.matching.pipeline import all_pairs
from tests.engine.helpers import random_world, replace_row, tiny_tables


def rows(table, picked):
    """The table's rows `picked`, in that order."""
    picked = np.asarray(picked, dtype=np.int64)
    return dataclasses.replace(table, **{
        f.name: (getattr(table, f.name)[picked] if isinstance(getattr(table, f.name), np.ndarray)
                 else tuple(getattr(table, f.name)[i] for i in picked))
        for f in dataclasses.fields(table) if len(getattr(table, f.name))})


def assert_same(side: SlotSide, plain: PairFeaturizer, candidates, slots):
    ci, si = all_pairs(len(candidates), len(slots))
    joined = side.featurizer(candidates)
    np.testing.assert_allclose(joined.features(ci, si), plain.features(ci, si), rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(joined.required_held(ci, si), plain.required_held(ci, si))
    np.testing.assert_array_equal(joined.requires_skills(si), plain.requires_skills(si))
    # The one-candidate path the recommendations page takes (a row gathered against every slot).
    one = np.zeros(len(slots), dtype=np.int64)
    for row in range(len(candidates)):
        np.testing.assert_allclose(joined.features(one + row, np.arange(len(slots))),
                                   plain.features(one + row, np.arange(len(slots))), rtol=1e-9, atol=1e-12)
    described, expected = joined.describe(0, 0), plain.describe(0, 0)
    assert described["text_similarity"] == pytest.approx(expected.pop("text_similarity"), rel=1e-9, abs=1e-12)
    assert {k: v for k, v in described.items() if k != "text_similarity"} == expected


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_each_candidate_alone_scores_as_the_plain_featurizer(seed):
    world = random_world(seed, n_candidates=80, n_slots=150, n_history=10)
    side = SlotSide(world.slots, taxonomy=world.taxonomy, skill_names=world.skill_names)
    texts = 0
    for row in range(len(world.candidates)):
        one = rows(world.candidates, [row])
        texts += bool(one.free_text_skills[0])
        assert_same(side, PairFeaturizer(one, world.slots, taxonomy=world.taxonomy, skill_names=world.skill_names),
                    one, world.slots)
    assert texts  # some candidates wrote skills as text: the IDF they change is checked


def test_several_candidates_at_once_and_the_hand_picked_tables():
    world = random_world(3, n_candidates=60, n_slots=90, n_history=10)
    side = SlotSide(world.slots, taxonomy=world.taxonomy, skill_names=world.skill_names)
    some = rows(world.candidates, range(0, 60, 3))
    assert_same(side, PairFeaturizer(some, world.slots, taxonomy=world.taxonomy, skill_names=world.skill_names),
                some, world.slots)
    candidates, slots, taxonomy, names, _today = tiny_tables()
    assert_same(SlotSide(slots, taxonomy=taxonomy, skill_names=names),
                PairFeaturizer(candidates, slots, taxonomy=taxonomy, skill_names=names), candidates, slots)


@pytest.mark.parametrize("text", [("焊工 烧焊",), ("", " "), ("完全没有重合的字词qxz",)])
def test_text_new_to_the_slots_blank_or_shared_reweights_as_a_fit_over_both(text):
    candidates, slots, taxonomy, names, _today = tiny_tables()
    side = SlotSide(slots, taxonomy=taxonomy, skill_names=names)
    changed = replace_row(candidates, 0, free_text_skills=text)
    shared = replace_row(candidates, 1, free_text_skills=(slots.title[2],))  # exactly a slot's document
    for table in (changed, shared):
        assert_same(side, PairFeaturizer(table, slots, taxonomy=taxonomy, skill_names=names), table, slots)


def test_a_skill_or_course_no_slot_knows():
    candidates, slots, taxonomy, names, _today = tiny_tables()
    side = SlotSide(slots, taxonomy=taxonomy, skill_names=names)
    odd = replace_row(candidates, 0, skills={"unheard_of": 2, "pastry": 1}, certified_skills=frozenset({"odd"}),
                      preferred_courses=("no_such_course", "cooking"))
    assert_same(side, PairFeaturizer(odd, slots, taxonomy=taxonomy, skill_names=names), odd, slots)


def test_slots_without_any_text():
    candidates, slots, taxonomy, names, _today = tiny_tables()
    blank = dataclasses.replace(slots, title=("", "", ""), free_text_required=((), (), ()),
                                required_skills=({}, {}, {}))
    side = SlotSide(blank, taxonomy=taxonomy, skill_names=names)
    assert_same(side, PairFeaturizer(candidates, blank, taxonomy=taxonomy, skill_names=names), candidates, blank)


def test_free_text_read_with_synonyms_and_unknown_requirements_score_as_the_plain_featurizer():
    """Free text on both sides (matched by the same text, or read as a code through the synonyms) is
    candidate-dependent vocabulary too: the cached slot side must give the same numbers."""
    candidates, slots, taxonomy, names, _today = tiny_tables()
    synonyms = [("焊工", "arc_welding"), ("厨师", "chinese_cooking"), ("开叉车", "forklift_operation")]
    slots = replace_row(replace_row(slots, 0, required_skills={}), 0, free_text_required=("挖掘机", "焊工"))
    slots = replace_row(slots, 1, free_text_required=("有安全意识",))
    for texts in ((("挖掘机 ",), ("厨师", "开叉车")), (("有安全意识",), ()), (("完全无关",), ("焊工",))):
        table = replace_row(replace_row(candidates, 0, free_text_skills=texts[0]), 1, free_text_skills=texts[1])
        side = SlotSide(slots, taxonomy=taxonomy, skill_names=names, synonyms=synonyms)
        assert_same(side, PairFeaturizer(table, slots, taxonomy=taxonomy, skill_names=names, synonyms=synonyms),
                    table, slots)
