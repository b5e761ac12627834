"""Province batch with the real scorer: 100,000 candidates x 10,000 slots (~50,000 seats), candidate
blocking (k nearest slots within a radius), eligibility, learned scores for every blocked pair, exact
solve. Targets: under 60 s and under 2 GB. Runs in a child process so the peak memory is its own.

Usage: python -m bench.bench_province
"""

from __future__ import annotations

import multiprocessing as mp
import resource
import time

import numpy as np

from bench.common import write_result

TARGET_S, TARGET_MB = 60, 2048


def _child(queue) -> None:
    from dataclasses import replace

    from matcher.engine.assignment import AssignmentProblem, candidate_blocking, greedy, solve
    from matcher.engine.eligibility import eligible_mask
    from matcher.engine.features import PairFeaturizer
    from matcher.engine.model import score, train_scorer
    from matcher.engine.synthetic import make_world

    world = make_world(seed=11, n_candidates=100_000, n_slots=10_000, n_history=20_000)
    rng = np.random.default_rng(3)
    slots = replace(world.slots, seats_free=rng.integers(1, 10, len(world.slots)).astype(np.int32))
    featurizer = PairFeaturizer(world.candidates, slots, taxonomy=world.taxonomy, skill_names=world.skill_names)
    scorer = train_scorer(world.candidates, slots, world.history, featurizer=featurizer)
    rss_before_batch_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    cand, slot = candidate_blocking(world.candidates.lat, world.candidates.lng, slots.lat, slots.lng, 50.0, 50)
    blocked = time.perf_counter()
    ok = eligible_mask(world.candidates, slots, cand.astype(np.int64), slot.astype(np.int64), world.today)
    cand, slot = cand[ok], slot[ok]
    p = score(scorer, featurizer, cand.astype(np.int64), slot.astype(np.int64))
    scored = time.perf_counter()
    wish, distance = featurizer.tie_breaks(cand, slot)
    waiting = np.maximum(0, world.today - world.candidates.available_from).astype(np.float64)
    problem = AssignmentProblem(n_candidates=len(world.candidates), n_slots=len(slots), edge_candidate=cand,
                                edge_slot=slot, edge_value=p, slot_seats=slots.seats_free, edge_wish_rank=wish,
                                edge_distance_km=distance, candidate_waiting_days=waiting)
    plan = solve(problem)
    solved = time.perf_counter()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    baseline = greedy(problem)
    queue.put({
        "candidates": len(world.candidates), "slots": len(slots), "seats": int(slots.seats_free.sum()),
        "model_kind": scorer.kind, "blocked_pairs": int(len(ok)), "eligible_scored_pairs": int(len(cand)),
        "block_s": round(blocked - started, 2), "eligibility_and_scoring_s": round(scored - blocked, 2),
        "solve_s": round(solved - scored, 2), "total_s": round(solved - started, 2), "target_s": TARGET_S,
        "peak_rss_mb": round(peak_mb, 1), "target_mb": TARGET_MB,
        "peak_rss_before_batch_mb": round(rss_before_batch_mb, 1),
        "note": "peak RSS of the whole process, including generating the synthetic province and training",
        "assigned": int(len(plan.chosen_edges)), "expected_stays": round(float(plan.objective), 1),
        "greedy_expected_stays": round(float(baseline.objective), 1), "optimal": bool(plan.optimal),
        "tie_levels": plan.tie_levels,
    })


def main() -> None:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    process = ctx.Process(target=_child, args=(queue,))
    process.start()
    result = queue.get()
    process.join()
    write_result("province", result)


if __name__ == "__main__":
    main()
