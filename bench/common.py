"""Shared bench helpers: a fresh database with the demo city, timing, and writing the figures."""

from __future__ import annotations

import json
import platform
import statistics
import time
from pathlib import Path

from sqlalchemy import create_engine, make_url, text

RESULTS = Path(__file__).parent / "results"


def fresh_database(url: str, tmp_dir: Path) -> str:
    """An empty database at `url` (a PostgreSQL URL) or a new SQLite file in tmp_dir (url == 'sqlite')."""
    if url == "sqlite":
        path = tmp_dir / "bench.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()
    return url


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def summary_ms(samples_s: list[float]) -> dict:
    ms = [s * 1000 for s in samples_s]
    return {"n": len(ms), "p50_ms": round(statistics.median(ms), 2), "p95_ms": round(percentile(ms, 95), 2),
            "max_ms": round(max(ms), 2)}


def write_result(name: str, payload: dict) -> None:
    RESULTS.mkdir(exist_ok=True)
    payload = {"bench": name, "machine": f"{platform.machine()} {platform.python_version()}",
               "at": time.strftime("%Y-%m-%d %H:%M:%S"), **payload}
    (RESULTS / f"{name}.json").write_text(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
    print(json.dumps(payload, ensure_ascii=False, indent=2))
