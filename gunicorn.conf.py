"""gunicorn settings for Xintu: `gunicorn -c gunicorn.conf.py "matcher:create_app()"`.

Environment (all optional):
  XINTU_BIND            address to listen on (127.0.0.1:8000; behind a reverse proxy that terminates TLS)
  XINTU_WORKERS         worker processes (2 x CPUs + 1, at most 8)
  XINTU_THREADS         threads per worker (1: sync workers; more: gthread)
  XINTU_PRELOAD         load the app once in the master, then fork (1)
  XINTU_TIMEOUT         seconds before a silent worker is restarted (60)
  XINTU_LOG_FORMAT      json (the default here) or text
  PROMETHEUS_MULTIPROC_DIR  where workers keep their metrics (made under /tmp when unset; emptied at start)

The app writes its own access line (matcher.ops.logs), so gunicorn's access log is off; gunicorn's own
messages (boot, worker exits) go to stderr, as JSON when XINTU_LOG_FORMAT is json.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import tempfile
from pathlib import Path

os.environ.setdefault("XINTU_LOG_FORMAT", "json")  # production: one JSON object per line

bind = os.environ.get("XINTU_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("XINTU_WORKERS") or min(2 * multiprocessing.cpu_count() + 1, 8))
threads = int(os.environ.get("XINTU_THREADS") or 1)
worker_class = "gthread" if threads > 1 else "sync"
# Load the app once in the master and fork it: workers are ready at once and share the libraries' memory
# (create_app freezes its long-lived objects out of the collector's sight for this). post_fork drops any
# database connection a worker would otherwise inherit. XINTU_PRELOAD=0 loads the app in every worker.
preload_app = os.environ.get("XINTU_PRELOAD", "1").strip().lower() not in ("0", "false", "no", "off")
timeout = int(os.environ.get("XINTU_TIMEOUT") or 60)
graceful_timeout = 30
keepalive = 5
max_requests = int(os.environ.get("XINTU_MAX_REQUESTS") or 0)  # 0: never recycle a worker
max_requests_jitter = max_requests // 10
# Workers' heartbeat files in memory, not on a disk that may stall (or be a slow overlay in a container).
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
accesslog = None  # the application logs one structured line per request itself
errorlog = "-"
loglevel = os.environ.get("XINTU_GUNICORN_LOG_LEVEL", "info")
proc_name = "xintu"
forwarded_allow_ips = os.environ.get("XINTU_FORWARDED_ALLOW_IPS", "127.0.0.1")

if os.environ["XINTU_LOG_FORMAT"].lower() == "json":
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "pythonjsonlogger.json.JsonFormatter",
                                "fmt": "%(levelname)s %(name)s %(message)s",
                                "rename_fields": {"levelname": "level", "name": "logger"},
                                "timestamp": "time"}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json",
                                "stream": "ext://sys.stderr"}},
        "loggers": {"gunicorn.error": {"level": loglevel.upper(), "handlers": ["stderr"], "propagate": False},
                    "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": False}},
        "root": {"level": "WARNING", "handlers": []},  # the app installs its own handler on the root
    }

# Prometheus multiprocess mode: every worker writes its values to files in this directory and any worker's
# /metrics adds them up. It must be set, and emptied (files of an earlier run would be added in), before the
# app imports prometheus_client: here, in the master, before it loads the app (preload_app) or forks.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="xintu-prometheus-")
_metrics_dir = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
_metrics_dir.mkdir(parents=True, exist_ok=True)
for _entry in _metrics_dir.iterdir():
    if _entry.is_dir():
        shutil.rmtree(_entry)
    else:
        _entry.unlink()


def when_ready(server) -> None:
    """The scoring engine (scikit-learn, skops: seconds and ~150 MB) is imported lazily by the app, so that the
    command line and import jobs never pay for it. A web server does score: import it here, in the master, once,
    so that with preload_app the workers share it and a worker's first recommendations page does not wait."""
    if preload_app:
        import matcher.engine.artifacts  # noqa: F401  (loads matcher.engine.model and scikit-learn)


def post_fork(server, worker) -> None:
    """A forked worker must not share the master's database connections (there should be none: create_app
    does not query; this makes sure)."""
    if not preload_app:
        return
    from matcher.extensions import db

    app = server.app.wsgi()
    with app.app_context():
        db.engine.dispose(close=False)


def child_exit(server, worker) -> None:
    """A worker is gone: its live gauges (requests in flight) stop counting."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
