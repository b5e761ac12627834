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


def test_fit_order_puts_slots_within_reach_and_skills_first(learned, featurizer, world):
    """Issue 15: the top slot was beyond the person's travel limit and a job needing skills she has none of. In
    the "fit" order every slot that fits (within the limit, and for a job requiring skills at least one held)
    comes before any that does not, then by score; the flags say which and why."""
    from matcher.engine.ranking import fit_flags

    for candidate in range(0, 40):
        ranked = rank_slots(learned, featurizer, world.candidates, world.slots, candidate, world.today, limit=1000,
                            order="fit")
        if not ranked.total:
            continue
        rows = np.full(len(ranked.index), candidate)
        over, no_skill = fit_flags(featurizer, rows, ranked.index)
        fits = ~(over | no_skill)
        np.testing.assert_array_equal(ranked.fits, fits)
        assert ranked.fitting == int(fits.sum())
        np.testing.assert_array_equal(ranked.over_travel, over)
        assert not (np.diff(fits.astype(int)) > 0).any()  # no fitting slot after one that does not
        for group in (fits, ~fits):
            assert (np.diff(ranked.score[group]) <= 0).all()
        plain = rank_slots(learned, featurizer, world.candidates, world.slots, candidate, world.today, limit=1000)
        assert sorted(plain.index.tolist()) == sorted(ranked.index.tolist())
    # Somewhere the plain score order puts a slot that does not fit above one that does.
    flipped = 0
    for candidate in range(min(150, len(world.candidates))):
        plain = rank_slots(learned, featurizer, world.candidates, world.slots, candidate, world.today, limit=1000)
        if plain.total and not plain.fits[0] and plain.fits.any():
            flipped += 1
    assert flipped


def test_other_orders(learned, featurizer, world):
    by_start = rank_slots(learned, featurizer, world.candidates, world.slots, 4, world.today, limit=1000,
                          order="starts_on")
    assert (np.diff(world.slots.starts_on[by_start.index]) >= 0).all()
    by_pay = rank_slots(learned, featurizer, world.candidates, world.slots, 4, world.today, limit=1000, order="pay")
    pay = world.slots.pay_mid[by_pay.index]
    known = pay[np.isfinite(pay)]
    assert (np.diff(known) <= 0).all() and not np.isfinite(pay[len(known):]).any()
    near = rank_slots(learned, featurizer, world.candidates, world.slots, 4, world.today, limit=1000,
                      order="distance")
    distance = featurizer.features(np.full(len(near.index), 4), near.index)[:, 4]
    assert (np.diff(distance) >= 0).all()
    import pytest

    with pytest.raises(ValueError):
        rank_slots(learned, featurizer, world.candidates, world.slots, 4, world.today, order="nonsense")
