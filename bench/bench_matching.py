"""Matching end to end on the demo city (through the services, from the database):
city batch (7,500 candidates x 300 open slots, every eligible pair scored, solved exactly) < 3 s;
recommendations for one candidate through the API (in-process) and training on the demo history.

Usage: python -m bench.bench_matching
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from bench.common import fresh_database, summary_ms, write_result


def main() -> None:
    from flask_migrate import upgrade

    from matcher import MIGRATIONS_DIR, create_app
    from matcher.demo.generator import DemoSpec, build_demo
    from matcher.extensions import db
    from matcher.matching import service

    with tempfile.TemporaryDirectory() as tmp:
        url = fresh_database("sqlite", Path(tmp))
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "MODELS_DIR": str(Path(tmp) / "models")})
        result: dict = {}
        with app.app_context():
            upgrade(directory=MIGRATIONS_DIR)
            build_demo(db.session, DemoSpec(seed=2026), echo=lambda _line: None)
            started = time.perf_counter()
            record = service.train_model(session=db.session, actor=None, activate=True)
            result["train_demo_history_s"] = round(time.perf_counter() - started, 2)
            result["model"] = {"version": record.version, "kind": record.kind,
                               "metrics": {k: v for k, v in json.loads(record.card_json)["metrics"].items()
                                           if not isinstance(v, dict)}}
            service.active_scorer(db.session)  # load once, as a running server would have
            runs = []
            for _ in range(3):
                started = time.perf_counter()
                draft = service.plan_assignment(session=db.session, actor=None, params={})
                runs.append(time.perf_counter() - started)
            summary = json.loads(draft.summary_json)
            result["city_batch"] = {"end_to_end_s": [round(r, 2) for r in runs], "best_s": round(min(runs), 2),
                                    "target_s": 3, **summary}
        client = app.test_client()
        token = client.post("/api/v1/auth/tokens", json={"username": "cw330782001",
                                                           "password": "xintu-demo-2026"}).json["token"]
        headers = {"Authorization": f"Bearer {token}"}
        people = [c["id"] for c in client.get("/api/v1/candidates?status=active&page_size=50", headers=headers).json]
        samples = []
        for candidate_id in people * 2:
            started = time.perf_counter()
            response = client.get(f"/api/v1/candidates/{candidate_id}/recommendations?page_size=20", headers=headers)
            samples.append(time.perf_counter() - started)
            assert response.status_code == 200, response.json
        result["recommendations_api"] = summary_ms(samples)
        with app.app_context():
            db.engine.dispose()
    write_result("matching", result)


if __name__ == "__main__":
    main()
