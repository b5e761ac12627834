#!/usr/bin/env bash
# The whole test suite: lint + import contract, pytest on SQLite (with the browser tests, marker `browser`),
# pytest on a fresh PostgreSQL database (without them, nor the page tests of tests/web: the pages are the same on
# either database; tests/conftest.py). The long property and fuzzing tests (marker `once_on_postgres`:
# schemathesis, the endpoint matrix, the disclosure canaries, the referral lifecycle's state machine) run once,
# on PostgreSQL, the production database.
# Screenshots of failed browser tests land in test-artifacts/screenshots/ (kept as CI artefacts).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
PGHOST_ADDR=${XINTU_TEST_PG_HOST:-127.0.0.1}
PGDB=${XINTU_TEST_PG_DATABASE:-xintu_test}
# Two workers (pytest-xdist), one per core, each with its own databases (tests/conftest.py, tests/redis_support.py);
# a test file stays on one worker, and the longest files go first (tests/conftest.py, LONG_FILES).
# XINTU_TEST_WORKERS=0 runs in this process.
WORKERS=${XINTU_TEST_WORKERS:-2}
PARALLEL=""
if [ "$WORKERS" != "0" ]; then PARALLEL="-n $WORKERS --dist loadfile --no-loadscope-reorder"; fi

echo "== lint, architecture contract, security scan"
$BIN/ruff check matcher tests bench scripts
$BIN/lint-imports
# bandit: no finding of medium or high severity in the application (migrations are generated DDL).
$BIN/bandit -q -r matcher -x matcher/migrations --severity-level medium
# pip-audit: known vulnerabilities in the installed packages; fails on one in a direct dependency, skipped (not
# failed) when the advisory service cannot be reached. Result in test-artifacts/pip-audit.json.
$BIN/python scripts/pip_audit.py

# Redis for the job-queue tests (tests/jobs use database 13 of 127.0.0.1:6379; they skip, saying why, without it).
# Started here, before the SQLite run, as PostgreSQL is below before its run. Pinged from Python: redis-cli (and
# redis-server) hang under libfaketime, which the suite must run under (README, Dates and times), so the server is
# started without it.
redis_up() { $BIN/python -c "import redis; redis.Redis('127.0.0.1', 6379, socket_timeout=2).ping()" >/dev/null 2>&1; }
if ! redis_up && command -v redis-server >/dev/null; then
  echo "Redis is down; starting it"
  mkdir -p /var/lib/redis /var/log/redis
  env -u LD_PRELOAD redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 1 30); do redis_up && break; sleep 1; done
fi

echo "== tests on SQLite (with the browser tests)"
# The page checks (tests/browser/test_pages_*.py) write a screenshot gallery of every page: test-artifacts/gallery/.
rm -rf test-artifacts/screenshots test-artifacts/gallery
XINTU_TEST_DATABASE_URL= $BIN/pytest $PARALLEL -m "not once_on_postgres" "$@"

if [ "${XINTU_SKIP_POSTGRES:-0}" = "1" ]; then
  echo "== PostgreSQL run skipped (XINTU_SKIP_POSTGRES=1)"; exit 0
fi

echo "== tests on PostgreSQL ($PGHOST_ADDR/$PGDB)"
if ! pg_isready -q -h "$PGHOST_ADDR"; then
  echo "PostgreSQL is down; starting it"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
  for _ in $(seq 1 30); do pg_isready -q -h "$PGHOST_ADDR" && break; sleep 1; done
fi
psql -q -h "$PGHOST_ADDR" -U postgres -d postgres -c "DROP DATABASE IF EXISTS $PGDB WITH (FORCE)" \
  -c "CREATE DATABASE $PGDB"
# Tests that reach no database (no `app` fixture: the engine, the clock ...) ran on SQLite and are left out
# here: pytest reports them as deselected (tests/conftest.py, pytest_collection_modifyitems).
echo "(tests that use no database ran on SQLite above; they are deselected here)"
XINTU_TEST_DATABASE_URL="postgresql+psycopg://postgres@$PGHOST_ADDR:5432/$PGDB" $BIN/pytest $PARALLEL -m "not browser" "$@"
