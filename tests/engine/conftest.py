"""Engine fixtures: small random worlds (tables, history, hidden truth) built from a seed; no app needed."""

from __future__ import annotations

import pytest

from matcher.engine.features import PairFeaturizer
from matcher.engine.model import train_scorer
from matcher.engine.synthetic import World
from tests.engine.helpers import featurizer_for, random_world, tiny_tables


@pytest.fixture(scope="session")
def world() -> World:
    return random_world(0)


@pytest.fixture(scope="session")
def featurizer(world) -> PairFeaturizer:
    return featurizer_for(world)


@pytest.fixture(scope="session")
def learned(world, featurizer):
    # The additive model, unswitched: these tests need a learned model; the switch has its own tests.
    scorer = train_scorer(world.candidates, world.slots, world.history, featurizer=featurizer,
                          variants=("additive",))
    assert scorer.kind == "learned"
    return scorer


@pytest.fixture()
def tiny():
    """Two candidates and three slots with hand-picked facts (used by exact-value tests)."""
    return tiny_tables()
