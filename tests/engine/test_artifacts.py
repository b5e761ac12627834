"""Model artefacts: skops + card round trip; refusal of tampered files, unknown cards, other sklearn versions."""

from __future__ import annotations

import json

import numpy as np
import pytest
import sklearn

from matcher.engine import artifacts
from matcher.engine.artifacts import IncompatibleModel, list_models, load, save
from matcher.engine.features import FEATURE_NAMES
from matcher.engine.model import score, train_scorer
from matcher.engine.types import History


def _card(directory, version):
    return json.loads((directory / f"{version}.card.json").read_text(encoding="utf-8"))


def _write_card(directory, version, card):
    (directory / f"{version}.card.json").write_text(json.dumps(card), encoding="utf-8")


def test_round_trip_scores_identically(tmp_path, learned, featurizer, world):
    path = save(learned, tmp_path, "v1")
    assert path == tmp_path / "v1.skops" and path.exists()
    card = _card(tmp_path, "v1")
    assert card["card_format"] == artifacts.CARD_FORMAT and card["kind"] == "learned" and card["version"] == "v1"
    assert card["label"] == "started and stayed 90 days" and card["horizon_days"] == 90
    assert card["feature_names"] == list(FEATURE_NAMES)
    assert card["monotone_constraints"]["distance_km"] == -1
    assert card["training_data_hash"] == learned.training_data_hash
    assert set(card["libraries"]) == {"python", "numpy", "scipy", "scikit-learn", "skops"}
    assert card["metrics"]["roc_auc"] == pytest.approx(learned.metrics["roc_auc"])
    assert "inverse-propensity" in card["propensity"]
    assert set(card["trusted_types"]) <= set(artifacts.TRUSTED_TYPES)
    loaded = load(tmp_path, "v1")
    assert loaded.kind == "learned" and loaded.baseline == pytest.approx(learned.baseline)
    ci, si = world.history.candidate_index[:50], world.history.slot_index[:50]
    np.testing.assert_array_equal(score(loaded, featurizer, ci, si), score(learned, featurizer, ci, si))


def test_prior_round_trip_and_fairness_on_the_card(tmp_path):
    empty = np.zeros(0, np.int64)
    prior = train_scorer(None, None, History(empty, empty, empty, np.zeros(0, bool)))
    save(prior, tmp_path, "prior-1", fairness={"sex": {"F": {"roc_auc": 0.7}}})
    assert _card(tmp_path, "prior-1")["fairness"]["sex"]["F"]["roc_auc"] == 0.7
    assert load(tmp_path, "prior-1").kind == "prior"


def test_refuses_a_tampered_file(tmp_path, learned):
    path = save(learned, tmp_path, "v1")
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(IncompatibleModel, match="sha256"):
        load(tmp_path, "v1")


def test_refuses_another_sklearn_version(tmp_path, learned):
    save(learned, tmp_path, "v1")
    card = _card(tmp_path, "v1")
    major, minor = sklearn.__version__.split(".")[:2]
    card["libraries"]["scikit-learn"] = f"{major}.{int(minor) + 1}.0"
    _write_card(tmp_path, "v1", card)
    with pytest.raises(IncompatibleModel, match="scikit-learn") as caught:
        load(tmp_path, "v1")
    assert "Retrain" in caught.value.message
    listed = list_models(tmp_path)
    assert listed[0]["loadable"] is False and "scikit-learn" in listed[0]["problem"]


def test_refuses_unknown_card_format_and_other_features(tmp_path, learned):
    save(learned, tmp_path, "v1")
    card = _card(tmp_path, "v1")
    for other in (artifacts.CARD_FORMAT - 1, artifacts.CARD_FORMAT + 1):  # format 1: before QuantisedBoosting
        _write_card(tmp_path, "v1", {**card, "card_format": other})
        with pytest.raises(IncompatibleModel, match="card format"):
            load(tmp_path, "v1")
    _write_card(tmp_path, "v1", {**card, "feature_names": ["skill_match"]})
    with pytest.raises(IncompatibleModel, match="features"):
        load(tmp_path, "v1")


def test_refuses_untrusted_types(tmp_path, learned, monkeypatch):
    save(learned, tmp_path, "v1")
    monkeypatch.setattr(artifacts, "TRUSTED_TYPES", ("matcher.engine.model.RulePrior",))
    with pytest.raises(IncompatibleModel, match="not trusted"):
        load(tmp_path, "v1")


def test_list_models_and_version_names(tmp_path, learned):
    save(learned, tmp_path, "a-1")
    save(learned, tmp_path, "b-2")
    versions = {card["version"] for card in list_models(tmp_path)}
    assert versions == {"a-1", "b-2"}
    assert all(card["loadable"] for card in list_models(tmp_path))
    assert list_models(tmp_path / "missing") == []
    with pytest.raises(ValueError):
        save(learned, tmp_path, "../escape")
