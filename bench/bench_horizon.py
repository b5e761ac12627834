"""Rolling-horizon planning over a year of weekly arrivals (issue 17, "plans that see who is coming").

Each world is a synthetic city (`matcher.engine.synthetic.make_world`, its hidden truth the worth of a pair) made
into a year (`matcher.engine.arrivals.make_year`): weekly releases, each on a pre-release list 90 days ahead (10 %
released 1-6 weeks later than listed), slots posted 8 weeks before they start, people waiting at most 10 weeks.
Policies, in expected placements that stay (the truth's probabilities of the pairs placed):

- hindsight: everyone and every slot known in advance, one exact assignment (the upper bound);
- rolling horizon with holding: each week the present and the listed arrivals planned together, seats the plan
  gives to arrivals held (`matcher.engine.horizon.plan_week`); the present referred when their slot starts within
  two weeks (REFER_WITHIN_DAYS), the rest planned again next week;
- the same, referring every present person the week they are planned ("refer all now");
- rolling horizon without holding: the same plan, every seat left then filled from the present;
- weekly myopic batch: each week the exact plan of the present alone, all committed;
- greedy first-come: each week the present, earliest released first, each taking the best slot open.

Target: rolling horizon with holding >= 0.97 of hindsight. Time per weekly solve (the whole `plan_week`: three
exact solves) is reported as mean, p95 and max.

Usage: python -m bench.bench_horizon [--seeds 0 1 2] [--quick]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from bench.common import RESULTS, write_result
from matcher.engine.arrivals import (
    greedy_first_come,
    hindsight,
    make_year,
    myopic_batch,
    rolling_horizon,
)
from matcher.engine.synthetic import make_world

TARGET = 0.97
REFER_WITHIN_DAYS = 13  # refer at least a week before the start: the pair is decided by the plan before it
# name -> make_world's own parameters (people released over the year, slots starting over it).
WORLDS = {
    "city_scarce": {"n_candidates": 2000, "n_slots": 300},  # ~1,330 seats for 2,000 people
    "city_balanced": {"n_candidates": 1300, "n_slots": 300},  # about a seat a person
    "county_small": {"n_candidates": 600, "n_slots": 90},  # a county: few, lumpy slots
}
POLICIES = ("rolling_horizon_hold", "rolling_horizon_hold_refer_all", "rolling_horizon_no_hold", "myopic_batch",
            "greedy_first_come")
LABELS = ("rolling+hold", "+hold refer all", "rolling no hold", "myopic batch", "greedy FCFS")


def run_one(world_name: str, seed: int) -> dict:
    started = time.perf_counter()
    world = make_world(seed, n_history=0, **WORLDS[world_name])
    year = make_year(world, seed=seed)
    best = hindsight(year)
    outcomes = {
        "rolling_horizon_hold": rolling_horizon(year, hold_seats=True, commit_within_days=REFER_WITHIN_DAYS),
        "rolling_horizon_hold_refer_all": rolling_horizon(year, hold_seats=True),
        "rolling_horizon_no_hold": rolling_horizon(year, hold_seats=False),
        "myopic_batch": myopic_batch(year),
        "greedy_first_come": greedy_first_come(year),
    }
    row = {"world": world_name, "seed": seed, "people": year.n_people, "slots": year.n_slots,
           "seats": int(year.slot_seats.sum()), "pairs": int(len(year.edge_stay)),
           "hindsight": best.summary(), "seconds": None}
    for name, outcome in outcomes.items():
        row[name] = outcome.summary() | {"ratio": round(outcome.stays / best.stays, 4) if best.stays else None}
    row["seconds"] = round(time.perf_counter() - started, 1)
    return row


def table(rows: list[dict]) -> str:
    head = (f"{'world':<15}{'seed':>5}{'people':>7}{'seats':>6}{'hindsight':>10}"
            + "".join(f"{label:>17}" for label in LABELS)
            + f"{'solve ms mean/p95':>19}")
    lines = [head, "-" * len(head)]
    for r in rows:
        cells = "".join(f"{r[p]['stays']:>9.1f} ({r[p]['ratio']:.3f})" for p in POLICIES)
        hold = r["rolling_horizon_hold"]
        lines.append(f"{r['world']:<15}{r['seed']:>5}{r['people']:>7}{r['seats']:>6}{r['hindsight']['stays']:>10.1f}"
                     f"{cells}{hold['solve_ms_mean']:>11.1f}/{hold['solve_ms_p95']:.1f}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--quick", action="store_true", help="One seed of the small world only.")
    args = parser.parse_args()
    plan = [("county_small", args.seeds[0])] if args.quick else [(w, s) for w in WORLDS for s in args.seeds]
    rows = []
    for world_name, seed in plan:
        rows.append(run_one(world_name, seed))
        r = rows[-1]
        print(f"{world_name} seed {seed}: hold {r['rolling_horizon_hold']['ratio']:.3f}, "
              f"hold refer all {r['rolling_horizon_hold_refer_all']['ratio']:.3f}, "
              f"no hold {r['rolling_horizon_no_hold']['ratio']:.3f}, myopic {r['myopic_batch']['ratio']:.3f}, "
              f"greedy {r['greedy_first_come']['ratio']:.3f} of hindsight ({r['seconds']} s)", flush=True)
    ratios = {p: [r[p]["ratio"] for r in rows] for p in POLICIES}
    overall = {p: {"mean": round(float(np.mean(v)), 4), "min": round(float(np.min(v)), 4),
                   "max": round(float(np.max(v)), 4)} for p, v in ratios.items()}
    solve_ms = [r["rolling_horizon_hold"]["solve_ms_mean"] for r in rows]
    text = table(rows) + "\n\nratio to hindsight over all runs (mean, min, max):\n" + "\n".join(
        f"  {p:<31} {o['mean']:.4f}  {o['min']:.4f}  {o['max']:.4f}" for p, o in overall.items()) + (
        f"\n\ntarget: rolling horizon with holding >= {TARGET} of hindsight in every run: "
        f"{'met' if overall['rolling_horizon_hold']['min'] >= TARGET else 'NOT met'} "
        f"(worst {overall['rolling_horizon_hold']['min']:.4f})"
        f"\n(rolling+hold refers a present person when the slot starts within {REFER_WITHIN_DAYS} days; "
        f"'+hold refer all' refers every present person at once)"
        f"\nweekly plan_week time (three exact solves), mean per run: {min(solve_ms):.1f}-{max(solve_ms):.1f} ms\n")
    print()
    print(text)
    if not args.quick:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "horizon.txt").write_text(text, encoding="utf-8")
        write_result("horizon", {"target": TARGET, "worlds": WORLDS, "runs": rows, "ratio_to_hindsight": overall,
                                 "target_met": overall["rolling_horizon_hold"]["min"] >= TARGET})


if __name__ == "__main__":
    main()
