"""Recorded outcomes as training data: the card says how many the model learned from (and when they were
made), `model retrain` trains when enough are new and activates only a model at least as good on held-out
referrals; old cards still load."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from matcher.candidates.models import Candidate
from matcher.clock import today
from matcher.demo.generator import DemoSpec, build_demo
from matcher.engine import artifacts
from matcher.errors import Invalid, NotFound
from matcher.extensions import db
from matcher.matching import service
from matcher.matching.adapters import training_world
from matcher.matching.models import ScoringModel
from matcher.matching.service import registry
from matcher.referrals.lifecycle import ReferralStatus
from matcher.referrals.models import Referral, ReferralEvent
from matcher.slots.models import Slot
from tests.db_support import restored


@pytest.fixture
def city(app):
    spec = DemoSpec(seed=11, candidates=600, open_slots=30, certified_bases=8)
    with app.app_context():  # built once per worker, then restored from its rows (tests/db_support.py)
        restored(db.session, ("demo", spec), lambda: build_demo(db.session, spec, echo=lambda _line: None))
        db.session.remove()
    with app.app_context():
        yield app
        db.session.remove()


def add_declined(n: int) -> None:
    """n new referrals that ended without a start: outcomes known today."""
    session = db.session
    candidates = session.scalars(select(Candidate.id).order_by(Candidate.id).limit(n)).all()
    slot = session.scalar(select(Slot.id).order_by(Slot.id).limit(1))
    for candidate_id in candidates:
        referral = Referral(candidate_id=candidate_id, slot_id=slot, status=ReferralStatus.DECLINED,
                            ended_on=today(), end_code="not_suitable")
        referral.events = [ReferralEvent(from_status=None, to_status=ReferralStatus.PROPOSED, on_date=today()),
                           ReferralEvent(from_status=ReferralStatus.PROPOSED, to_status=ReferralStatus.SENT,
                                         on_date=today()),
                           ReferralEvent(from_status=ReferralStatus.SENT, to_status=ReferralStatus.DECLINED,
                                         on_date=today(), reason_code="not_suitable")]
        session.add(referral)
    session.commit()


def test_the_card_says_how_many_outcomes_and_from_when(city):
    runner = city.test_cli_runner()
    result = runner.invoke(args=["model", "train", "--activate"])
    assert result.exit_code == 0, result.output
    record = service.active_model(db.session)
    card = json.loads(record.card_json)
    world = training_world(db.session, horizon_days=90)
    assert card["outcomes_learned_from"] == len(world.history.stayed) == card["metrics"]["n_history"]
    first = dt.date.fromordinal(int(world.history.referred_on.min())).isoformat()
    last = dt.date.fromordinal(int(world.history.referred_on.max())).isoformat()
    assert card["outcomes_period"] == {"from": first, "to": last, "as_of": today().isoformat()}
    on_disk = json.loads((Path(city.config["MODELS_DIR"]) / f"{record.version}.card.json").read_text("utf-8"))
    assert on_disk["outcomes_learned_from"] == card["outcomes_learned_from"]
    assert f"learned from {card['outcomes_learned_from']} outcomes" in result.output
    # The card edit leaves the artefact loadable (its hash is the .skops file's).
    service.clear_loaded_models()
    artifacts.load(Path(city.config["MODELS_DIR"]), record.version)

    listed = runner.invoke(args=["model", "list"])
    assert f"learned from {card['outcomes_learned_from']} outcomes" in listed.output

    client = city.test_client()
    token = client.post("/api/v1/auth/tokens", json={"username": "admin", "password": "xintu-demo-2026"}).json
    models = client.get("/api/v1/models", headers={"Authorization": f"Bearer {token['token']}"}).json
    active = [m for m in models if m["active"]][0]
    assert active["outcomes_learned_from"] == card["outcomes_learned_from"]
    assert active["card"]["outcomes_period"]["from"] == first


def test_retrain_waits_for_enough_new_outcomes(city):
    runner = city.test_cli_runner()
    assert runner.invoke(args=["model", "train", "--activate"]).exit_code == 0
    first = service.active_model(db.session).version
    assert service.new_outcomes_since(db.session, service.active_model(db.session)) == 0

    result = runner.invoke(args=["model", "retrain", "--min-new-outcomes", "5"])
    assert result.exit_code == 0, result.output
    assert "0 outcomes recorded since" in result.output and "nothing to do" in result.output
    # Even when forced, a model that learned from every outcome is not trained again on the same data.
    assert "nothing to do" in runner.invoke(args=["model", "retrain", "--min-new-outcomes", "0"]).output
    assert db.session.scalar(select(ScoringModel.version).where(ScoringModel.version != first)) is None

    add_declined(4)
    assert service.new_outcomes_since(db.session, service.active_model(db.session)) == 4
    result = runner.invoke(args=["model", "retrain", "--min-new-outcomes", "5"])
    assert "nothing to do" in result.output
    add_declined(1)
    result = runner.invoke(args=["model", "retrain", "--min-new-outcomes", "5"])
    assert result.exit_code == 0, result.output
    assert "5 outcomes recorded since" in result.output and "trained " in result.output
    assert "not activated" in result.output  # --activate-if-better was not given
    db.session.expire_all()
    assert service.active_model(db.session).version == first
    newest = db.session.scalars(select(ScoringModel).where(ScoringModel.version != first)).one()
    assert service.outcomes_learned_from(newest) == service.outcomes_learned_from(
        db.session.get(ScoringModel, first)) + 5


def test_activate_if_better_compares_on_the_same_held_out_rows(city):
    admin = None
    first = service.train_model_on_outcomes(session=db.session, actor=admin, activate=True)
    add_declined(20)
    result = service.retrain(session=db.session, actor=admin, min_new_outcomes=10, activate_if_better=True)
    assert result.trained and result.new_outcomes == 20 and result.previous_version == first.version
    assert result.metric == "roc_auc"
    assert result.new_score == json.loads(result.record.card_json)["metrics"]["roc_auc"]
    assert 0 < result.previous_score < 1
    assert result.activated is (result.new_score >= result.previous_score)
    db.session.expire_all()
    expected = result.record.version if result.activated else first.version
    assert service.active_model(db.session).version == expected


@pytest.mark.parametrize(("new", "previous", "activated"), [(0.80, 0.78, True), (0.78, 0.78, True),
                                                           (0.77, 0.78, False)])
def test_the_new_model_replaces_the_active_one_only_if_at_least_as_good(city, monkeypatch, new, previous,
                                                                        activated):
    first = service.train_model_on_outcomes(session=db.session, actor=None, activate=True)
    add_declined(1)
    monkeypatch.setattr(registry, "_holdout_scores", lambda *_args: ("roc_auc", new, previous))
    result = service.retrain(session=db.session, actor=None, activate_if_better=True)
    assert result.activated is activated
    db.session.expire_all()
    assert service.active_model(db.session).version == (result.record.version if activated else first.version)


def test_brier_decides_lower_is_better():
    assert registry._at_least_as_good("brier", 0.10, 0.12)
    assert not registry._at_least_as_good("brier", 0.13, 0.12)
    assert registry._at_least_as_good("roc_auc", 0.7, None)
    assert not registry._at_least_as_good("roc_auc", None, 0.7)


def test_with_no_active_model_retrain_trains_and_activates(city):
    result = service.retrain(session=db.session, actor=None, min_new_outcomes=10**6)
    assert result.trained and result.activated and result.previous_version is None
    assert service.active_model(db.session).version == result.record.version


def test_only_administrators_retrain(city):
    from matcher.auth.models import Account, Role

    caseworker = db.session.scalar(select(Account).where(Account.role == Role.CASEWORKER).limit(1))
    with pytest.raises(NotFound):
        service.retrain(session=db.session, actor=caseworker)
    admin = db.session.scalar(select(Account).where(Account.role == Role.ADMINISTRATOR).limit(1))
    with pytest.raises(Invalid):
        service.retrain(session=db.session, actor=admin, min_new_outcomes=-1)


def test_an_old_card_without_the_field_still_loads_and_counts(city):
    record = service.train_model_on_outcomes(session=db.session, actor=None)
    directory = Path(city.config["MODELS_DIR"])
    card_path = directory / f"{record.version}.card.json"
    card = json.loads(card_path.read_text("utf-8"))
    for key in ("outcomes_learned_from", "outcomes_period"):
        card.pop(key)
    card_path.write_text(json.dumps(card), encoding="utf-8")
    service.clear_loaded_models()
    artifacts.load(directory, record.version)
    assert artifacts.outcomes_learned_from(card) == card["metrics"]["n_history"]
    assert artifacts.outcomes_learned_from({"card_format": 1}) is None


def test_two_trainings_in_the_same_second_on_the_same_data_are_two_models(city, monkeypatch):
    """The version names the second and the data: a second training within that second gets a number after it
    (it once failed on the unique version, on a fast machine)."""
    from matcher import clock

    instant = clock.now()
    monkeypatch.setattr(clock, "now", lambda: instant)
    first = service.train_model_on_outcomes(session=db.session, actor=None)
    second = service.train_model_on_outcomes(session=db.session, actor=None)
    # (An earlier test of this worker may have trained on the same data in that second: `first` is then `…-2`.)
    named = f"{first.kind}-{instant:%Y%m%d%H%M%S}-"
    assert second.version != first.version and first.version.startswith(named) and second.version.startswith(named)
    assert (Path(city.config["MODELS_DIR"]) / f"{second.version}.card.json").exists()
