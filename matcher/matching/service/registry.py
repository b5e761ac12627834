"""The model registry: training, registering, activating, listing and evaluating scoring models, and
retraining on the outcomes recorded since; the active scorer, loaded once per process."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from matcher import clock, policy, uow
from matcher.auth.models import Account
from matcher.candidates.models import Candidate
from matcher.clock import today
from matcher.engine.types import History
from matcher.errors import Conflict, Invalid, NotFound
from matcher.matching.adapters import known_outcome_filter, training_world
from matcher.matching.models import ScoringModel
from matcher.matching.pipeline import featurizer_for
from matcher.referrals.models import Referral

if TYPE_CHECKING:
    from matcher.engine.model import TrainedScorer

# matcher.engine.artifacts and .model (skops, scikit-learn: ~150 MB and seconds) are imported where a model is
# trained, loaded or scored, so that processes that never score (the command line's imports, an import job)
# do not pay for them.

_cache_lock = threading.Lock()
_loaded: dict[tuple[str, str], TrainedScorer] = {}



def models_dir() -> Path:
    return Path(current_app.config["MODELS_DIR"])


def active_model(session: Session) -> ScoringModel | None:
    return session.scalar(select(ScoringModel).where(ScoringModel.active.is_(True)))


def active_scorer(session: Session) -> tuple[TrainedScorer, str]:
    """The active model, loaded once per process; the transparent prior when none was trained yet."""
    from matcher.engine import artifacts
    record = active_model(session)
    if record is None:
        return _builtin_prior(), "prior-builtin"
    key = (str(models_dir()), record.version)
    with _cache_lock:
        if key not in _loaded:
            _loaded[key] = artifacts.load(models_dir(), record.version)
        return _loaded[key], record.version


def clear_loaded_models() -> None:
    """Forget every model loaded so far: the next use loads it from its file again (and checks it again)."""
    with _cache_lock:
        _loaded.clear()


def _builtin_prior() -> TrainedScorer:
    from matcher.engine.model import train_scorer

    key = ("builtin", "prior")
    with _cache_lock:
        if key not in _loaded:
            empty = np.zeros(0, dtype=np.int64)
            _loaded[key] = train_scorer(None, None, History(empty, empty, empty, np.zeros(0, dtype=bool)))
        return _loaded[key]


def _groups(session: Session, candidate_ids: np.ndarray) -> dict[str, np.ndarray]:
    """Sex, age band and risk grade per candidate: for fairness reporting only, never for scoring."""
    rows = {r.id: r for r in session.execute(
        select(Candidate.id, Candidate.sex, Candidate.birth_year, Candidate.risk_grade)
        .where(Candidate.id.in_([int(i) for i in set(candidate_ids.tolist())])))}
    year = today().year

    def band(birth_year: int) -> str:
        age = year - birth_year
        return "<30" if age < 30 else "30-44" if age < 45 else "45+"

    return {
        "sex": np.array([rows[i].sex.value for i in candidate_ids]),
        "age_band": np.array([band(rows[i].birth_year) for i in candidate_ids]),
        "risk_grade": np.array([rows[i].risk_grade.value for i in candidate_ids]),
    }


def report_progress(progress, done: int, total: int, message: str) -> None:
    """Tell a long job's progress callback (matcher.jobs) where the work is; called before any write."""
    if progress is not None:
        progress(done, total, message)


