"""Offline evaluation a bureau can check: discrimination, calibration, precision at k, per-group figures,
and a replay of history comparing batch plans (model, greedy, nearest-preferred-course rule, random).

The replay never grades a model with itself: plans are valued by realised outcomes where their pairs were really
referred and otherwise by a cross-fitted doubly robust estimate (`matcher.engine.offpolicy`), with 95 % intervals.

Group arrays (sex, age band, risk grade, ...) come from the caller, aligned with the rows evaluated; they are
used to report figures per group and never reach a scorer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

import numpy as np
from sklearn.metrics import brier_score_loss, roc_auc_score

from matcher.engine import offpolicy
from matcher.engine.eligibility import PERSON_RULES, Ineligible, eligible_mask, not_available_by_start
from matcher.engine.features import PairFeaturizer, haversine_km
from matcher.engine.model import TrainedScorer, rule_prior, score, train_scorer
from matcher.engine.types import CandidateTable, History, SlotTable

CALIBRATION_BINS = 10
MAX_REPLAY_PAIRS = 3_000_000  # beyond this, each test candidate keeps its REPLAY_TOP_K best slots by model score
REPLAY_TOP_K = 50


def _f(value) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if np.isfinite(value) else None


def precision_at_k(y_true: np.ndarray, p: np.ndarray, query_ids: np.ndarray, k: int) -> float | None:
    """Mean over queries of the share of positives among each query's top-k rows by p (ties: row order)."""
    y_true, p, query_ids = np.asarray(y_true, bool), np.asarray(p, float), np.asarray(query_ids)
    if len(y_true) == 0:
        return None
    order = np.lexsort((np.arange(len(p)), -p, query_ids))
    q = query_ids[order]
    starts = np.r_[0, np.flatnonzero(q[1:] != q[:-1]) + 1]
    rank = np.arange(len(q)) - np.repeat(starts, np.diff(np.r_[starts, len(q)]))
    top = rank < k
    per_query_hits = np.bincount(np.searchsorted(starts, np.flatnonzero(top), side="right") - 1,
                                 weights=y_true[order][top], minlength=len(starts))
    per_query_n = np.minimum(np.diff(np.r_[starts, len(q)]), k)
    return float(np.mean(per_query_hits / per_query_n))


def calibration_table(y_true: np.ndarray, p: np.ndarray, bins: int = CALIBRATION_BINS) -> list[dict]:
    """Equal-width bins of predicted probability: mean predicted against observed share, with counts."""
    y_true, p = np.asarray(y_true, float), np.asarray(p, float)
    which = np.clip((p * bins).astype(int), 0, bins - 1)
    rows = []
    for b in range(bins):
        inside = which == b
        n = int(inside.sum())
        rows.append({"bin": b, "low": b / bins, "high": (b + 1) / bins, "n": n,
                     "mean_predicted": _f(p[inside].mean()) if n else None,
                     "observed": _f(y_true[inside].mean()) if n else None})
    return rows


def _summary(y: np.ndarray, p: np.ndarray, query_ids: np.ndarray | None) -> dict:
    both = len(np.unique(y)) == 2
    out = {"n": int(len(y)), "base_rate": _f(y.mean()) if len(y) else None,
           "mean_predicted": _f(p.mean()) if len(p) else None,
           "roc_auc": _f(roc_auc_score(y, p)) if both else None,
           "brier": _f(brier_score_loss(y, p)) if len(y) else None}
    if query_ids is not None:
        out["precision_at_5"] = precision_at_k(y, p, query_ids, 5)
        out["precision_at_10"] = precision_at_k(y, p, query_ids, 10)
    return out


