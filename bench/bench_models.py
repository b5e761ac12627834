"""Prior, additive and interaction models compared by what matters: the expected stays of the exact plan.

On several simulator worlds (matcher.engine.synthetic, truths with interactions and strengths drawn per world, a
biased logging policy), each model is trained on the world's referral history, a held-out batch of people and
seats is planned exactly (matcher.engine.assignment.solve on that model's scores), and the plan is valued by the
hidden truth: the sum of the true stay probabilities of the pairs it makes. The oracle plans on the truth itself.
The per-bureau switch (`train_scorer`) is run on each world's history, and its pick is reported with its plan.
Spread: every world is planned on several random batches (people and seats drawn afresh); the difference to the
prior is given as mean, standard deviation and standard error over the batches.

Target: the chosen model beats the prior on at least 4 of the 5 worlds with enough history.

Usage: python -m bench.bench_models [--batches 6] [--quick]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from bench.common import RESULTS, write_result

WORLDS = (  # (name, seed, truth, history size)
    ("interactions-a", 301, "interactions", 6000),
    ("varied-b", 302, "varied", 6000),
    ("varied-c", 303, "varied", 6000),
    ("varied-d", 304, "varied", 8000),
    ("varied-e", 305, "varied", 5000),
)
CONTROLS = (  # not counted in the target: a world without interactions, and one with thin history
    ("additive-control", 306, "additive", 6000),
    ("thin-history", 307, "varied", 400),
)
MODELS = ("prior", "additive", "interaction")


def plan_value(world, featurizer, ci, si, seats, values) -> float:
    """Expected stays (under the hidden truth) of the exact plan on `values`."""
    from matcher.engine.assignment import AssignmentProblem, solve

    wish, distance = featurizer.tie_breaks(ci, si)
    slots = np.unique(si)
    local = np.searchsorted(slots, si)
    people, person = np.unique(ci, return_inverse=True)
    problem = AssignmentProblem(n_candidates=len(people), n_slots=len(slots), edge_candidate=person,
                                edge_slot=local, edge_value=np.maximum(values, 1e-9), slot_seats=seats[slots],
                                edge_wish_rank=wish, edge_distance_km=distance)
    plan = solve(problem)
    chosen = plan.chosen_edges
    return float(world.stay_probability(ci[chosen], si[chosen]).sum())


def run_world(name: str, seed: int, truth: str, n_history: int, batches: int, batch_people: int,
              batch_slots: int) -> dict:
    from matcher.engine.eligibility import eligible_mask
    from matcher.engine.features import PairFeaturizer
    from matcher.engine.model import VARIANT_INTERACTIONS, StayModel, propensity_weights, rule_prior, train_scorer
    from matcher.engine.synthetic import make_world

    started = time.perf_counter()
    world = make_world(seed, n_candidates=4000, n_slots=500, n_history=n_history, truth=truth)
    featurizer = PairFeaturizer(world.candidates, world.slots, taxonomy=world.taxonomy,
                                skill_names=world.skill_names)
    history = world.history
    t0 = time.perf_counter()
    chosen = train_scorer(world.candidates, world.slots, history, featurizer=featurizer)
    switch_s = time.perf_counter() - t0
    estimators = {"prior": rule_prior()}
    if len(history.stayed) >= 300:
        X = featurizer.features(history.candidate_index, history.slot_index)
        weights = propensity_weights(featurizer, history, len(world.candidates), len(world.slots))
        for variant in ("additive", "interaction"):
            estimators[variant] = StayModel(interactions=VARIANT_INTERACTIONS[variant]).fit(
                X, history.stayed, sample_weight=weights)
    rng = np.random.default_rng(seed)
    c, s = world.candidates, world.slots
    people_pool = np.flatnonzero(c.active)
    slot_pool = np.flatnonzero(s.open & s.base_in_force & (s.seats_free > 0))
    per_batch = {m: [] for m in (*estimators, "chosen", "oracle")}
    for _ in range(batches):
        people = rng.choice(people_pool, size=min(batch_people, len(people_pool)), replace=False)
        seats_at = rng.choice(slot_pool, size=min(batch_slots, len(slot_pool)), replace=False)
        ci = np.repeat(people, len(seats_at))
        si = np.tile(seats_at, len(people))
        keep = eligible_mask(c, s, ci, si, world.today)
        ci, si = ci[keep], si[keep]
        X = featurizer.features(ci, si)
        seats = np.asarray(s.seats_free, np.int64)
        for model, estimator in estimators.items():
            per_batch[model].append(plan_value(world, featurizer, ci, si, seats, estimator.predict_proba(X)[:, 1]))
        per_batch["chosen"].append(plan_value(world, featurizer, ci, si, seats,
                                              chosen.estimator.predict_proba(X)[:, 1]))
        per_batch["oracle"].append(plan_value(world, featurizer, ci, si, seats, world.stay_probability(ci, si)))
    prior = np.array(per_batch["prior"])
    out = {"world": name, "seed": seed, "truth": truth, "spec": world.spec.__dict__, "n_history": int(n_history),
           "switch_picks": chosen.variant, "switch_why": chosen.metrics.get("why"),
           "held_out": chosen.metrics.get("candidates"), "switch_seconds": round(switch_s, 2),
           "batches": batches, "batch_people": batch_people, "batch_slots": batch_slots,
           "expected_stays": {m: round(float(np.mean(v)), 2) for m, v in per_batch.items()},
           "vs_prior": {}, "of_oracle": {}}
    for model, values in per_batch.items():
        diff = np.array(values) - prior
        out["vs_prior"][model] = {"mean": round(float(diff.mean()), 2), "sd": round(float(diff.std(ddof=1)), 2)
                                  if batches > 1 else None,
                                  "se": round(float(diff.std(ddof=1) / np.sqrt(batches)), 2) if batches > 1 else None}
        out["of_oracle"][model] = round(float(np.mean(values) / np.mean(per_batch["oracle"])), 4)
    out["seconds"] = round(time.perf_counter() - started, 1)
    return out


def table(rows: list[dict]) -> str:
    head = (f"{'world':<17}{'hist':>6}  {'switch':<12}" + "".join(f"{m:>11}" for m in ("prior", *MODELS[1:],
                                                                                       "chosen", "oracle"))
            + "   chosen-prior (sd, se)   interaction-prior (sd, se)")
    lines = [head, "-" * len(head)]
    for r in rows:
        stays = r["expected_stays"]
        cells = "".join(f"{stays.get(m, float('nan')):>11.1f}" for m in ("prior", *MODELS[1:], "chosen", "oracle"))
        ch, it = r["vs_prior"]["chosen"], r["vs_prior"].get("interaction")
        itext = f"{it['mean']:+7.1f} ({it['sd']}, {it['se']})" if it else "      -"
        lines.append(f"{r['world']:<17}{r['n_history']:>6}  {r['switch_picks']:<12}{cells}   "
                     f"{ch['mean']:+7.1f} ({ch['sd']}, {ch['se']})   {itext}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=6)
    parser.add_argument("--people", type=int, default=800)
    parser.add_argument("--slots", type=int, default=120)
    parser.add_argument("--quick", action="store_true", help="two worlds, two batches (a smoke run)")
    args = parser.parse_args()
    worlds = WORLDS[:2] if args.quick else WORLDS
    batches = 2 if args.quick else args.batches
    rows = [run_world(*w, batches=batches, batch_people=args.people, batch_slots=args.slots) for w in worlds]
    controls = [] if args.quick else [run_world(*w, batches=batches, batch_people=args.people,
                                                batch_slots=args.slots) for w in CONTROLS]
    wins = sum(r["vs_prior"]["chosen"]["mean"] > 0 for r in rows)
    text = (table(rows) + "\n\ncontrols (not in the target):\n" + table(controls) if controls else table(rows))
    summary = {"target": "chosen beats prior on >= 4 of 5 worlds with enough history",
               "chosen_beats_prior": f"{wins} of {len(rows)}", "met": wins >= 4 if len(rows) == 5 else None}
    text += f"\n\nchosen model beats the prior on {wins} of {len(rows)} worlds (target: 4 of 5)\n"
    write_result("models", {"summary": summary, "worlds": rows, "controls": controls})
    (RESULTS / "models.txt").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