def train_model(*, session: Session, actor: Account | None, horizon_days: int = 90, activate: bool = False,
                random_state: int = 0, progress=None) -> ScoringModel:
    """Train on every referral whose outcome at the horizon is known; save the artefact and its card."""
    from matcher.engine import artifacts
    from matcher.engine.model import score, train_scorer
    if actor is not None:
        policy.require(actor, policy.Rule.MATCH_ADMIN)
    if horizon_days not in (30, 90, 180):
        raise Invalid(_l("The horizon is 30, 90 or 180 days."), field="horizon_days")
    report_progress(progress, 0, 4, "Reading the recorded outcomes")
    world = training_world(session, horizon_days=horizon_days)
    featurizer = featurizer_for(session, world.candidates.table, world.slots.table)
    report_progress(progress, 1, 4, "Training the model")
    scorer = train_scorer(world.candidates.table, world.slots.table, world.history,
                          horizon_days=horizon_days, random_state=random_state, featurizer=featurizer)
    history = world.history
    fairness = None
    report_progress(progress, 2, 4, "Checking fairness")
    if len(history.stayed):
        # Fairness on the later fifth of history (the model's own held-out period).
        cut = np.quantile(history.referred_on, 0.8)
        test = history.referred_on >= cut
        if test.sum() and len(set(history.stayed[test].tolist())) == 2:
            from matcher.engine.evaluation import evaluate_scorer

            p = score(scorer, featurizer, history.candidate_index[test], history.slot_index[test])
            groups = _groups(session, world.candidates.table.ids[history.candidate_index[test]])
            fairness = evaluate_scorer(history.stayed[test], p, groups,
                                       query_ids=history.candidate_index[test])
    report_progress(progress, 3, 4, "Saving the model")
    version = _new_version(session, f"{scorer.kind}-{clock.now():%Y%m%d%H%M%S}-{scorer.training_data_hash[:8]}")
    artifacts.save(scorer, models_dir(), version, fairness=fairness)
    card = json.loads((models_dir() / f"{version}.card.json").read_text(encoding="utf-8"))
    record = ScoringModel(version=version, kind=scorer.kind, horizon_days=horizon_days,
                          card_json=json.dumps(card, ensure_ascii=False), active=False)
    session.add(record)
    session.flush()
    if activate or active_model(session) is None:
        _activate(session, record, actor)
    uow.flush(session)
    return record


def _new_version(session: Session, version: str) -> str:
    """`version`, or with a number after it when a model of that name exists already: two trainings on the same
    data within one second (a retrain right after a training, or a prior with no outcomes yet) are two models."""
    taken = set(session.scalars(select(ScoringModel.version).where(ScoringModel.version.startswith(version))))
    candidate, n = version, 1
    while candidate in taken or (models_dir() / f"{candidate}.card.json").exists():
        n += 1
        candidate = f"{version}-{n}"
    return candidate


def sync_registry(session: Session) -> list[str]:
    """Register models whose artefacts sit in models/ but not yet in this database (e.g. the model
    shipped with the repository); returns the versions added. Nothing is activated here."""
    from matcher.engine import artifacts
    known = set(session.scalars(select(ScoringModel.version)))
    added = []
    for card in artifacts.list_models(models_dir()):
        if card["version"] in known:
            continue
        session.add(ScoringModel(version=card["version"], kind=card["kind"], horizon_days=card["horizon_days"],
                                 card_json=json.dumps(card, ensure_ascii=False), active=False))
        added.append(card["version"])
    uow.flush(session)
    return added


def _activate(session: Session, record: ScoringModel, actor: Account | None) -> None:
    session.execute(update(ScoringModel).where(ScoringModel.active.is_(True)).values(active=False))
    session.flush()
    record.active, record.activated_at = True, clock.now()
    record.activated_by_id = actor.id if actor else None


def list_registered(session: Session) -> list[ScoringModel]:
    return list(session.scalars(select(ScoringModel).order_by(ScoringModel.created_at)))


def list_models(*, session: Session, actor: Account) -> list[ScoringModel]:
    policy.require(actor, policy.Rule.MATCH_ADMIN)
    sync_registry(session)
    return list_registered(session)


def get_model(*, session: Session, actor: Account | None, version: str) -> ScoringModel:
    if actor is not None:
        policy.require(actor, policy.Rule.MATCH_ADMIN)
    # A NUL character (a URL's %00) names no model; PostgreSQL would refuse to compare it (a 500).
    record = session.get(ScoringModel, version) if "\x00" not in version else None
    if record is None:
        raise NotFound(_l("No such model."))
    return record


