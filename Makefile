# Any Python 3.11 or newer on PATH (the first of these names that is new enough), unless
# PYTHON=/path/to/python is given.
PYTHON ?= $(shell for name in python3 python3.11 python3.12 python3.13 python3.14 python; do \
	command -v $$name >/dev/null 2>&1 && $$name -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
	&& { echo $$name; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The packages whose branch coverage may not fall below COVERAGE_MINIMUM per cent.
COVERAGE_GATED := formula engine workflow pay
COVERAGE_MINIMUM := 90

.PHONY: install lock lint test test-fast bench clean run translations

# Exact versions from requirements.lock (`make lock` refreshes it from pyproject.toml's ranges);
# re-installed only when the lock or the project's metadata changes.
$(STAMP): requirements.lock pyproject.toml setup.py
	@test -n "$(PYTHON)" || { echo "perfrules needs Python 3.11 or newer, and none was found on PATH" \
		"(looked for python3, python3.11 … python3.14, python): install one, or run make PYTHON=/path/to/python3.11"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

# The newest versions pyproject.toml's ranges allow, written to requirements.lock; commit it.
lock: $(STAMP)
	$(BIN)/pip-compile --quiet --upgrade --extra test --extra lint --strip-extras --no-emit-index-url \
		--no-emit-find-links -o requirements.lock pyproject.toml

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The whole suite on both databases and in the browser, across the cores, with branch coverage;
# fails when a gated package's coverage is below the minimum.
test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist load --cov --cov-report= $(PYTEST_ARGS)
	$(BIN)/coverage report
	@for package in $(COVERAGE_GATED); do \
		total=$$($(BIN)/coverage report --include="platform/perfrules/$$package/*" --format=total); \
		echo "perfrules.$$package: $$total % of branches and lines covered (at least $(COVERAGE_MINIMUM) %)"; \
		$(BIN)/coverage report --include="platform/perfrules/$$package/*" --fail-under=$(COVERAGE_MINIMUM) >/dev/null \
			|| { echo "perfrules.$$package is below $(COVERAGE_MINIMUM) %"; exit 1; }; \
	done

# The edit–test loop: SQLite only, no browser, no coverage.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist load --database=sqlite -m "not browser" $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python bench/formula_bench.py
	$(BIN)/python bench/ingest_bench.py
	$(BIN)/python bench/run_bench.py
	$(BIN)/python bench/pay_bench.py

# After changing user-visible text: extract it, merge it into the Chinese catalogue, translate the
# new entries in messages.po, then run this again to compile.
CATALOG := platform/perfrules/web/translations
translations: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output -o $(CATALOG)/messages.pot .
	test -f $(CATALOG)/zh/LC_MESSAGES/messages.po || $(BIN)/pybabel init -i $(CATALOG)/messages.pot -d $(CATALOG) -l zh
	$(BIN)/pybabel update -i $(CATALOG)/messages.pot -d $(CATALOG) -l zh --no-fuzzy-matching --ignore-obsolete
	$(BIN)/pybabel compile -d $(CATALOG) -l zh --statistics

clean:
	rm -rf $(VENV) build *.egg-info platform/*.egg-info plugins/*.egg-info .pytest_cache .hypothesis .coverage .coverage.* \
		.ruff_cache .mypy_cache

# The demo: upgrade the database, load the seed configuration and demo data (each skipped when
# already there), publish the configuration, evaluate the last complete month (monthly templates)
# and quarter (quarterly ones), and serve the web app.
DEMO_PASSWORD ?= perfrules-demo
DEMO_EMPLOYEES ?= 200
HOST ?= 127.0.0.1
PORT ?= 5000

run: $(STAMP)
	$(BIN)/perfrules db upgrade
	$(BIN)/perfrules config load seed_configs/config
	$(BIN)/perfrules config publish --if-changed -m "Seed configuration"
	$(BIN)/perfrules data demo --if-empty --employees $(DEMO_EMPLOYEES) --months 12 --seed 1 --password $(DEMO_PASSWORD)
	$(BIN)/perfrules run last-month
	$(BIN)/perfrules run last-quarter
	$(BIN)/perfrules pay run last-month
	@echo
	@echo "  perfrules: http://$(HOST):$(PORT)/"
	@echo "  demo logins: admin, hr, and one per employee: e00001, e00002, … (roles listed above)"
	@echo "  password:    $(DEMO_PASSWORD)"
	@echo
	$(BIN)/perfrules serve --host $(HOST) --port $(PORT)
