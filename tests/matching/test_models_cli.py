"""Training, listing, activating and evaluating models, and the `assign` command, on a small demo city."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from matcher.demo.generator import DemoSpec, build_demo
from matcher.extensions import db
from tests.db_support import restored


@pytest.fixture
def small_city(app):
    spec = DemoSpec(seed=5, candidates=700, open_slots=40, certified_bases=8)
    with app.app_context():  # built once per worker, then restored from its rows (tests/db_support.py)
        restored(db.session, ("demo", spec), lambda: build_demo(db.session, spec, echo=lambda _line: None))
        db.session.remove()
    return app


def test_train_list_activate_evaluate(small_city, tmp_path):
    app = small_city
    runner = app.test_cli_runner()
    trained = runner.invoke(args=["model", "train", "--activate"])
    assert trained.exit_code == 0, trained.output
    assert trained.output.startswith("trained ") and "active" in trained.output
    version = trained.output.split()[1]
    models_dir = Path(app.config["MODELS_DIR"])
    card = json.loads((models_dir / f"{version}.card.json").read_text(encoding="utf-8"))
    for key in ("version", "kind", "variant", "horizon_days", "feature_names", "training_data_hash", "metrics"):
        assert key in card, key
    # Which model serves is decided on the held-out fifth of this city's history (a small city may keep the
    # prior): the card says which candidates were compared and why the winner won.
    assert version.startswith(f"{card['kind']}-") and card["kind"] in ("learned", "prior")
    assert "roc_auc" in card["metrics"] and card["metrics"]["why"] and card["metrics"]["candidates"]
    listed = runner.invoke(args=["model", "list"])
    assert f"* {version}" in listed.output

    client = app.test_client()
    token = client.post("/api/v1/auth/tokens", json={"username": "admin", "password": "xintu-demo-2026"}).json
    headers = {"Authorization": f"Bearer {token['token']}"}
    models = client.get("/api/v1/models", headers=headers).json
    assert [m["version"] for m in models if m["active"]] == [version]

    cw = client.post("/api/v1/auth/tokens", json={"username": "cw330782001", "password": "xintu-demo-2026"}).json
    cw_headers = {"Authorization": f"Bearer {cw['token']}"}
    someone = client.get("/api/v1/candidates?status=active&page_size=1", headers=cw_headers).json[0]
    recommended = client.get(f"/api/v1/candidates/{someone['id']}/recommendations", headers=cw_headers).json
    assert recommended["model_version"] == version and recommended["model_kind"] == card["kind"]

    report_file = tmp_path / "evaluation.json"
    evaluated = runner.invoke(args=["model", "evaluate", "-o", str(report_file)])
    assert evaluated.exit_code == 0, evaluated.output
    report = json.loads(report_file.read_text(encoding="utf-8"))
    assert report  # the engine's replay report, also printed as a table

    # A tampered artefact is refused, with a clear answer rather than a crash.
    artefact = models_dir / f"{version}.skops"
    artefact.write_bytes(artefact.read_bytes() + b"tampered")
    from matcher.matching import service

    service.clear_loaded_models()
    refused = client.post(f"/api/v1/models/{version}/activate", headers=headers)
    assert refused.status_code == 409, refused.json


def test_assign_writes_the_plan(small_city, tmp_path):
    runner = small_city.test_cli_runner()
    output = tmp_path / "plan.csv"
    result = runner.invoke(args=["assign", "--key-subject-weight", "0.5", "--base-cap", "10", "-o", str(output)])
    assert result.exit_code == 0, result.output
    assert "objective" in result.output and "greedy_objective" in result.output
    rows = list(csv.DictReader(output.open(encoding="utf-8")))
    assert rows and set(rows[0]) == {"candidate_id", "candidate_public_id", "candidate_external_id", "slot_id",
                                     "slot_external_id", "score"}
    assert len({r["candidate_id"] for r in rows}) == len(rows)


def test_evaluate_writes_into_the_models_dir_not_the_checkout(app, monkeypatch, tmp_path):
    """Without -o the report goes next to the models it judges (XINTU_MODELS_DIR), never into the checkout."""
    from matcher.matching import service

    monkeypatch.setattr(service, "evaluate", lambda **_kwargs: {"horizon_days": 90})
    monkeypatch.chdir(tmp_path)  # the default once was the relative models/evaluation.json
    result = app.test_cli_runner().invoke(args=["model", "evaluate"])
    assert result.exit_code == 0, result.output
    written = Path(app.config["MODELS_DIR"]) / "evaluation.json"
    assert json.loads(written.read_text(encoding="utf-8")) == {"horizon_days": 90}
    assert not (tmp_path / "models").exists()
    other = tmp_path / "elsewhere.json"
    assert app.test_cli_runner().invoke(args=["model", "evaluate", "-o", str(other)]).exit_code == 0
    assert other.exists()