def evaluate_scorer(y_true: np.ndarray, p: np.ndarray, groups: Mapping[str, np.ndarray] | None = None,
                    ranking_groups: np.ndarray | None = None, *, query_ids: np.ndarray | None = None) -> dict:
    """ROC AUC, Brier score, a 10-bin calibration table, precision at 5 and 10, and all of it per group.

    `query_ids` (or its older name `ranking_groups`) says which ranking each row belongs to (e.g. the slot,
    or the candidate): precision@k takes the top k rows by p within each. `groups` maps a name (e.g. "sex")
    to an array aligned with y_true; each distinct value gets its own figures.
    """
    y = np.asarray(y_true).astype(bool).ravel()
    p = np.asarray(p, dtype=np.float64).ravel()
    if len(y) != len(p):
        raise ValueError("y_true and p must have the same length")
    queries = query_ids if query_ids is not None else ranking_groups
    queries = None if queries is None else np.asarray(queries).ravel()
    report = _summary(y, p, queries)
    report["calibration"] = calibration_table(y, p)
    report["groups"] = {}
    for name, values in (groups or {}).items():
        values = np.asarray(values).ravel()
        if len(values) != len(y):
            raise ValueError(f"group {name!r} has {len(values)} values for {len(y)} rows")
        report["groups"][name] = {str(v): _summary(y[values == v], p[values == v],
                                                   None if queries is None else queries[values == v])
                                  for v in sorted(set(values.tolist()), key=str)}
    return report


# ---- replay ----------------------------------------------------------------------------------------

def _subset(history: History, mask: np.ndarray) -> History:
    return History(candidate_index=np.asarray(history.candidate_index)[mask],
                   slot_index=np.asarray(history.slot_index)[mask],
                   referred_on=np.asarray(history.referred_on)[mask], stayed=np.asarray(history.stayed)[mask])


