"""Pair features: exact values on hand-made tables, vectorised == per pair, documented inputs only."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from matcher.engine.features import FEATURE_NAMES, MONOTONE, PairFeaturizer, feature_index
from tests.engine.helpers import featurizer_for, replace_row


def test_names_and_monotone_constraints_cover_every_feature():
    assert len(set(FEATURE_NAMES)) == len(FEATURE_NAMES)
    assert set(MONOTONE) == set(FEATURE_NAMES)
    assert MONOTONE["skill_match"] == MONOTONE["course_rank"] == MONOTONE["base_stay_rate"] == 1
    assert MONOTONE["distance_km"] == MONOTONE["over_travel_km"] == MONOTONE["housing_gap"] == -1


def test_exact_values_on_hand_made_tables(tiny):
    candidates, slots, taxonomy, names, _ = tiny
    f = PairFeaturizer(candidates, slots, taxonomy=taxonomy, skill_names=names)
    X = f.features(np.array([0, 0, 1, 1]), np.array([0, 1, 2, 0]))
    row = dict(zip(FEATURE_NAMES, X[0], strict=True))
    # chinese_cooking 3 >= 2: 1; pastry 1 < 2: 1/2; hygiene not held, same family: 0.25; kitchen_helper: the
    # free text 在厨房帮过工 reads as 厨房帮工 (held at the default level 2 >= 1): 1.
    assert row["skill_match"] == pytest.approx((1 + 0.5 + 0.25 + 1) / 4)
    assert row["certified_skill"] == 1.0
    assert row["course_rank"] == 1.0
    assert row["distance_km"] == pytest.approx(0.0, abs=1e-9)
    assert row["housing_gap"] == 1.0  # needs housing, slot 0 provides none
    assert row["pay"] == pytest.approx(0.4)  # (5200 - 4800) / 1000
    assert row["education"] == pytest.approx(2 / 6)
    assert row["base_stay_rate"] == pytest.approx((15 + 5 * 0.5) / (20 + 5))
    training = dict(zip(FEATURE_NAMES, X[1], strict=True))
    assert training["distance_km"] == pytest.approx(6.2, abs=0.01)
    assert training["over_travel_km"] == pytest.approx(1.2, abs=0.01)
    assert training["pay"] == 0.0 and training["is_training"] == 1.0 and training["certificate_subsidy"] == 1.0
    assert training["housing_gap"] == 0.0
    welder = dict(zip(FEATURE_NAMES, X[2], strict=True))
    assert welder["skill_match"] == 1.0 and welder["course_rank"] == 1.0 and welder["certified_skill"] == 0.0
    assert welder["base_stay_rate"] == pytest.approx(0.5)  # no record: the prior rate
    no_wish = dict(zip(FEATURE_NAMES, X[3], strict=True))
    assert no_wish["course_rank"] == 0.0 and no_wish["skill_match"] == 0.0  # welding skill, no cooking family
    # Second wish.
    assert f.features(np.array([0]), np.array([2]))[0, feature_index("course_rank")] == pytest.approx(0.66)


def test_text_match_reads_chinese_free_text(tiny):
    candidates, slots, taxonomy, names, _ = tiny
    f = PairFeaturizer(candidates, slots, taxonomy=taxonomy, skill_names=names)
    text = f.features(np.array([0, 0, 1]), np.array([0, 2, 0]))[:, feature_index("text_match")]
    # "在厨房帮过工" shares characters with the cooking slot's "厨房帮工", none with "焊工 电焊" beyond "工".
    assert text[0] > text[1] > 0
    assert text[2] == 0.0  # no free text


def test_without_taxonomy_skills_match_by_code_only(tiny):
    candidates, slots, *_ = tiny
    f = PairFeaturizer(candidates, slots)
    assert f.features(np.array([0]), np.array([0]))[0, 0] == pytest.approx((1 + 0.5) / 4)


def test_vectorised_equals_per_pair_loop(world, featurizer):
    rng = np.random.default_rng(3)
    ci = rng.integers(0, len(world.candidates), 300)
    si = rng.integers(0, len(world.slots), 300)
    together = featurizer.features(ci, si)
    one_by_one = np.vstack([featurizer.features(np.array([c]), np.array([s])) for c, s in zip(ci, si, strict=True)])
    np.testing.assert_allclose(together, one_by_one, rtol=1e-12, atol=1e-12)
    # The fast paths (one candidate, many slots; one slot, many candidates) agree with the general one.
    slots = np.arange(len(world.slots))
    np.testing.assert_allclose(featurizer.features(np.full(len(slots), 5), slots),
                               np.vstack([featurizer.features(np.array([5, 6]), np.array([s, s]))[:1]
                                          for s in slots]), atol=1e-12)
    people = np.arange(len(world.candidates))
    np.testing.assert_allclose(featurizer.features(people, np.full(len(people), 7)),
                               np.vstack([featurizer.features(np.array([c, c]), np.array([7, 8]))[:1]
                                          for c in people]), atol=1e-12)


def test_features_are_float64_and_bounded(world, featurizer):
    X = featurizer.features(world.history.candidate_index, world.history.slot_index)
    assert X.dtype == np.float64 and X.shape == (len(world.history.stayed), len(FEATURE_NAMES))
    for name in ("skill_match", "text_match", "certified_skill", "course_rank", "housing_gap", "base_stay_rate"):
        column = X[:, feature_index(name)]
        assert column.min() >= 0 and column.max() <= 1, name


def test_birth_year_and_eligibility_only_facts_change_no_feature(world, featurizer):
    """Only documented inputs feed features: birth year (legal minimum age only), availability, activity
    and bans are eligibility facts and must not move a feature."""
    candidates = world.candidates
    changed = replace_row(candidates, 3, birth_year=1950)
    changed = replace_row(changed, 3, available_from=int(candidates.available_from[3]) + 400)
    changed = replace_row(changed, 3, active=not candidates.active[3])
    changed = replace_row(changed, 3, bans=())
    other = featurizer_for(world, candidates=changed)
    ci = np.full(len(world.slots), 3)
    si = np.arange(len(world.slots))
    np.testing.assert_array_equal(featurizer.features(ci, si), other.features(ci, si))


def test_describe_gives_the_facts_of_a_pair(tiny):
    candidates, slots, taxonomy, names, _ = tiny
    f = PairFeaturizer(candidates, slots, taxonomy=taxonomy, skill_names=names)
    facts = f.describe(0, 0)
    # chinese_cooking held; kitchen_helper through the free text 在厨房帮过工; pastry below; food_hygiene related.
    assert (facts["skills_matched"], facts["skills_required"], facts["skills_partial"], facts["skills_related"],
            facts["skills_unknown"]) == (2, 4, 1, 1, 0)
    assert facts["course"] == "cooking" and facts["course_rank"] == 1
    assert f.describe(0, 1)["distance_km"] == pytest.approx(6.2, abs=0.01)
    assert f.describe(0, 2)["course_rank"] == 2
    assert f.describe(1, 0)["pay_mid"] == 5200.0 and f.describe(0, 1)["pay_mid"] is None


def _with_free_text(tiny, *, required: dict, required_text: tuple, held_text=((), ()), held_levels=((), ()),
                    required_levels=None):
    candidates, slots, taxonomy, names, _ = tiny
    candidates = replace_row(replace_row(candidates, 0, free_text_skills=held_text[0]), 1,
                             free_text_skills=held_text[1])
    candidates = dataclasses.replace(candidates, free_text_levels=held_levels)
    slots = replace_row(replace_row(slots, 0, required_skills=required), 0, free_text_required=required_text)
    if required_levels is not None:
        slots = dataclasses.replace(slots, free_text_required_levels=(required_levels, (), ()))
    return candidates, slots, taxonomy, names


def test_a_slot_asking_only_free_text_is_no_full_match_for_everyone(tiny):
    """Issue 17: requirements outside the taxonomy were ignored, so such a slot matched every person fully."""
    candidates, slots, taxonomy, names = _with_free_text(tiny, required={}, required_text=("挖掘机", "有安全意识"))
    f = PairFeaturizer(candidates, slots, taxonomy=taxonomy, skill_names=names)
    skill = f.features(np.array([0, 1]), np.array([0, 0]))[:, feature_index("skill_match")]
    assert skill.tolist() == [0.0, 0.0]  # 0 known of 2: unknown is never met
    facts = f.describe(0, 0)
    assert (facts["skills_required"], facts["skills_matched"], facts["skills_unknown"]) == (2, 0, 2)
    assert facts["required_skills"] == [] and facts["matched_skills"] == []
    # Whether anyone has an unknown skill is unknown: no "holds none of the required skills" flag either.
    assert not f.requires_skills(np.array([0]))[0]


def test_unknown_requirements_count_in_the_denominator(tiny):
    candidates, slots, taxonomy, names = _with_free_text(tiny, required={"chinese_cooking": 2},
                                                         required_text=("挖掘机",))
    f = PairFeaturizer(candidates, slots, taxonomy=taxonomy, skill_names=names)
    assert f.features(np.array([0]), np.array([0]))[0, feature_index("skill_match")] == pytest.approx(0.5)
    assert f.required_held(np.array([0]), np.array([0]))[0] == 1


def test_the_same_free_text_on_both_sides_is_a_match(tiny):
    candidates, slots, taxonomy, names = _with_free_text(tiny, required={}, required_text=("挖掘机",),
                                                         held_text=(("挖掘机 ",), ("装载机",)))
    f = PairFeaturizer(candidates, slots, taxonomy=taxonomy, skill_names=names)
    skill = f.features(np.array([0, 1]), np.array([0, 0]))[:, feature_index("skill_match")]
    assert skill.tolist() == [1.0, 0.0]
    assert f.describe(0, 0)["skills_unknown"] == 0 and f.describe(1, 0)["skills_unknown"] == 1


def test_free_text_read_as_a_code_matches_at_its_level(tiny):
    synonyms = [("焊工", "arc_welding"), ("厨师", "chinese_cooking")]
    # The slot asks 焊工 at level 3; candidate 1 holds arc_welding 2 (coded), candidate 0 wrote 厨师 at level 4.
    candidates, slots, taxonomy, names = _with_free_text(tiny, required={}, required_text=("焊工", "厨师"),
                                                         held_text=(("厨师",), ()), held_levels=((4,), ()),
                                                         required_levels=(3, 2))
    candidates = replace_row(candidates, 0, skills={})
    f = PairFeaturizer(candidates, slots, taxonomy=taxonomy, skill_names=names, synonyms=synonyms)
    skill = f.features(np.array([0, 1]), np.array([0, 0]))[:, feature_index("skill_match")]
    assert skill[0] == pytest.approx(1 / 2)  # chinese_cooking 4 >= 2; no welding (other family)
    assert skill[1] == pytest.approx((2 / 3) / 2)  # arc_welding 2 of 3; cooking not held, no cooking family
    facts = f.describe(1, 0)
    assert facts["required_skills"] == ["arc_welding", "chinese_cooking"] and facts["skills_partial"] == 1
    assert facts["skills_unknown"] == 0
    assert f.requires_skills(np.array([0]))[0] and f.required_held(np.array([1]), np.array([0]))[0] == 1
    # Without the synonyms, the same texts name nothing known.
    plain = PairFeaturizer(candidates, slots, taxonomy=taxonomy, skill_names={})
    assert plain.describe(1, 0)["skills_unknown"] == 2


def test_tie_breaks_a_wish_is_for_a_training_course(tiny):
    candidates, slots, taxonomy, names, _ = tiny
    f = PairFeaturizer(candidates, slots, taxonomy=taxonomy, skill_names=names)
    wish, distance = f.tie_breaks(np.array([0, 0, 0, 1]), np.array([0, 1, 2, 1]))
    # Candidate 0 wishes cooking first: the cooking course is that wish; the cooking and welding jobs are jobs.
    # Candidate 1 wishes only welding: the cooking course is none of theirs.
    assert wish.tolist() == [0, 1, 0, 0] and wish.dtype == np.int32
    assert distance[0] == pytest.approx(0.0, abs=1e-9) and distance[1] == pytest.approx(6.2, abs=0.01)
