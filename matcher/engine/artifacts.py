"""Trained models on disk: `<version>.skops` (the estimator, in skops' safe format) and `<version>.card.json`.

The card says what the model is (kind, label, horizon, features, monotone constraints, metrics, fairness,
training-data hash, propensity method, library versions) and carries the sha256 of the .skops file. `load`
refuses, with `IncompatibleModel`, a card format it does not know, a scikit-learn major.minor other than
the installed one, a file whose hash differs from the card's, different features, or any type in the file
outside `TRUSTED_TYPES` (the only non-default types our estimators contain).
"""

from __future__ import annotations

import hashlib
import json
import platform
import re
from pathlib import Path

import numpy as np
import scipy
import sklearn
import skops
import skops.io as sio

from matcher.engine.features import FEATURE_NAMES, MONOTONE
from matcher.engine.model import LABEL_DEFINITION, TrainedScorer

# 2: StayModel holds QuantisedBoosting trees and a CalibratedClassifierCV (format 1 held compiled tables built
# from the booster's internals, and a hand-built calibrator); a format-1 artefact is refused, so retrain it.
CARD_FORMAT = 2
# What skops.io.get_untrusted_types reports for a saved StayModel or RulePrior (checked again on save): our
# estimators, and the scikit-learn classes inside them that skops does not trust by default (the tree
# predictors, CalibratedClassifierCV's classifier-and-calibrator pair, the sigmoid calibrator, and the calibration's
# folds).
TRUSTED_TYPES = (
    "matcher.engine.model.QuantisedBoosting",
    "matcher.engine.model.RulePrior",
    "matcher.engine.model.StayModel",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",  # the default calibration's two numbers (Platt's a_ and b_)
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.model_selection._split.StratifiedKFold",
)
# What any model this installation trains can and cannot represent (the card states it; README "Scoring model").
CAN_REPRESENT = (
    "The rule prior is a hand-set logistic score. A learned model is a sum of one monotone step function per "
    "feature (the additive variant), plus, in the interaction variant, one 2-D table per named pair of features "
    "(see 'interactions'); both are calibrated by a strictly increasing map, so every monotone constraint holds. "
    "No other interaction can be represented: e.g. education cannot matter for one trade only, since no feature "
    "names the trade. Selection bias (caseworkers referred mostly wished courses nearby) is corrected by "
    "inverse-propensity weights, which cannot correct for facts no feature records (motivation, family, the "
    "caseworker's knowledge of the person), nor reach kinds of pairs that were never referred.")


def _pairs(scorer: TrainedScorer) -> list[tuple[str, str]]:
    """The named feature pairs of the served model (empty for the prior and an additive model)."""
    estimator = scorer.estimator
    trees = getattr(estimator, "booster_", None)
    pairs = getattr(trees, "pairs_", ()) or ()
    return [(scorer.feature_names[a], scorer.feature_names[b]) for a, b in pairs]


