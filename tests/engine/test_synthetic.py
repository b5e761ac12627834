"""The simulator's truths: the default world unchanged, interactions as stated, worlds that differ, stipends."""

from __future__ import annotations

import numpy as np
import pytest

from matcher.engine.features import feature_index
from matcher.engine.synthetic import TRUTHS, WorldSpec, make_world, world_spec
from tests.engine.helpers import featurizer_for


@pytest.fixture(scope="module")
def worlds():
    return {truth: make_world(7, 400, 80, 600, truth=truth) for truth in ("additive", "interactions", "varied")}


def test_default_truth_is_the_additive_world(worlds):
    plain = make_world(7, 400, 80, 600)
    additive = worlds["additive"]
    assert plain.spec == WorldSpec() == TRUTHS["additive"]
    for name in ("candidate_index", "slot_index", "referred_on", "stayed"):
        np.testing.assert_array_equal(getattr(plain.history, name), getattr(additive.history, name))
    assert np.isnan(plain.slots.pay_mid[plain.slots.is_training]).all()  # no stipends in the default truth
    # The candidates and slots do not depend on the truth (only stipends, drawn apart, and the history do).
    np.testing.assert_array_equal(plain.candidates.lat, worlds["interactions"].candidates.lat)
    np.testing.assert_array_equal(plain.slots.is_training, worlds["interactions"].slots.is_training)


def _probe(world, **changes):
    """The truth for every candidate on one slot of each kind, with slot facts changed as told."""
    import dataclasses

    slots = dataclasses.replace(world.slots, **{k: v(world.slots) for k, v in changes.items()})
    return dataclasses.replace(world, slots=slots)


def test_interactions_act_as_stated(worlds):
    world = worlds["interactions"]
    spec = world.spec
    c = np.arange(len(world.candidates))
    training = np.flatnonzero(world.slots.is_training)[0]
    job = np.flatnonzero(~world.slots.is_training)[0]
    # Skills matter less on a training seat: the logit gap between holding all and none of the required skills.
    full, none = world._held.copy(), world._held.copy()
    full[:, :] = True
    none[:, :] = False
    import dataclasses

    def logit(w, s):
        p = w.stay_probability(c, np.full(len(c), s))
        return np.log(p / (1 - p))

    held, lacking = dataclasses.replace(world, _held=full), dataclasses.replace(world, _held=none)
    gap_training = (logit(held, training) - logit(lacking, training)).mean()
    gap_job = (logit(held, job) - logit(lacking, job)).mean()
    assert gap_training == pytest.approx(spec.skill_effect * spec.skill_on_training)
    assert gap_job == pytest.approx(spec.skill_effect)
    # Housing matters only with distance: the cost of a housing gap grows with the km to the slot.
    needs = dataclasses.replace(world.candidates, needs_housing=np.ones(len(c), bool))
    housed = dataclasses.replace(world, candidates=needs)
    slot_row = np.full(len(c), job)
    provided = _probe(housed, housing_provided=lambda s: np.ones(len(s), bool))
    missing = _probe(housed, housing_provided=lambda s: np.zeros(len(s), bool))
    cost = np.log(provided.stay_probability(c, slot_row)) - np.log(missing.stay_probability(c, slot_row))
    from matcher.engine.features import haversine_km
    km = haversine_km(world.candidates.lat, world.candidates.lng, world.slots.lat[job], world.slots.lng[job])
    assert np.corrcoef(km, cost)[0, 1] > 0.5
    # Education matters on e-commerce slots only.
    ecommerce = [i for i, code in enumerate(world.slots.course) if code == "ecommerce"]
    other = [i for i, code in enumerate(world.slots.course) if code != "ecommerce"]
    educated = dataclasses.replace(world, candidates=dataclasses.replace(
        world.candidates, education=np.full(len(c), 6, np.int8)))
    unschooled = dataclasses.replace(world, candidates=dataclasses.replace(
        world.candidates, education=np.zeros(len(c), np.int8)))
    for slots, matters in ((ecommerce, True), (other, False)):
        s = np.full(len(c), slots[0])
        diff = educated.stay_probability(c, s) - unschooled.stay_probability(c, s)
        assert (diff > 0.05).any() if matters else np.allclose(diff, 0)


def test_worlds_differ_by_seed_and_by_strength():
    a, b = world_spec("varied", 1), world_spec("varied", 2)
    assert a != b and a.name == b.name == "varied"
    assert 0 <= a.skill_on_training <= 0.6 and a.housing_distance_km is not None
    with pytest.raises(ValueError):
        world_spec("tuned")


def test_stipends_reach_the_pay_feature(worlds):
    world = worlds["interactions"]
    slots = world.slots
    paid = slots.is_training & np.isfinite(slots.pay_mid)
    assert paid.any() and (slots.pay_mid[paid] >= 500).all()
    f = featurizer_for(world)
    s = np.flatnonzero(paid)[:5]
    pay = f.features(np.zeros(len(s), np.int64), s)[:, feature_index("pay")]
    np.testing.assert_allclose(pay, slots.pay_mid[s] / 1000)  # a stipend against none
    unpaid = np.flatnonzero(slots.is_training & ~np.isfinite(slots.pay_mid))[:3]
    assert (f.features(np.zeros(len(unpaid), np.int64), unpaid)[:, feature_index("pay")] == 0).all()


def test_the_logging_policy_stays_biased(worlds):
    for world in worlds.values():
        f = featurizer_for(world)
        h = world.history
        X = f.features(h.candidate_index, h.slot_index)
        rng = np.random.default_rng(0)
        random = f.features(rng.integers(0, len(world.candidates), 2000), rng.integers(0, len(world.slots), 2000))
        wished = feature_index("course_rank")
        assert (X[:, wished] > 0).mean() > 0.5 > (random[:, wished] > 0).mean()
        km = feature_index("distance_km")
        assert np.nanmedian(X[:, km]) < np.nanmedian(random[:, km])
