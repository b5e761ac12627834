"""Batch assignment targets (issue 3), on synthetic but realistic instances:

- City batch: 7,500 candidates x 300 slots (about 1,500 seats, 45 bases with caps), eligible pairs about 45% of all
  pairs with values in (0, 1) times priority weights: build the problem and solve exactly in < 3 s (the scoring of
  the pairs is timed by the scoring bench). Objective against the greedy plan.
- Province batch: 100,000 candidates x 10,000 slots (50,000 seats) around 21 cities, candidate blocking (k = 50
  nearest within 50 km), values decaying with distance: block + solve in < 60 s and < 2 GB peak memory.

Each instance runs in its own process so that its peak memory (ru_maxrss) is its own.

Usage: python -m bench.bench_assignment [--repeat 3] [--skip-province]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import sys
import time

import numpy as np

from bench.common import summary_ms, write_result

CITY_TARGET_S = 3.0
PROVINCE_TARGET_S = 60.0
PROVINCE_TARGET_MB = 2048.0


def _rss_mb() -> float:
    # ru_maxrss is in KiB on Linux (bytes on macOS).
    scale = 1 / (1024 * 1024) if sys.platform == "darwin" else 1 / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def city_inputs(seed: int = 2026):
    """Scores of every candidate x slot pair (as the scorer would hand them over) and the eligibility mask."""
    rng = np.random.default_rng(seed)
    n_c, n_s, n_bases = 7_500, 300, 45
    seats = rng.integers(1, 10, size=n_s, endpoint=False).astype(np.int32)  # 1..9, mean 5: ~1,500 seats
    base = rng.integers(0, n_bases, size=n_s).astype(np.int32)
    seats_per_base = np.bincount(base, weights=seats, minlength=n_bases)
    caps = np.maximum(1, np.ceil(seats_per_base * 0.8)).astype(np.int32)  # a base takes at most ~80% of its seats
    # A probability that grows with a candidate's readiness and a slot's (base's) record, plus pair noise.
    ready = rng.normal(0, 1, n_c)
    record = rng.normal(0, 1, n_bases)[base] + rng.normal(0, 0.5, n_s)
    logit = -1.0 + 0.8 * ready[:, None] + 0.6 * record[None, :] + rng.normal(0, 1.0, (n_c, n_s))
    prob = 1 / (1 + np.exp(-logit))
    eligible = rng.random((n_c, n_s)) < 0.45
    key = rng.random(n_c) < 677 / 7_529
    days = rng.integers(-90, 5 * 365, size=n_c)
    # Tie-breaks, drawn after everything above so the values stay those of earlier runs: a third of the pairs a
    # wished course (first to third wish), a distance within 50 km.
    wish = rng.integers(1, 4, size=(n_c, n_s)) * (rng.random((n_c, n_s)) < 1 / 3)
    distance = rng.uniform(0, 50, size=(n_c, n_s))
    return {"seats": seats, "base": base, "caps": caps, "prob": prob, "eligible": eligible, "key": key,
            "days": days, "wish": wish, "distance": distance}


def city_problem(inputs, *, with_caps: bool):
    from matcher.engine.assignment import AssignmentProblem, priority_weights

    cand, slot = np.nonzero(inputs["eligible"])
    weight = priority_weights(inputs["key"], inputs["days"], key_subject_weight=1.0, waiting_weight_per_year=0.1)
    value = inputs["prob"][cand, slot] * weight[cand]
    return AssignmentProblem(
        n_candidates=inputs["prob"].shape[0], n_slots=inputs["prob"].shape[1],
        edge_candidate=cand.astype(np.int32), edge_slot=slot.astype(np.int32), edge_value=value,
        slot_seats=inputs["seats"],
        slot_group=inputs["base"] if with_caps else None, group_caps=inputs["caps"] if with_caps else None,
        edge_wish_rank=inputs["wish"][cand, slot], edge_distance_km=inputs["distance"][cand, slot],
        candidate_waiting_days=inputs["days"].astype(np.float64))


def bench_city(repeat: int) -> dict:
    from matcher.engine.assignment import greedy, plan_summary, solve

    inputs = city_inputs()
    out: dict = {}
    for with_caps in (False, True):
        totals, solves, builds = [], [], []
        plan = problem = None
        for _ in range(repeat):
            started = time.perf_counter()
            problem = city_problem(inputs, with_caps=with_caps)
            built = time.perf_counter()
            plan = solve(problem)
            done = time.perf_counter()
            builds.append(built - started)
            solves.append(done - built)
            totals.append(done - started)
        base_plan = greedy(problem)
        summary = plan_summary(problem, plan)
        gain = plan.objective - base_plan.objective
        out["with_caps" if with_caps else "no_caps"] = {
            "n_edges": problem.n_edges,
            "seats": int(problem.slot_seats.sum()),
            "build": summary_ms(builds),
            "solve": summary_ms(solves),
            "total": summary_ms(totals),
            "target_total_s": CITY_TARGET_S,
            "meets_target": max(totals) < CITY_TARGET_S,
            "objective": round(plan.objective, 4),
            "assigned": summary["assigned"],
            "greedy_objective": round(base_plan.objective, 4),
            "greedy_assigned": int(len(base_plan.chosen_edges)),
            "greedy_ms": round(base_plan.seconds * 1000, 1),
            "relative_gain_over_greedy": round(gain / base_plan.objective, 5),
            "caps_binding": (sum(1 for g in summary["groups"].values() if g["assigned"] >= g["cap"])
                             if with_caps else None),
            "tie_levels": plan.tie_levels,
        }
    out["peak_rss_mb"] = round(_rss_mb(), 1)
    return out


CITIES = [  # (lat, lng, weight): a province-sized area (about 600 km x 650 km) with a dominant capital
    (23.13, 113.26, 12), (22.54, 114.06, 12), (23.02, 113.75, 6), (23.02, 113.12, 6), (22.27, 113.58, 2),
    (22.58, 113.08, 3), (22.52, 113.39, 3), (23.11, 114.42, 4), (21.27, 110.36, 5), (21.66, 110.92, 4),
    (24.29, 116.12, 3), (23.35, 116.68, 5), (23.66, 116.63, 2), (23.55, 116.37, 4), (24.81, 113.60, 3),
    (23.75, 114.70, 3), (22.93, 112.04, 2), (21.86, 111.98, 2), (23.05, 112.47, 3), (23.68, 113.06, 3),
    (22.92, 115.37, 2),
]


def province_instance(seed: int = 7):
    rng = np.random.default_rng(seed)
    n_c, n_s = 100_000, 10_000
    lat0, lng0, w = (np.array(col, dtype=np.float64) for col in zip(*CITIES, strict=True))
    p = w / w.sum()

    def scatter(n, spread_km):
        city = rng.choice(len(p), size=n, p=p)
        r = np.abs(rng.normal(0, spread_km, n))
        theta = rng.uniform(0, 2 * np.pi, n)
        lat = lat0[city] + r * np.cos(theta) / 111.0
        lng = lng0[city] + r * np.sin(theta) / (111.0 * np.cos(np.radians(lat0[city])))
        return lat, lng

    c_lat, c_lng = scatter(n_c, 25.0)
    s_lat, s_lng = scatter(n_s, 15.0)
    seats = rng.integers(1, 10, size=n_s, endpoint=False).astype(np.int32)  # mean 5: ~50,000 seats
    ready = rng.normal(0, 1, n_c)
    record = rng.normal(0, 1, n_s)
    return {"c_lat": c_lat, "c_lng": c_lng, "s_lat": s_lat, "s_lng": s_lng, "seats": seats, "ready": ready,
            "record": record, "rng": rng}


def _province_child(queue, k: int, max_km: float) -> None:
    from matcher.engine.assignment import AssignmentProblem, candidate_blocking, greedy, solve

    inst = province_instance()
    rss_before = _rss_mb()
    t0 = time.perf_counter()
    cand, slot, dist = candidate_blocking(inst["c_lat"], inst["c_lng"], inst["s_lat"], inst["s_lng"], max_km, k,
                                          return_distance=True)
    t1 = time.perf_counter()
    # Stand-in for the scorer (timed separately by the scoring bench): a probability that falls with distance.
    rng = inst["rng"]
    logit = (-0.5 + 0.8 * inst["ready"][cand] + 0.5 * inst["record"][slot] - 0.06 * dist
             + rng.normal(0, 0.7, len(cand)))
    value = 1 / (1 + np.exp(-logit))
    # Tie-breaks (drawn after the values, which stay those of earlier runs): a third of the pairs a wished course.
    wish = rng.integers(1, 4, size=len(cand)) * (rng.random(len(cand)) < 1 / 3)
    waiting = rng.integers(0, 5 * 365, size=len(inst["c_lat"])).astype(np.float64)
    t2 = time.perf_counter()
    problem = AssignmentProblem(n_candidates=len(inst["c_lat"]), n_slots=len(inst["s_lat"]), edge_candidate=cand,
                                edge_slot=slot, edge_value=value, slot_seats=inst["seats"], edge_wish_rank=wish,
                                edge_distance_km=dist, candidate_waiting_days=waiting)
    plan = solve(problem)
    t3 = time.perf_counter()
    peak = _rss_mb()
    base_plan = greedy(problem)
    per_cand = np.bincount(cand, minlength=problem.n_candidates)
    queue.put({
        "k": k, "max_km": max_km,
        "n_edges": problem.n_edges,
        "pairs_per_candidate_mean": round(float(per_cand.mean()), 2),
        "candidates_without_pairs": int(np.sum(per_cand == 0)),
        "seats": int(problem.slot_seats.sum()),
        "block_s": round(t1 - t0, 3),
        "score_standin_s": round(t2 - t1, 3),
        "build_and_solve_s": round(t3 - t2, 3),
        "solver_s": round(plan.seconds, 3),
        "block_and_solve_s": round((t1 - t0) + (t3 - t2), 3),
        "total_s": round(t3 - t0, 3),
        "target_s": PROVINCE_TARGET_S,
        "meets_time_target": (t3 - t0) < PROVINCE_TARGET_S,
        "rss_before_mb": round(rss_before, 1),
        "peak_rss_mb": round(peak, 1),
        "target_mb": PROVINCE_TARGET_MB,
        "meets_memory_target": peak < PROVINCE_TARGET_MB,
        "objective": round(plan.objective, 3),
        "assigned": int(len(plan.chosen_edges)),
        "greedy_objective": round(base_plan.objective, 3),
        "greedy_assigned": int(len(base_plan.chosen_edges)),
        "greedy_s": round(base_plan.seconds, 3),
        "relative_gain_over_greedy": round((plan.objective - base_plan.objective) / base_plan.objective, 5),
        "tie_levels": plan.tie_levels,
    })


def bench_province(k: int = 50, max_km: float = 50.0) -> dict:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_province_child, args=(queue, k, max_km))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def _city_child(queue, repeat: int) -> None:
    queue.put(bench_city(repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-province", action="store_true")
    args = parser.parse_args()
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_city_child, args=(queue, args.repeat))
    proc.start()
    city = queue.get()
    proc.join()
    payload = {"city": city}
    if not args.skip_province:
        payload["province"] = bench_province()
    write_result("assignment", payload)


if __name__ == "__main__":
    main()
