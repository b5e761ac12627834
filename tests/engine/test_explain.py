"""Explanations: the features that moved a score most, each with a reason code and the right numbers."""

from __future__ import annotations

import numpy as np
import pytest

from matcher.engine.explain import REASON_CODES, Reason, effects, explain_pairs, reason_code
from matcher.engine.features import FEATURE_NAMES, PairFeaturizer
from matcher.engine.model import train_scorer
from matcher.engine.types import History


@pytest.fixture()
def prior():
    empty = np.zeros(0, np.int64)
    return train_scorer(None, None, History(empty, empty, empty, np.zeros(0, bool)))


def test_reasons_carry_codes_and_numbers(tiny, prior):
    candidates, slots, taxonomy, names, _ = tiny
    f = PairFeaturizer(candidates, slots, taxonomy=taxonomy, skill_names=names)
    [reasons] = explain_pairs(prior, f, np.array([0]), np.array([1]), top=len(FEATURE_NAMES))
    by_feature = {r.feature: r for r in reasons}
    assert by_feature["skill_match"].code == "skill_match"
    assert by_feature["skill_match"].params == {"matched": 1, "total": 1}
    assert by_feature["course_rank"].code == "course_first_choice"
    assert by_feature["course_rank"].params == {"course": "cooking", "rank": 1}
    assert by_feature["distance_km"].code == "distance"
    assert by_feature["distance_km"].params["km"] == pytest.approx(6.2, abs=0.05)
    assert by_feature["over_travel_km"].code == "over_travel"
    assert by_feature["over_travel_km"].params["km"] == pytest.approx(1.2, abs=0.05)
    assert by_feature["base_stay_rate"].params == {"percent": 75, "stayed": 15, "placements": 20}
    assert by_feature["skill_match"].effect > 0 and by_feature["over_travel_km"].effect < 0
    assert by_feature["skill_match"].value == 1.0
    assert all(r.code in REASON_CODES[r.feature] for r in reasons)
    # Largest first.
    assert [abs(r.effect) for r in reasons] == sorted((abs(r.effect) for r in reasons), reverse=True)


def test_top_three(tiny, prior):
    candidates, slots, taxonomy, names, _ = tiny
    f = PairFeaturizer(candidates, slots, taxonomy=taxonomy, skill_names=names)
    explained = explain_pairs(prior, f, np.array([0, 0]), np.array([1, 0]))
    assert len(explained) == 2 and all(len(r) == 3 for r in explained)
    assert all(isinstance(r, Reason) for r in explained[0])
    # Partial and related skills are told apart.
    assert reason_code("skill_match", f.describe(0, 0)) == ("skill_match_partial",
                                                            {"matched": 1, "total": 4, "partial": 1})
    # A feature at its neutral reference moved nothing and is not given as a reason (0.5 = prior baseline).
    [all_reasons] = explain_pairs(prior, f, np.array([0]), np.array([0]), top=len(FEATURE_NAMES))
    assert "skill_match" not in {r.feature for r in all_reasons}


def test_every_feature_has_its_codes(tiny, world, featurizer):
    """Whatever the pair, the code given is one REASON_CODES lists for its feature (the application has words
    for exactly those)."""
    assert set(REASON_CODES) == set(FEATURE_NAMES)
    rng = np.random.default_rng(3)
    for c, s in zip(rng.integers(0, len(world.candidates), 60), rng.integers(0, len(world.slots), 60), strict=True):
        facts = featurizer.describe(int(c), int(s))
        for feature in FEATURE_NAMES:
            code, params = reason_code(feature, facts)
            assert code in REASON_CODES[feature], (feature, code)
            assert all(isinstance(v, int | float | str | type(None)) for v in params.values())


def test_second_wish(tiny, prior):
    candidates, slots, taxonomy, names, _ = tiny
    f = PairFeaturizer(candidates, slots, taxonomy=taxonomy, skill_names=names)
    [reasons] = explain_pairs(prior, f, np.array([0]), np.array([2]), top=len(FEATURE_NAMES))
    course = {r.feature: r for r in reasons}["course_rank"]
    assert course.code == "course_second_choice" and course.params == {"course": "welding", "rank": 2}


def test_learned_effects_are_prediction_changes(learned, featurizer, world):
    X = featurizer.features(world.history.candidate_index[:5], world.history.slot_index[:5])
    moved = effects(learned, X)
    p = learned.estimator.predict_proba(X)[:, 1]
    j = FEATURE_NAMES.index("skill_match")
    X_ref = X.copy()
    X_ref[:, j] = learned.baseline[j]
    np.testing.assert_allclose(moved[:, j], p - learned.estimator.predict_proba(X_ref)[:, 1])
    explained = explain_pairs(learned, featurizer, world.history.candidate_index[:5], world.history.slot_index[:5])
    assert all(1 <= len(r) <= 3 for r in explained)
    assert all(r.code in REASON_CODES[r.feature] for reasons in explained for r in reasons)


def test_no_pairs_no_reasons(learned, featurizer):
    assert explain_pairs(learned, featurizer, np.zeros(0, np.int64), np.zeros(0, np.int64)) == []