def activate_model(*, session: Session, actor: Account | None, version: str) -> ScoringModel:
    """Make a model the one that scores; it must load (same library versions, untampered file)."""
    from matcher.engine import artifacts
    record = get_model(session=session, actor=actor, version=version)
    try:
        artifacts.load(models_dir(), version)
    except (artifacts.IncompatibleModel, FileNotFoundError) as exc:
        raise Conflict(_l("This model cannot be loaded here: %(why)s", why=str(exc)), field="version") from None
    _activate(session, record, actor)
    uow.flush(session)
    return record


def evaluate(*, session: Session, actor: Account | None, horizon_days: int = 90,
             split_on: dt.date | None = None, random_state: int = 0) -> dict:
    """Replay history: train before `split_on`, test after; model against the prior and, for batch
    assignment, against the nearest-preferred-course rule, a greedy plan and random."""
    if actor is not None:
        policy.require(actor, policy.Rule.MATCH_ADMIN)
    from matcher.engine.evaluation import replay

    world = training_world(session, horizon_days=horizon_days)
    if len(world.history.stayed) == 0:
        raise Conflict(_l("There is no referral history with known outcomes to evaluate on."))
    split = split_on.toordinal() if split_on else int(np.quantile(world.history.referred_on, 0.75))
    groups = _groups(session, world.candidates.table.ids[world.history.candidate_index])
    return replay(world.candidates.table, world.slots.table, world.history, split,
                  horizon_days=horizon_days, random_state=random_state, groups=groups,
                  featurizer=featurizer_for(session, world.candidates.table, world.slots.table))


# ---- retraining on the outcomes recorded since -------------------------------------------------

# The held-out metric that decides whether a retrained model replaces the active one: ROC AUC on the
# retrained model's temporal hold-out (the latest fifth of referrals with known outcomes, by referral date),
# higher is better; when those rows hold only one outcome, the Brier score on them, lower is better.
RETRAIN_METRIC = "roc_auc"
RETRAIN_FALLBACK_METRIC = "brier"


def known_outcomes(session: Session, *, horizon_days: int = 90, as_of: dt.date | None = None) -> dict:
    """How many referrals have a known outcome at the horizon, and the first and last referral day among them:
    what a model trained now learns from."""
    as_of = as_of or today()
    count, first, last = session.execute(
        select(func.count(Referral.id), func.min(Referral.created_at), func.max(Referral.created_at))
        .where(known_outcome_filter(horizon_days, as_of))).one()
    return {"outcomes": int(count), "from": clock.china_date(first).isoformat() if first else None,
            "to": clock.china_date(last).isoformat() if last else None, "as_of": as_of.isoformat()}


def outcomes_learned_from(record: ScoringModel) -> int | None:
    from matcher.engine import artifacts

    return artifacts.outcomes_learned_from(json.loads(record.card_json))


def new_outcomes_since(session: Session, record: ScoringModel | None) -> int:
    """Outcomes recorded since `record` was trained: referrals with a known outcome now, less those it learned
    from (every outcome when there is no model, or its card does not say)."""
    known = known_outcomes(session, horizon_days=record.horizon_days if record else 90)["outcomes"]
    learned = outcomes_learned_from(record) if record is not None else None
    return known if learned is None else max(0, known - learned)


def train_model_on_outcomes(*, session: Session, actor: Account | None, horizon_days: int = 90,
                            activate: bool = False, random_state: int = 0, progress=None) -> ScoringModel:
    """train_model, and the card then records how many outcomes the model learned from and their period."""
    from matcher.engine import artifacts
    record = train_model(session=session, actor=actor, horizon_days=horizon_days, activate=activate,
                         random_state=random_state, progress=progress)
    training = known_outcomes(session, horizon_days=horizon_days)
    card = artifacts.with_training_period(models_dir(), record.version, training)
    record.card_json = json.dumps(card, ensure_ascii=False)
    uow.flush(session)
    return record


@dataclasses.dataclass
class RetrainResult:
    trained: bool
    activated: bool
    new_outcomes: int
    previous_version: str | None  # the model active before
    record: ScoringModel | None = None  # the retrained model
    metric: str | None = None  # roc_auc or brier, on the retrained model's hold-out
    new_score: float | None = None
    previous_score: float | None = None
    reason: str = ""


