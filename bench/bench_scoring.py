"""Scoring targets, in-process on synthetic tables (no database):
rank 10,000 open slots for one candidate p95 < 20 ms (200 runs); rank 100,000 candidates for one slot
< 300 ms; train on 100,000 historical referrals < 60 s.

Usage: python -m bench.bench_scoring
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from bench.common import summary_ms, write_result

TARGETS = {"rank_slots_p95_ms": 20.0, "rank_candidates_ms": 300.0, "train_s": 60.0}


def one_candidate(table, row: int):
    """The candidate table of the one row `row` (what a recommendations request loads)."""
    return dataclasses.replace(table, **{
        f.name: (getattr(table, f.name)[row:row + 1] if isinstance(getattr(table, f.name), np.ndarray)
                 else getattr(table, f.name)[row:row + 1])
        for f in dataclasses.fields(table) if len(getattr(table, f.name))})


def main() -> None:
    from matcher.engine.explain import explain_pairs
    from matcher.engine.features import PairFeaturizer
    from matcher.engine.model import train_scorer
    from matcher.engine.ranking import rank_candidates, rank_slots
    from matcher.engine.slot_side import SlotSide
    from matcher.engine.synthetic import make_world

    started = time.perf_counter()
    world = make_world(2026, n_candidates=100_000, n_slots=10_000, n_history=100_000)
    build_s = time.perf_counter() - started
    started = time.perf_counter()
    featurizer = PairFeaturizer(world.candidates, world.slots, taxonomy=world.taxonomy,
                                skill_names=world.skill_names)
    featurizer_s = time.perf_counter() - started

    started = time.perf_counter()
    scorer = train_scorer(world.candidates, world.slots, world.history, featurizer=featurizer)
    train_s = time.perf_counter() - started

    rng = np.random.default_rng(0)
    people = rng.integers(0, len(world.candidates), 200)
    rank_slots(scorer, featurizer, world.candidates, world.slots, int(people[0]), world.today)  # warm up
    samples, totals = [], []
    for person in people.tolist():
        t0 = time.perf_counter()
        ranked = rank_slots(scorer, featurizer, world.candidates, world.slots, person, world.today)
        samples.append(time.perf_counter() - t0)
        totals.append(ranked.total)
    slot_rank = summary_ms(samples)

    # The recommendations page's way: the slot side built once (per version of the data), each request joining
    # its one candidate to it and ranking.
    started = time.perf_counter()
    side = SlotSide(world.slots, taxonomy=world.taxonomy, skill_names=world.skill_names)
    side_s = time.perf_counter() - started
    joined_samples = []
    for person in people.tolist():
        t0 = time.perf_counter()
        alone = one_candidate(world.candidates, person)
        rank_slots(scorer, side.featurizer(alone), alone, world.slots, 0, world.today)
        joined_samples.append(time.perf_counter() - t0)
    joined_rank = summary_ms(joined_samples)

    explain_samples = []
    for person in people[:50].tolist():
        ranked = rank_slots(scorer, featurizer, world.candidates, world.slots, person, world.today)
        t0 = time.perf_counter()
        explain_pairs(scorer, featurizer, np.full(len(ranked.index), person), ranked.index)
        explain_samples.append(time.perf_counter() - t0)

    slots = rng.integers(0, len(world.slots), 10)
    cand_samples, cand_totals = [], []
    for slot in slots.tolist():
        t0 = time.perf_counter()
        ranked = rank_candidates(scorer, featurizer, world.candidates, world.slots, slot, world.today)
        cand_samples.append(time.perf_counter() - t0)
        cand_totals.append(ranked.total)
    cand_rank = summary_ms(cand_samples)

    result = {
        "world": {"candidates": len(world.candidates), "slots": len(world.slots),
                  "history": len(world.history.stayed), "build_s": round(build_s, 2),
                  "featurizer_s": round(featurizer_s, 3)},
        "rank_slots_for_one_candidate": {**slot_rank, "slots": len(world.slots),
                                         "eligible_mean": round(float(np.mean(totals)), 1),
                                         "target_p95_ms": TARGETS["rank_slots_p95_ms"],
                                         "met": slot_rank["p95_ms"] < TARGETS["rank_slots_p95_ms"]},
        "rank_slots_joined_to_cached_slot_side": {**joined_rank, "slot_side_build_s": round(side_s, 3),
                                                  "target_p95_ms": TARGETS["rank_slots_p95_ms"],
                                                  "met": joined_rank["p95_ms"] < TARGETS["rank_slots_p95_ms"]},
        "explain_top_20": summary_ms(explain_samples),
        "rank_candidates_for_one_slot": {**cand_rank, "candidates": len(world.candidates),
                                         "eligible_mean": round(float(np.mean(cand_totals)), 1),
                                         "target_ms": TARGETS["rank_candidates_ms"],
                                         "met": cand_rank["max_ms"] < TARGETS["rank_candidates_ms"]},
        "train": {"referrals": len(world.history.stayed), "seconds": round(train_s, 2), "kind": scorer.kind,
                  "roc_auc": round(scorer.metrics.get("roc_auc") or 0, 4),
                  "prior_roc_auc": round(scorer.metrics.get("prior_roc_auc") or 0, 4),
                  "brier": round(scorer.metrics.get("brier") or 0, 4),
                  "target_s": TARGETS["train_s"], "met": train_s < TARGETS["train_s"]},
    }
    write_result("scoring", result)


if __name__ == "__main__":
    main()
