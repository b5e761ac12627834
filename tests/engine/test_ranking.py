"""Ranking: eligible only, score then id order, stable pagination."""

from __future__ import annotations

import dataclasses

import numpy as np

from matcher.engine.eligibility import eligible_mask
from matcher.engine.model import TrainedScorer, rule_prior, score
from matcher.engine.ranking import rank_candidates, rank_slots
from tests.engine.helpers import featurizer_for


class _Constant:
    """A scorer whose every score ties, to exercise the id tie-break."""

    def predict_proba(self, X):
        return np.column_stack([np.full(len(X), 0.5), np.full(len(X), 0.5)])


def _tied():
    return TrainedScorer(kind="prior", estimator=_Constant(), feature_names=(), metrics={}, training_data_hash="",
                         horizon_days=90, propensity="", created_at="")


def test_slots_for_a_candidate_are_eligible_sorted_and_paged(learned, featurizer, world):
    ranked = rank_slots(learned, featurizer, world.candidates, world.slots, 4, world.today, limit=1000)
    slots = np.arange(len(world.slots))
    ok = eligible_mask(world.candidates, world.slots, np.full(len(slots), 4), slots, world.today)
    assert ranked.total == ok.sum() == len(ranked.index)
    assert set(ranked.index.tolist()) == set(slots[ok].tolist())
    assert (np.diff(ranked.score) <= 0).all()
    np.testing.assert_allclose(ranked.score, score(learned, featurizer, np.full(len(ranked.index), 4),
                                                   ranked.index))
    pages = [rank_slots(learned, featurizer, world.candidates, world.slots, 4, world.today, offset=o, limit=7)
             for o in range(0, ranked.total + 7, 7)]
    assert np.concatenate([p.index for p in pages]).tolist() == ranked.index.tolist()
    assert all(p.total == ranked.total for p in pages)
    assert len(pages[-1].index) == 0


def test_ties_break_by_id_both_ways(featurizer, world):
    tied = _tied()
    ranked = rank_slots(tied, featurizer, world.candidates, world.slots, 4, world.today, limit=1000)
    assert np.all(np.diff(world.slots.ids[ranked.index]) > 0)
    people = rank_candidates(tied, featurizer, world.candidates, world.slots, 3, world.today, limit=10_000)
    assert np.all(np.diff(world.candidates.ids[people.index]) > 0)
    # A short first page (partial sort path) gives the same order as the full one.
    first = rank_candidates(tied, featurizer, world.candidates, world.slots, 3, world.today, limit=5)
    assert first.index.tolist() == people.index[:5].tolist()


def test_ids_not_row_order_break_ties(world):
    """Reversed ids: the tie-break follows ids, whatever the row order."""
    slots = dataclasses.replace(world.slots, ids=world.slots.ids[::-1].copy())
    f = featurizer_for(world, slots=slots)
    ranked = rank_slots(_tied(), f, world.candidates, slots, 4, world.today, limit=1000)
    assert np.all(np.diff(slots.ids[ranked.index]) > 0)
    assert ranked.index[0] > ranked.index[-1]


def test_candidates_for_a_slot(learned, featurizer, world):
    ranked = rank_candidates(learned, featurizer, world.candidates, world.slots, 3, world.today, offset=2, limit=5)
    full = rank_candidates(learned, featurizer, world.candidates, world.slots, 3, world.today, limit=10_000)
    assert ranked.index.tolist() == full.index[2:7].tolist()
    assert ranked.total == full.total > 0
    prior = TrainedScorer(kind="prior", estimator=rule_prior(), feature_names=(),
                          metrics={}, training_data_hash="", horizon_days=90, propensity="", created_at="")
    assert rank_candidates(prior, featurizer, world.candidates, world.slots, 3, world.today).total == full.total


def test_empty_when_nothing_is_eligible(learned, featurizer, world):
    closed = dataclasses.replace(world.slots, open=np.zeros(len(world.slots), bool))
    f = featurizer_for(world, slots=closed)
    ranked = rank_slots(learned, f, world.candidates, closed, 0, world.today)
    assert ranked.total == 0 and len(ranked.index) == 0 and len(ranked.score) == 0


def test_empty_tables():
    from matcher.engine.features import PairFeaturizer
    from matcher.engine.model import train_scorer
    from matcher.engine.synthetic import make_world
    from matcher.engine.types import History

    empty = np.zeros(0, np.int64)
    prior = train_scorer(None, None, History(empty, empty, empty, np.zeros(0, bool)))
    no_slots = make_world(0, 20, 0, 0)
    f = PairFeaturizer(no_slots.candidates, no_slots.slots)
    assert rank_slots(prior, f, no_slots.candidates, no_slots.slots, 0, no_slots.today).total == 0
    no_people = make_world(0, 0, 10, 0)
    f = PairFeaturizer(no_people.candidates, no_people.slots)
    assert rank_candidates(prior, f, no_people.candidates, no_people.slots, 0, no_people.today).total == 0