def retrain(*, session: Session, actor: Account | None, min_new_outcomes: int = 0,
            activate_if_better: bool = False, random_state: int = 0, progress=None) -> RetrainResult:
    """Retrain on every outcome recorded so far when at least `min_new_outcomes` (and at least one) were recorded
    since the active model's training (with the active model's horizon). The new model is registered; with
    `activate_if_better` it replaces the active one if it does at least as well on the held-out metric
    (RETRAIN_METRIC): both are scored on the same rows, the new model's temporal hold-out, which the new
    model's held-out copy never saw (the active model may have, which only favours keeping it). The first
    model ever trained becomes active in any case."""
    if actor is not None:
        policy.require(actor, policy.Rule.MATCH_ADMIN)
    if min_new_outcomes < 0:
        raise Invalid(_l("The number of new outcomes cannot be negative."), field="min_new_outcomes")
    previous = active_model(session)
    horizon_days = previous.horizon_days if previous is not None else 90
    new = new_outcomes_since(session, previous)
    result = RetrainResult(trained=False, activated=False, new_outcomes=new,
                           previous_version=previous.version if previous else None)
    if previous is not None and new < max(min_new_outcomes, 1):
        # Nothing new: the same data would give the same model (training is deterministic).
        result.reason = (f"{new} new outcomes since {previous.version} (fewer than {min_new_outcomes})" if new
                         else f"no outcome recorded since {previous.version} learned")
        return result
    record = train_model_on_outcomes(session=session, actor=actor, horizon_days=horizon_days, activate=False,
                                     random_state=random_state, progress=progress)
    result.trained, result.record = True, record
    if record.active:  # there was no active model
        result.activated, result.reason = True, "no model was active"
        return result
    result.metric, result.new_score, result.previous_score = _holdout_scores(session, record, previous)
    if result.metric is None:
        result.reason = "the hold-out cannot compare the models (no outcomes to score)"
    elif not activate_if_better:
        result.reason = "registered; not activated (activate_if_better not asked)"
    elif _at_least_as_good(result.metric, result.new_score, result.previous_score):
        _activate(session, record, actor)
        uow.flush(session)
        result.activated, result.reason = True, f"at least as good on the held-out {result.metric}"
    else:
        result.reason = f"worse on the held-out {result.metric}; {previous.version} stays active"
    return result


def _at_least_as_good(metric: str, new: float | None, previous: float | None) -> bool:
    if new is None:
        return False
    if previous is None:
        return True
    return new >= previous if metric == RETRAIN_METRIC else new <= previous


def _holdout_scores(session: Session, record: ScoringModel,
                    previous: ScoringModel) -> tuple[str | None, float | None, float | None]:
    """(metric, new model's held-out value, previous model's value on the same rows)."""
    from matcher.engine import artifacts
    from matcher.engine.evaluation import evaluate_scorer
    from matcher.engine.model import score, temporal_split

    card = json.loads(record.card_json)
    world = training_world(session, horizon_days=record.horizon_days)
    history = world.history
    if not len(history.stayed):
        return None, None, None
    # The learned model's card metrics come from a copy trained before its temporal split; the prior's from
    # every row (it learns nothing). Score the previous model on exactly those rows.
    rows = temporal_split(history.referred_on) if record.kind == "learned" else np.ones(len(history.stayed), bool)
    try:
        scorer = artifacts.load(models_dir(), previous.version)
    except (artifacts.IncompatibleModel, FileNotFoundError):
        scorer = None  # the active model no longer loads here: anything that does is better
    previous_metrics = {}
    if scorer is not None:
        featurizer = featurizer_for(session, world.candidates.table, world.slots.table)
        p = score(scorer, featurizer, history.candidate_index[rows], history.slot_index[rows])
        previous_metrics = evaluate_scorer(history.stayed[rows], p)
    metrics = card.get("metrics") or {}
    for metric in (RETRAIN_METRIC, RETRAIN_FALLBACK_METRIC):
        if metrics.get(metric) is not None:
            return metric, float(metrics[metric]), previous_metrics.get(metric)
    return None, None, None
