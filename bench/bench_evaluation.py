"""How honest is the replay's valuation of plans? On simulated cities where the truth is known.

For each world (`synthetic.make_world` seeds) the replay trains on the first three quarters of history, plans the
last quarter (the model's exact plan, greedy, the nearest-preferred-course rule, random, and what caseworkers did)
and values every plan three ways:

- dr: what `model evaluate` reports (realised outcomes where referred, cross-fitted doubly robust elsewhere),
  with its 95 % interval;
- realised + model: the same without the weighted correction (realised outcomes, the cross-fitted outcome model
  elsewhere);
- all-history model: the old evaluator, the project's model trained on all history (test period included).

Against the truth (the world's expected stays of each plan, `World.stay_probability`) it prints per plan and
estimator the mean error (bias), the mean absolute error and, for dr, how often the interval covers the truth;
the same for the differences against the rule. Results: bench/results/evaluation.json.

    .venv/bin/python -m bench.bench_evaluation [--worlds 6] [--candidates 2000 --slots 300 --history 3000] [--clip 0.1]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from matcher.engine import offpolicy
from matcher.engine.evaluation import replay
from matcher.engine.features import PairFeaturizer
from matcher.engine.synthetic import make_world

RESULTS = Path(__file__).parent / "results" / "evaluation.json"
ESTIMATORS = ("dr", "realised + model", "all-history model")


def one_world(seed: int, n_candidates: int, n_slots: int, n_history: int, folds: int, clip: float) -> dict:
    world = make_world(seed, n_candidates, n_slots, n_history)
    featurizer = PairFeaturizer(world.candidates, world.slots, taxonomy=world.taxonomy, skill_names=world.skill_names)
    split = int(np.quantile(world.history.referred_on, 0.75))
    started = time.perf_counter()
    report = replay(world.candidates, world.slots, world.history, split, featurizer=featurizer, folds=folds,
                    propensity_clip=clip,
                    truth=world.stay_probability, all_history_evaluator=True, random_state=seed)
    seconds = time.perf_counter() - started
    plans = report["assignment"]["plans"]
    rule = plans["nearest preferred course"]
    out = {"seed": seed, "seconds": round(seconds, 2), "people": report["assignment"]["candidates"],
           "referred_pairs": report["assignment"]["valuation"]["referred_pairs"],
           "clipped": report["assignment"]["valuation"]["referred_pairs_clipped"], "plans": {}}
    for name, row in plans.items():
        estimates = {"dr": row["expected_stays"], "realised + model": row["realised_part"] + row["model_part"],
                     "all-history model": row["all_history_model_stays"]}
        rule_estimates = {"dr": rule["expected_stays"], "realised + model": rule["realised_part"] + rule["model_part"],
                          "all-history model": rule["all_history_model_stays"]}
        truth = row["true_expected_stays"]
        true_diff = truth - rule["true_expected_stays"]
        low, high = row["ci95"]
        d_low, d_high = row["vs_rule_stays_ci95"]
        out["plans"][name] = {
            "assigned": row["assigned"], "truth": round(truth, 2),
            "estimate": {k: round(v, 2) for k, v in estimates.items()},
            "error": {k: round(v - truth, 2) for k, v in estimates.items()},
            "diff_vs_rule_error": {k: round((estimates[k] - rule_estimates[k]) - true_diff, 2) for k in ESTIMATORS},
            "ci95": [round(low, 2), round(high, 2)], "covered": bool(low <= truth <= high),
            "diff_vs_rule_truth": round(true_diff, 2), "diff_vs_rule_ci95": [round(d_low, 2), round(d_high, 2)],
            "diff_covered": bool(d_low <= true_diff <= d_high),
        }
    return out


def summarise(worlds: list[dict]) -> dict:
    names = list(worlds[0]["plans"])
    summary = {}
    for name in names:
        rows = [w["plans"][name] for w in worlds]
        summary[name] = {
            "truth_mean": round(float(np.mean([r["truth"] for r in rows])), 2),
            "bias": {k: round(float(np.mean([r["error"][k] for r in rows])), 2) for k in ESTIMATORS},
            "mean_abs_error": {k: round(float(np.mean([abs(r["error"][k]) for r in rows])), 2) for k in ESTIMATORS},
            "diff_vs_rule_mean_abs_error": {k: round(float(np.mean([abs(r["diff_vs_rule_error"][k]) for r in rows])), 2)
                                            for k in ESTIMATORS},
            "coverage": round(float(np.mean([r["covered"] for r in rows])), 2),
            "diff_coverage": round(float(np.mean([r["diff_covered"] for r in rows])), 2),
            "mean_ci_width": round(float(np.mean([r["ci95"][1] - r["ci95"][0] for r in rows])), 2),
        }
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worlds", type=int, default=6)
    parser.add_argument("--first-seed", type=int, default=100)
    parser.add_argument("--candidates", type=int, default=2000)
    parser.add_argument("--slots", type=int, default=300)
    parser.add_argument("--history", type=int, default=3000)
    parser.add_argument("--folds", type=int, default=offpolicy.DEFAULT_FOLDS)
    parser.add_argument("--clip", type=float, default=offpolicy.PROPENSITY_CLIP)
    parser.add_argument("-o", "--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    worlds = []
    for seed in range(args.first_seed, args.first_seed + args.worlds):
        result = one_world(seed, args.candidates, args.slots, args.history, args.folds, args.clip)
        worlds.append(result)
        print(f"world {seed}: {result['people']} people, {result['referred_pairs']} referred pairs "
              f"({result['clipped']} clipped), replay {result['seconds']} s")
        for name, row in result["plans"].items():
            e = row["error"]
            miss = "" if row["covered"] else " MISS"
            print(f"  {name:<26} truth {row['truth']:7.1f}  dr {e['dr']:+6.1f} [{row['ci95'][0]:.1f}, "
                  f"{row['ci95'][1]:.1f}]{miss}  realised+model {e['realised + model']:+6.1f}"
                  f"  all-history {e['all-history model']:+6.1f}")
    summary = summarise(worlds)
    print()
    print(f"over {len(worlds)} worlds ({args.candidates} people, {args.slots} slots, {args.history} referrals each; "
          f"{args.folds} folds, propensities clipped at {args.clip}): error = estimate - truth, in expected stays")
    print(f"{'plan':<26} {'truth':>7} | {'bias dr':>8} {'realised+m':>10} {'all-hist':>9} | "
          f"{'|err| dr':>8} {'realised+m':>10} {'all-hist':>9} | {'cover':>5} {'diff cover':>10} {'CI width':>8}")
    for name, s in summary.items():
        b, a = s["bias"], s["mean_abs_error"]
        print(f"{name:<26} {s['truth_mean']:>7.1f} | {b['dr']:>+8.2f} {b['realised + model']:>+10.2f} "
              f"{b['all-history model']:>+9.2f} | {a['dr']:>8.2f} {a['realised + model']:>10.2f} "
              f"{a['all-history model']:>9.2f} | {s['coverage']:>5.2f} {s['diff_coverage']:>10.2f} "
              f"{s['mean_ci_width']:>8.1f}")
    print()
    print("difference vs the rule, mean |error|: " + "; ".join(
        f"{name}: dr {s['diff_vs_rule_mean_abs_error']['dr']:.2f}, all-history "
        f"{s['diff_vs_rule_mean_abs_error']['all-history model']:.2f}" for name, s in summary.items()
        if name != "nearest preferred course"))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"settings": vars(args) | {"output": str(args.output)}, "summary": summary,
                                       "worlds": worlds}, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"written to {args.output}")


if __name__ == "__main__":
    main()
