# The two commands: `make run` (the service on SQLite with the demo city) and `make test` (every test).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 5000
export FLASK_APP := matcher

.PHONY: run test install lint clean-db bench translations

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

## Run the service on an embedded SQLite file (instance/xintu.db) with the demo city.
run: $(STAMP)
	$(BIN)/flask db upgrade
	$(BIN)/flask seed reference
	$(BIN)/flask seed demo --if-empty
	$(BIN)/flask model train --if-none
	XINTU_INSECURE_COOKIES=1 $(BIN)/flask run --host $(HOST) --port $(PORT)  # plain http on this machine: cookies without Secure

## Run every test: lint and architecture contract, then the suite on SQLite and on PostgreSQL.
test: $(STAMP)
	bash scripts/test.sh

lint: $(STAMP)
	$(BIN)/ruff check matcher tests bench scripts
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/pip install --quiet -e ".[test,bench]"  # locust, for bench_load
	bash scripts/bench.sh

## Messages: extract them from the code and templates, add the new ones to the Chinese catalogue, compile it.
## Then write the Chinese of every new (empty) msgstr in messages.po and run it again to compile.
POT := matcher/translations/messages.pot
translations: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k N_ --no-location --sort-output --no-wrap \
		--project Xintu --copyright-holder "Xintu" -o $(POT) matcher
	$(BIN)/pybabel update -i $(POT) -d matcher/translations -l zh --no-fuzzy-matching --no-wrap
	$(BIN)/pybabel compile -d matcher/translations -l zh --statistics

clean-db:
	rm -f instance/xintu.db instance/xintu.db-wal instance/xintu.db-shm
