"""Pair features: exact values on hand-made tables, vectorised == per pair, documented inputs only."""

from __future__ import annotations

import time

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
    # chinese_cooking 3 >= 2: 1; pastry 1 < 2: 1/2; hygiene and helper not held, same family: 0.25 each.
    assert row["skill_match"] == pytest.approx((1 + 0.5 + 0.25 + 0.25) / 4)
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
    assert (facts["skills_matched"], facts["skills_required"], facts["skills_partial"], facts["skills_related"]) \
        == (1, 4, 1, 2)
    assert facts["course"] == "cooking" and facts["course_rank"] == 1
    assert f.describe(0, 1)["distance_km"] == pytest.approx(6.2, abs=0.01)
    assert f.describe(0, 2)["course_rank"] == 2
    assert f.describe(1, 0)["pay_mid"] == 5200.0 and f.describe(0, 1)["pay_mid"] is None


def test_ranking_all_slots_for_one_candidate_is_fast():
    from matcher.engine.synthetic import make_world

    big = make_world(5, 2000, 10_000, 0)
    f = featurizer_for(big)
    slots = np.arange(10_000)
    best = min(_timed(lambda: f.features(np.zeros(10_000, np.int64), slots)) for _ in range(5))
    assert best < 0.02  # measured ~2 ms; a loose bound so a busy machine does not fail it


def _timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def test_tie_breaks_a_wish_is_for_a_training_course(tiny):
    candidates, slots, taxonomy, names, _ = tiny
    f = PairFeaturizer(candidates, slots, taxonomy=taxonomy, skill_names=names)
    wish, distance = f.tie_breaks(np.array([0, 0, 0, 1]), np.array([0, 1, 2, 1]))
    # Candidate 0 wishes cooking first: the cooking course is that wish; the cooking and welding jobs are jobs.
    # Candidate 1 wishes only welding: the cooking course is none of theirs.
    assert wish.tolist() == [0, 1, 0, 0] and wish.dtype == np.int32
    assert distance[0] == pytest.approx(0.0, abs=1e-9) and distance[1] == pytest.approx(6.2, abs=0.01)