def _replay_edges(candidates, slots, scorer, featurizer, people, places, split_on, person_day, referred_pairs):
    """Eligible (person, place) pairs of the test period with the model's score; blocked when too many.

    History is judged on its own dates: a person's pairs are possible if they were on the day the person was
    first referred in the test period (`person_day`, aligned with `people`), the slot starting at the intake that
    fits them; and a referral that happened (`referred_pairs`, keys c * len(slots) + s) was possible by
    definition, whatever today's calendar says."""
    parts_c, parts_s, parts_p = [], [], []
    chunk = max(1, MAX_REPLAY_PAIRS // max(1, len(places)))
    blocked = len(people) * len(places) > MAX_REPLAY_PAIRS
    for start in range(0, len(people), chunk):
        rows = people[start:start + chunk]
        c = np.repeat(rows, len(places))
        s = np.tile(places, len(rows))
        day = np.repeat(np.asarray(person_day[start:start + chunk], np.int64), len(places))
        ok = eligible_mask(candidates, slots, c, s, split_on, rules=PERSON_RULES - {Ineligible.NOT_AVAILABLE_BY_START})
        ok &= ~not_available_by_start(candidates, slots, c, s, day)
        ok |= np.isin(c * len(slots) + s, referred_pairs)
        c, s = c[ok], s[ok]
        p = score(scorer, featurizer, c, s)
        if blocked:
            # Keep each person's REPLAY_TOP_K best places, and every pair really referred (the valuation reads
            # their outcomes and the logging policy's choices among the edges).
            order = np.lexsort((-p, c))
            c, s, p = c[order], s[order], p[order]
            first = np.r_[0, np.flatnonzero(c[1:] != c[:-1]) + 1]
            rank = np.arange(len(c)) - np.repeat(first, np.diff(np.r_[first, len(c)]))
            keep = (rank < REPLAY_TOP_K) | np.isin(c * len(slots) + s, referred_pairs)
            c, s, p = c[keep], s[keep], p[keep]
        parts_c.append(c)
        parts_s.append(s)
        parts_p.append(p)
    return np.concatenate(parts_c), np.concatenate(parts_s), np.concatenate(parts_p)


def _rule_plan(candidates: CandidateTable, slots: SlotTable, edge_c, edge_s, seats, order_people) -> np.ndarray:
    """Nearest slot in the first wished course with a seat left, else the second, third, else the nearest
    with a seat left; candidates in `order_people` order (first referred first)."""
    left = seats.copy()
    chosen = []
    by_person: dict[int, np.ndarray] = {}
    order = np.argsort(edge_c, kind="stable")
    c_sorted = edge_c[order]
    starts = np.searchsorted(c_sorted, order_people, side="left")
    ends = np.searchsorted(c_sorted, order_people, side="right")
    for person, a, b in zip(order_people.tolist(), starts.tolist(), ends.tolist(), strict=True):
        by_person[person] = order[a:b]
    course_of = np.array([c or "" for c in slots.course], dtype=object)
    for person in order_people.tolist():
        edges = by_person[person]
        if not len(edges):
            continue
        places = edge_s[edges]
        distance = haversine_km(candidates.lat[person], candidates.lng[person], slots.lat[places], slots.lng[places])
        distance = np.where(np.isfinite(distance), distance, np.inf)
        open_seat = left[places] > 0
        pick = -1
        for wish in (*candidates.preferred_courses[person][:3], None):
            allowed = open_seat if wish is None else open_seat & (course_of[places] == wish)
            if allowed.any():
                pick = int(np.flatnonzero(allowed)[np.argmin(distance[allowed])])
                break
        if pick >= 0:
            left[places[pick]] -= 1
            chosen.append(edges[pick])
    return np.array(chosen, dtype=np.int64)


def _random_plan(edge_c, edge_s, seats, people, rng) -> np.ndarray:
    left = seats.copy()
    order = np.argsort(edge_c, kind="stable")
    c_sorted = edge_c[order]
    chosen = []
    for person in rng.permutation(people).tolist():
        a, b = np.searchsorted(c_sorted, person, "left"), np.searchsorted(c_sorted, person, "right")
        edges = order[a:b]
        edges = edges[left[edge_s[edges]] > 0]
        if len(edges):
            e = int(rng.choice(edges))
            left[edge_s[e]] -= 1
            chosen.append(e)
    return np.array(chosen, dtype=np.int64)


def replay(candidates: CandidateTable, slots: SlotTable, history: History, split_on: int, *, horizon_days: int = 90,
           random_state: int = 0, groups: Mapping[str, np.ndarray] | None = None,
           featurizer: PairFeaturizer | None = None, folds: int = offpolicy.DEFAULT_FOLDS,
           propensity_clip: float = offpolicy.PROPENSITY_CLIP,
           truth: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
           all_history_evaluator: bool = False) -> dict:
    """Train on history before `split_on` (a date ordinal), test on history on/after it.

    Reports the model's and the rule prior's ROC AUC / Brier / calibration / precision@k on the test
    referrals (per group when `groups`, arrays aligned with history rows, are given), and a batch-assignment
    comparison for the test period's candidates and slots. Each test slot gets as many seats as it had
    referrals then; pairs must pass the person rules (age, bans, prerequisites, available by the start), the last
    judged on each person's own referral day and the intake that fits them, never today's calendar; a pair that
    was really referred is kept whatever (it happened, so it was possible).

    Plans: the model's exact plan (min-cost flow on the model's probabilities), a greedy plan on the same
    scores, the nearest-preferred-course rule, random, and what caseworkers actually did. No plan is valued by
    the model under test: each is valued by realised outcomes where its pairs were really referred and, for the
    rest, by a doubly robust estimate built on an outcome model cross-fitted over the test period's people in
    `folds` folds (the model valuing a person never saw that person's outcomes) and on the caseworkers' logging
    propensities, clipped at `propensity_clip` (see `matcher.engine.offpolicy`). Every value, and every
    difference against the rule and against the model's plan, comes with a 95 % interval.

    `truth` (a simulator's `World.stay_probability`) adds each plan's true expected stays; `all_history_evaluator`
    adds the old valuation by a model of the same kind trained on all history (test period included), kept only
    to show on simulators how far off it was (bench/bench_evaluation.py). Neither is used for any other figure.
    """
    from matcher.engine import assignment  # another engineer's module; imported late on purpose

    referred_on = np.asarray(history.referred_on)
    train_mask = referred_on < split_on
    test_mask = ~train_mask
    if not test_mask.any():
        raise ValueError("no history on or after split_on to test on")
    featurizer = featurizer or PairFeaturizer(candidates, slots)
    train = _subset(history, train_mask)
    test = _subset(history, test_mask)
    scorer = train_scorer(candidates, slots, train, horizon_days=horizon_days, random_state=random_state,
                          featurizer=featurizer)
    prior = TrainedScorer(kind="prior", estimator=rule_prior(),
                          feature_names=scorer.feature_names, metrics={}, training_data_hash="",
                          horizon_days=horizon_days, propensity="", created_at="")
    y = np.asarray(test.stayed, bool)
    test_groups = {name: np.asarray(values)[test_mask] for name, values in (groups or {}).items()}
    p_model = score(scorer, featurizer, test.candidate_index, test.slot_index)
    p_prior = score(prior, featurizer, test.candidate_index, test.slot_index)
    report: dict = {
        "split_on": dt.date.fromordinal(int(split_on)).isoformat(),
        "horizon_days": horizon_days,
        "n_train": int(train_mask.sum()),
        "n_test": int(test_mask.sum()),
        "model_kind": scorer.kind,
        "evaluator_kind": "cross-fitted doubly robust",
        "model": evaluate_scorer(y, p_model, test_groups, query_ids=test.slot_index),
        "prior": evaluate_scorer(y, p_prior, None, query_ids=test.slot_index),
    }

    # ---- batch assignment on the test period -------------------------------------------------------
    people = np.unique(test.candidate_index)
    places, referrals_per_place = np.unique(test.slot_index, return_counts=True)
    first_referral = {}
    for person, day in zip(test.candidate_index.tolist(), test.referred_on.tolist(), strict=True):
        first_referral[person] = min(day, first_referral.get(person, day))
    person_day = np.array([first_referral[person] for person in people.tolist()], dtype=np.int64)
    referred_pairs = np.unique(np.asarray(test.candidate_index, np.int64) * len(slots) + test.slot_index)
    edge_c, edge_s, p_edge = _replay_edges(candidates, slots, scorer, featurizer, people, places, split_on,
                                           person_day, referred_pairs)
    seats = np.zeros(len(slots), dtype=np.int64)
    seats[places] = referrals_per_place
    # Local numbering for the solver.
    c_local = np.searchsorted(people, edge_c)
    s_local = np.searchsorted(places, edge_s)
    problem = assignment.AssignmentProblem(
        n_candidates=len(people), n_slots=len(places), edge_candidate=c_local.astype(np.int32),
        edge_slot=s_local.astype(np.int32), edge_value=np.maximum(p_edge, 1e-9),
        slot_seats=referrals_per_place.astype(np.int32))
    rng = np.random.default_rng(random_state)
    order_people = np.array(sorted(people.tolist(), key=lambda c: (first_referral[c], int(candidates.ids[c]))),
                            dtype=np.int64)
    plans = {
        "model (exact)": assignment.solve(problem).chosen_edges,
        "greedy (model scores)": assignment.greedy(problem).chosen_edges,
        "nearest preferred course": _rule_plan(candidates, slots, edge_c, edge_s, seats, order_people),
        "random": _random_plan(edge_c, edge_s, seats, people, rng),
    }

    # ---- valuation: realised where known, cross-fitted doubly robust otherwise ----------------------
    edge_key = edge_c * len(slots) + edge_s
    row_key = np.asarray(test.candidate_index, np.int64) * len(slots) + np.asarray(test.slot_index, np.int64)
    key_order = np.argsort(edge_key, kind="stable")
    row_edge = key_order[np.searchsorted(edge_key[key_order], row_key)]  # every referred pair is an edge
    logged = np.zeros(len(edge_c), bool)
    logged[row_edge] = True
    edge_y = np.zeros(len(edge_c))
    np.maximum.at(edge_y, row_edge, y.astype(float))  # a pair referred twice stayed if either referral did
    person_fold = offpolicy.person_folds(people, folds, random_state)
    row_person = np.searchsorted(people, test.candidate_index)
    fit = offpolicy.cross_fit_outcomes(
        featurizer, base_c=train.candidate_index, base_s=train.slot_index, base_y=train.stayed,
        test_c=test.candidate_index, test_s=test.slot_index, test_y=y, test_fold=person_fold[row_person],
        query_c=edge_c, query_s=edge_s, query_fold=person_fold[c_local], k=folds, random_state=random_state)
    mu = fit.mu
    propensity = offpolicy.logging_propensities(featurizer, edge_c, edge_s, logged)
    weight = 1.0 / np.maximum(propensity, propensity_clip)
    terms = {name: offpolicy.dr_terms(len(people), c_local[chosen], mu[chosen], logged[chosen], edge_y[chosen],
                                      weight[chosen])
             for name, chosen in ((name, np.asarray(chosen, dtype=np.int64)) for name, chosen in plans.items())}
    # What caseworkers did is the logging policy itself: every one of its pairs was referred for certain, so each
    # counts its realised outcome (weight 1) and the value is the realised stays.
    terms["historic referrals"] = offpolicy.dr_terms(len(people), row_person, mu[row_edge], np.ones(len(y), bool),
                                                     y.astype(float), np.ones(len(y)))
    legacy = None
    if all_history_evaluator:
        legacy = train_scorer(candidates, slots, history, horizon_days=horizon_days, random_state=random_state,
                              featurizer=featurizer)
    rows = {}
    for name, plan_terms in terms.items():
        historic = name == "historic referrals"
        chosen = np.asarray(plans.get(name, row_edge), dtype=np.int64)
        pair_c, pair_s = (test.candidate_index, test.slot_index) if historic else (edge_c[chosen], edge_s[chosen])
        value = plan_terms.value
        se = offpolicy.standard_error(plan_terms.correction)
        row = {"assigned": int(len(chosen)), "expected_stays": _f(value), "se": _f(se),
               "ci95": [_f(bound) for bound in offpolicy.interval(value, se)],
               "realised_part": _f(plan_terms.realised), "model_part": _f(plan_terms.direct_unlogged),
               "correction_part": _f(plan_terms.weighted_correction),
               "model_objective": _f((p_model if historic else p_edge[chosen]).sum()) if len(chosen) else 0.0,
               "matched_referrals": int(len(y)) if historic else plan_terms.logged_in_plan,
               "realised_stays": int(y.sum()) if historic else int(edge_y[chosen][logged[chosen]].sum())}
        if truth is not None:
            row["true_expected_stays"] = _f(np.asarray(truth(pair_c, pair_s), float).sum())
        if legacy is not None:
            row["all_history_model_stays"] = _f(score(legacy, featurizer, pair_c, pair_s).sum())
        rows[name] = row
    for reference, key in (("nearest preferred course", "vs_rule"), ("model (exact)", "vs_model")):
        base = terms[reference]
        for name, plan_terms in terms.items():
            rows[name].update(_difference(plan_terms, base, key))
    report["assignment"] = {
        "candidates": int(len(people)), "slots": int(len(places)), "seats": int(referrals_per_place.sum()),
        "eligible_pairs": int(len(edge_c)), "blocked": bool(len(people) * len(places) > MAX_REPLAY_PAIRS),
        "evaluator": f"realised outcomes where the pair was referred; elsewhere doubly robust, outcome model "
                     f"cross-fitted over {folds} folds of people (never the model under test), propensities "
                     f"clipped at {propensity_clip}",
        "valuation": {
            "method": "doubly robust: realised outcomes of the plan's referred pairs + the outcome model on its "
                      "other pairs + the outcome model's errors on the referred pairs weighted by "
                      "(1 / propensity - 1)",
            "folds": int(folds), "outcome_learner": fit.learner,
            "fold_training_rows": list(fit.trained_rows),
            "propensity": offpolicy.PROPENSITY_METHOD, "propensity_clip": float(propensity_clip),
            "referred_pairs": int(logged.sum()),
            "referred_pairs_clipped": int((propensity[logged] < propensity_clip).sum()),
            "max_weight": _f(weight[logged].max()) if logged.any() else None,
            "interval": "95 % normal interval, standard error from the per-person terms of the doubly robust "
                        "estimate (its influence function, given the cross-fitted models); differences paired "
                        "per person",
        },
        "plans": rows,
    }
    return report


def _difference(plan: offpolicy.PlanTerms, base: offpolicy.PlanTerms, key: str) -> dict:
    """`plan` against `base`: the difference in expected stays and the relative one, each with a 95 % interval
    from the per-person paired terms (the relative one by the delta method)."""
    a, b = plan.value, base.value
    diff = a - b
    se = offpolicy.standard_error(plan.correction - base.correction)
    out = {f"{key}_stays": _f(diff), f"{key}_stays_ci95": [_f(v) for v in offpolicy.interval(diff, se)]}
    if b > 0:
        ratio = a / b
        se_ratio = offpolicy.standard_error(plan.correction - ratio * base.correction) / b
        out[key] = _f(ratio - 1)
        out[f"{key}_ci95"] = [_f(v) for v in offpolicy.interval(ratio - 1, se_ratio)]
    else:
        out[key] = None
        out[f"{key}_ci95"] = [None, None]
    return out


def _fmt(value, spec: str = ".3f") -> str:
    return "-" if value is None else format(value, spec)


def _interval(bounds, percent: bool = False) -> str:
    if not bounds or bounds[0] is None or bounds[1] is None:
        return "-"
    if percent:
        return f"[{100 * bounds[0]:+.0f}%, {100 * bounds[1]:+.0f}%]"
    return f"[{bounds[0]:.1f}, {bounds[1]:.1f}]"


def format_table(report: dict) -> str:
    """A plain-text table of a `replay` report (or just the scorer part of it)."""
    lines = []
    if "split_on" in report:
        lines.append(f"Replay: train before {report['split_on']} ({report['n_train']} referrals), "
                     f"test from it ({report['n_test']}); horizon {report['horizon_days']} days; "
                     f"model kind: {report['model_kind']}")
    lines.append("")
    lines.append(f"{'scorer':<10} {'ROC AUC':>8} {'Brier':>8} {'P@5':>7} {'P@10':>7} {'base rate':>10}")
    for name in ("model", "prior"):
        if name in report:
            r = report[name]
            lines.append(f"{name:<10} {_fmt(r.get('roc_auc')):>8} {_fmt(r.get('brier')):>8} "
                         f"{_fmt(r.get('precision_at_5')):>7} {_fmt(r.get('precision_at_10')):>7} "
                         f"{_fmt(r.get('base_rate')):>10}")
    model = report.get("model", {})
    if model.get("calibration"):
        lines.append("")
        lines.append("calibration (model): predicted -> observed (n)")
        for row in model["calibration"]:
            if row["n"]:
                lines.append(f"  {row['low']:.1f}-{row['high']:.1f}: {_fmt(row['mean_predicted'])} -> "
                             f"{_fmt(row['observed'])} ({row['n']})")
    for group, values in model.get("groups", {}).items():
        lines.append("")
        lines.append(f"by {group}: {'n':>6} {'AUC':>7} {'Brier':>7} {'mean p':>7} {'observed':>9}")
        for value, r in values.items():
            lines.append(f"  {value:<{max(6, len(group) + 2)}} {r['n']:>6} {_fmt(r['roc_auc']):>7} "
                         f"{_fmt(r['brier']):>7} {_fmt(r['mean_predicted']):>7} {_fmt(r['base_rate']):>9}")
    if "assignment" in report:
        a = report["assignment"]
        lines.append("")
        lines.append(f"Batch assignment of the test period: {a['candidates']} candidates, {a['slots']} slots, "
                     f"{a['seats']} seats, {a['eligible_pairs']} eligible pairs")
        lines.append(f"valued by: {a['evaluator']}")
        valuation = a.get("valuation")
        if valuation:
            lines.append(f"  {valuation['referred_pairs']} referred pairs, {valuation['referred_pairs_clipped']} "
                         f"with a propensity below the clip (weight at most {_fmt(valuation['max_weight'], '.1f')}); "
                         f"outcome models learned from {', '.join(map(str, valuation['fold_training_rows']))} rows")
            lines.append("  expected stays = realised (referred pairs) + model (other pairs) + correction; "
                         "[95 % interval]")
        lines.append(f"{'plan':<26} {'assigned':>8} {'expected stays':>15} {'95 % interval':>15} "
                     f"{'vs rule':>8} {'95 % interval':>17} {'vs model plan':>14} {'95 % interval':>15} "
                     f"{'realised':>9} {'model':>7} {'correction':>10} {'referred':>8} {'stayed':>7}")
        for name, r in a["plans"].items():
            vs = "-" if r.get("vs_rule") is None else f"{100 * r['vs_rule']:+.1f}%"
            vs_ci = _interval(r.get("vs_rule_ci95"), percent=True)
            lines.append(f"{name:<26} {r['assigned']:>8} {_fmt(r['expected_stays'], '.1f'):>15} "
                         f"{_interval(r.get('ci95')):>15} {vs:>8} {vs_ci:>17} "
                         f"{_fmt(r.get('vs_model_stays'), '+.1f'):>14} {_interval(r.get('vs_model_stays_ci95')):>15} "
                         f"{_fmt(r.get('realised_part'), '.1f'):>9} {_fmt(r.get('model_part'), '.1f'):>7} "
                         f"{_fmt(r.get('correction_part'), '+.1f'):>10} "
                         f"{r['matched_referrals']:>8} {r['realised_stays']:>7}")
        lines.append("(vs model plan: difference in expected stays; intervals paired per person)")
    return "\n".join(lines)
