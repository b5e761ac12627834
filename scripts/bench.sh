#!/usr/bin/env bash
# Run the benchmarks; each prints its figures and writes them to bench/results/.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python -m bench.bench_foundation "$@"
.venv/bin/python -m bench.bench_scoring
.venv/bin/python -m bench.bench_assignment
.venv/bin/python -m bench.bench_evaluation  # the replay's valuation of plans against simulated truth
.venv/bin/python -m bench.bench_province
.venv/bin/python -m bench.bench_matching
.venv/bin/python -m bench.bench_pages
.venv/bin/python -m bench.bench_fair
.venv/bin/python -m bench.bench_fair_service
.venv/bin/python -m bench.bench_reports
.venv/bin/python -m bench.bench_races
.venv/bin/python -m bench.bench_load  # gunicorn + PostgreSQL (xintu_load) under 200 locust users
