"""GET /metrics: request metrics and domain gauges, for loopback callers or the bearer token only."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

HEALTHZ = 'xintu_http_requests_total{endpoint="/healthz",method="GET",status="200"}'
ROOT = Path(__file__).resolve().parents[2]


def _count(text: str, series: str) -> float:
    found = re.search(re.escape(series) + r" ([0-9.e+]+)", text)
    return float(found.group(1)) if found else 0.0


def test_metrics_count_requests_by_rule_method_and_status(client, world):
    before = _count(client.get("/metrics").get_data(as_text=True), HEALTHZ)
    client.get("/healthz")
    client.get("/healthz?q=anything")
    candidate = f"/api/v1/candidates/{world.cand_a.id}"
    assert client.get(candidate, headers=world.h("cw_a")).status_code == 200
    client.get("/no/such/page/110101199001011234")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    assert response.headers["Cache-Control"] == "no-store"
    text = response.get_data(as_text=True)
    assert _count(text, HEALTHZ) == before + 2
    assert _count(text, 'xintu_http_requests_total{endpoint="/api/v1/candidates/<id:candidate_id>",'
                        'method="GET",status="200"}') >= 1
    buckets = re.findall(r'xintu_http_request_duration_seconds_bucket\{([^}]*)\}', text)
    assert any('endpoint="/healthz"' in labels and 'le="0.005"' in labels and 'status="200"' in labels
               for labels in buckets)
    assert 'endpoint="<unmatched>"' in text and "110101199001011234" not in text
    assert "xintu_http_requests_in_flight 1.0" in text  # the scrape itself
    for gauge in ('xintu_jobs{status="queued"} 0.0', "xintu_follow_up_tasks_overdue 0.0",
                  "xintu_notifications_unread", "xintu_scoring_model_active 0.0"):
        assert gauge in text


def test_metrics_refused_from_elsewhere_and_through_a_proxy(client):
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 404
    assert client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 404
    refused = client.get("/metrics", environ_base={"REMOTE_ADDR": "10.0.0.5"})
    assert refused.status_code == 404 and b"xintu_" not in refused.data
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200


def test_metrics_token_replaces_the_loopback_rule(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", "scrape-me-7c1d")
    assert client.get("/metrics").status_code == 404  # loopback alone is no longer enough
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 404
    remote = {"REMOTE_ADDR": "203.0.113.9"}
    good = client.get("/metrics", headers={"Authorization": "Bearer scrape-me-7c1d"}, environ_base=remote)
    assert good.status_code == 200 and b"xintu_http_requests_total" in good.data


def test_token_from_the_environment(client, monkeypatch):
    monkeypatch.setenv("XINTU_METRICS_TOKEN", "from-env")
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer from-env"}).status_code == 200


def test_multiprocess_mode_adds_up_every_process(tmp_path):
    """Two processes (as two gunicorn workers) write to PROMETHEUS_MULTIPROC_DIR; either one's /metrics
    answers for both."""
    script = textwrap.dedent(f"""
        import sys
        from matcher import create_app
        app = create_app({{"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite:///{tmp_path}/m.db",
                           "MODELS_DIR": "{tmp_path}"}})
        from matcher.extensions import db
        with app.app_context():
            db.create_all()
        client = app.test_client()
        for _ in range(int(sys.argv[1])):
            client.get("/healthz")
        if sys.argv[2] == "scrape":
            sys.stdout.write(client.get("/metrics").get_data(as_text=True))
    """)
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prom")}
    (tmp_path / "prom").mkdir()
    # No timeout: waiting with one polls with time.sleep, which libfaketime breaks (README, Dates and times).
    subprocess.run([sys.executable, "-c", script, "3", "quiet"], env=env, cwd=ROOT, check=True)
    scraped = subprocess.run([sys.executable, "-c", script, "2", "scrape"], env=env, cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout
    assert _count(scraped, HEALTHZ) == 5.0
    assert "xintu_notifications_unread 0.0" in scraped
    assert list((tmp_path / "prom").glob("counter_*.db"))
