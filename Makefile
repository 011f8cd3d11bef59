# The two commands a newcomer needs: `make demo` and `make test`. Both set up .venv first.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Ralph, a real LRS for the xAPI client's tests, pins fastapi/uvicorn/click that clash with ours:
# it gets a virtualenv of its own.
RALPH_VENV := .venv-ralph
RALPH_STAMP := $(RALPH_VENV)/.installed
export COHORTLENS_HOME ?= $(CURDIR)/data

DEMO_LEARNERS ?= 2000
DEMO_SEED ?= 7
DEMO_WEEKS ?= 26
DEMO_PORT ?= 8501
# The demo cohort ends yesterday (UTC), so streaks and inactivity mean something today.
DEMO_UNTIL := $(shell date -u -d yesterday +%F)
DEMO_FIRST := $(shell date -u -d "$(DEMO_UNTIL) - $$(( $(DEMO_WEEKS) * 7 - 1 )) days" +%F)
# ... and starts on the Monday before, so the program's weeks are the warehouse's (ISO) weeks.
DEMO_START := $(shell date -u -d "$(DEMO_FIRST) - $$(( $$(date -u -d $(DEMO_FIRST) +%u) - 1 )) days" +%F)

.PHONY: help setup test test-slow test-fast demo bench lint format lock clean

help:
	@echo "make demo   - set up, generate the sample cohort, load it through Dagster, serve"
	@echo "make test   - set up, lint, run the tests not marked slow (a few minutes)"
	@echo "make test-slow - the heavy tests (CI runs them after make test)"
	@echo "make test-fast - the tests not marked slow (the inner loop)"
	@echo "make bench  - run the benchmarks (ratios against in-run baselines)"
	@echo "make lint   - ruff and sqlfluff"

setup: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check pip==26.3
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[dev]'
	@touch $(STAMP)

$(RALPH_STAMP): tests/lrs/requirements-ralph.txt
	@test -x $(RALPH_VENV)/bin/python || $(PYTHON) -m venv $(RALPH_VENV)
	$(RALPH_VENV)/bin/python -m pip install --quiet --disable-pip-version-check pip==26.3
	$(RALPH_VENV)/bin/python -m pip install --quiet --disable-pip-version-check \
		-r tests/lrs/requirements-ralph.txt
	@touch $(RALPH_STAMP)

# Debian's Chromium for the dashboards' end-to-end browser test (Playwright drives it).
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends chromium >/dev/null

# Lint, then every test not marked slow: a few minutes. CI (.ci/run) runs test-slow after it.
test: $(STAMP) $(RALPH_STAMP) $(CHROMIUM)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint dbt
	$(BIN)/python -m pytest -n auto --dist worksteal -m "not slow"

# The heavy tests: kill -9 mid-run, full rebuilds, as-of replays, a thousand publications.
test-slow: $(STAMP) $(RALPH_STAMP) $(CHROMIUM)
	$(BIN)/python -m pytest -n auto --dist worksteal -m slow

# The inner loop: no lint, no test marked slow.
test-fast: $(STAMP) $(RALPH_STAMP) $(CHROMIUM)
	$(BIN)/python -m pytest -n auto --dist worksteal -m "not slow"

# A fresh sample cohort replaces the old one, and so does the warehouse loaded from it.
demo: $(STAMP)
	rm -rf "$(COHORTLENS_HOME)/landing" "$(COHORTLENS_HOME)/truth" \
		"$(COHORTLENS_HOME)"/warehouse.duckdb*
	$(BIN)/cohortlens generate --learners $(DEMO_LEARNERS) --seed $(DEMO_SEED) \
		--start-date $(DEMO_START) --until $(DEMO_UNTIL)
	$(BIN)/cohortlens run
	$(BIN)/cohortlens users demo
	@echo "Dashboards: http://localhost:$(DEMO_PORT)  (Ctrl-C stops them)"
	$(BIN)/streamlit run dashboards/streamlit_app.py --server.headless true \
		--server.port $(DEMO_PORT) --browser.gatherUsageStats false

bench: $(STAMP)
	$(BIN)/python -m benchmarks

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint dbt

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Re-resolve every pin from pyproject.toml's direct pins into requirements.lock.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet pip==26.3 && .lock-venv/bin/pip install --quiet -e '.[dev]'
	{ head -2 requirements.lock; .lock-venv/bin/pip freeze --exclude-editable | grep -v -i -E '^(pip|setuptools|wheel)=='; } > requirements.lock.new
	mv requirements.lock.new requirements.lock && rm -rf .lock-venv

clean:
	rm -rf $(VENV) $(RALPH_VENV) .pytest_cache .ruff_cache