_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class IncompatibleModel(Exception):
    """A saved model this installation must not load (unknown card, other library version, tampered file)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _paths(directory: Path, version: str) -> tuple[Path, Path]:
    if not _VERSION.match(version or ""):
        raise ValueError(f"invalid model version {version!r}: letters, digits, '.', '_' and '-' only")
    directory = Path(directory)
    return directory / f"{version}.skops", directory / f"{version}.card.json"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _major_minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def library_versions() -> dict[str, str]:
    return {"python": platform.python_version(), "numpy": np.__version__, "scipy": scipy.__version__,
            "scikit-learn": sklearn.__version__, "skops": skops.__version__}


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def save(scorer: TrainedScorer, directory: Path, version: str, fairness: dict | None = None) -> Path:
    """Write the estimator and its card; returns the path of the .skops file. The card says how many
    referrals with known outcomes the model learned from; `with_training_period` adds their date range."""
    model_path, card_path = _paths(directory, version)
    model_path.parent.mkdir(parents=True, exist_ok=True)
    sio.dump(scorer.estimator, model_path)
    untrusted = sorted(sio.get_untrusted_types(file=model_path))
    unexpected = set(untrusted) - set(TRUSTED_TYPES)
    if unexpected:
        model_path.unlink(missing_ok=True)
        raise ValueError(f"refusing to save a model holding types outside TRUSTED_TYPES: {sorted(unexpected)}")
    card = {
        "card_format": CARD_FORMAT,
        "version": version,
        "kind": scorer.kind,
        # Which candidate the held-out switch chose ("prior", "additive", "interaction"), and the feature pairs
        # the served model may combine (none for the prior and the additive model): see the metrics' `candidates`,
        # `switch` and `why` for every candidate's held-out figures and the reason.
        "variant": scorer.variant,
        "interactions": [list(pair) for pair in _pairs(scorer)],
        "can_represent": CAN_REPRESENT,
        "created_at": scorer.created_at,
        "label": LABEL_DEFINITION.format(horizon=scorer.horizon_days),
        "horizon_days": scorer.horizon_days,
        "estimator": type(scorer.estimator).__name__,
        "feature_names": list(scorer.feature_names),
        "monotone_constraints": {name: MONOTONE.get(name, 0) for name in scorer.feature_names},
        "baseline": list(scorer.baseline),
        "training_data_hash": scorer.training_data_hash,
        "metrics": scorer.metrics,
        "outcomes_learned_from": int(scorer.metrics.get("n_history", 0)),
        "outcomes_period": None,
        "fairness": fairness if fairness is not None else scorer.metrics.get("held_out"),
        "propensity": scorer.propensity,
        "libraries": library_versions(),
        "trusted_types": untrusted,
        "artifact": model_path.name,
        "artifact_sha256": _sha256(model_path),
    }
    card_path.write_text(json.dumps(_jsonable(card), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return model_path


def outcomes_learned_from(card: dict) -> int | None:
    """How many referrals with known outcomes the model learned from (cards written before the field was
    added: the history's size from its metrics)."""
    if card.get("outcomes_learned_from") is not None:
        return int(card["outcomes_learned_from"])
    n_history = (card.get("metrics") or {}).get("n_history")
    return None if n_history is None else int(n_history)


def with_training_period(directory: Path, version: str, training: dict) -> dict:
    """Record on a saved card how many outcomes the model learned from and their period: `training` is
    {"outcomes": n, "from": first referral day, "to": last referral day, "as_of": day of training} (ISO
    dates). The artefact and its hash are untouched; returns the card."""
    _, card_path = _paths(directory, version)
    card = read_card(directory, version)
    card["outcomes_learned_from"] = int(training["outcomes"])
    card["outcomes_period"] = {key: training.get(key) for key in ("from", "to", "as_of")}
    card_path.write_text(json.dumps(_jsonable(card), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return card


def read_card(directory: Path, version: str) -> dict:
    _, card_path = _paths(directory, version)
    try:
        return json.loads(card_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise IncompatibleModel(f"model {version}: the card is not valid JSON ({exc})") from None


def check_card(card: dict) -> None:
    """Raise IncompatibleModel unless this installation can load the model the card describes."""
    version = card.get("version", "?")
    if card.get("card_format") != CARD_FORMAT:
        raise IncompatibleModel(f"model {version}: unknown card format {card.get('card_format')!r} "
                                f"(this installation reads format {CARD_FORMAT})")
    saved = str(card.get("libraries", {}).get("scikit-learn", "unknown"))
    if _major_minor(saved) != _major_minor(sklearn.__version__):
        raise IncompatibleModel(f"model {version} was trained with scikit-learn {saved}; this installation has "
                                f"{sklearn.__version__}. Retrain it here (flask --app matcher model train) or "
                                f"install scikit-learn {_major_minor(saved)}.x")
    if tuple(card.get("feature_names", ())) != FEATURE_NAMES:
        raise IncompatibleModel(f"model {version} uses other features than this installation; retrain it")
    if card.get("kind") not in ("learned", "prior"):
        raise IncompatibleModel(f"model {version}: unknown kind {card.get('kind')!r}")


def load(directory: Path, version: str) -> TrainedScorer:
    model_path, _ = _paths(directory, version)
    card = read_card(directory, version)
    check_card(card)
    if _sha256(model_path) != card.get("artifact_sha256"):
        raise IncompatibleModel(f"model {version}: the file's sha256 does not match its card (changed or damaged)")
    found = set(sio.get_untrusted_types(file=model_path))
    if found - set(TRUSTED_TYPES):
        untrusted = sorted(found - set(TRUSTED_TYPES))
        raise IncompatibleModel(f"model {version} holds types that are not trusted: {untrusted}")
    try:
        estimator = sio.load(model_path, trusted=sorted(found))
    except Exception as exc:  # skops raises several kinds for a file it cannot read safely
        raise IncompatibleModel(f"model {version} could not be loaded safely: {exc}") from None
    feature_count = len(card["feature_names"])
    baseline = tuple(float(v) for v in card.get("baseline") or ()) or None
    return TrainedScorer(
        kind=card["kind"], estimator=estimator, feature_names=tuple(card["feature_names"]),
        metrics=card.get("metrics") or {}, training_data_hash=card.get("training_data_hash", ""),
        horizon_days=int(card.get("horizon_days", 90)), propensity=card.get("propensity", ""),
        created_at=card.get("created_at", ""), variant=str(card.get("variant") or ""),
        **({"baseline": baseline} if baseline and len(baseline) == feature_count else {}))


def list_models(directory: Path) -> list[dict]:
    """Every card in `directory` (newest first), each with `loadable` and, if not, `problem`."""
    directory = Path(directory)
    cards = []
    for path in sorted(directory.glob("*.card.json")) if directory.is_dir() else []:
        try:
            card = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        try:
            check_card(card)
            card["loadable"], card["problem"] = True, None
        except IncompatibleModel as exc:
            card["loadable"], card["problem"] = False, exc.message
        cards.append(card)
    return sorted(cards, key=lambda c: (str(c.get("created_at", "")), str(c.get("version", ""))), reverse=True)
