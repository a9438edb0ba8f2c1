PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test bench clean run translations

# Re-install only when the project's metadata changes.
$(STAMP): pyproject.toml setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python bench/formula_bench.py
	$(BIN)/python bench/ingest_bench.py
	$(BIN)/python bench/run_bench.py

# After changing user-visible text: extract it, merge it into the Chinese catalogue, translate the
# new entries in messages.po, then run this again to compile.
CATALOG := platform/perfrules/web/translations
translations: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output -o $(CATALOG)/messages.pot .
	test -f $(CATALOG)/zh/LC_MESSAGES/messages.po || $(BIN)/pybabel init -i $(CATALOG)/messages.pot -d $(CATALOG) -l zh
	$(BIN)/pybabel update -i $(CATALOG)/messages.pot -d $(CATALOG) -l zh --no-fuzzy-matching --ignore-obsolete
	$(BIN)/pybabel compile -d $(CATALOG) -l zh --statistics

clean:
	rm -rf $(VENV) build *.egg-info platform/*.egg-info plugins/*.egg-info .pytest_cache .hypothesis

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
	@echo
	@echo "  perfrules: http://$(HOST):$(PORT)/"
	@echo "  demo logins: admin, hr, and one per employee: e00001, e00002, … (roles listed above)"
	@echo "  password:    $(DEMO_PASSWORD)"
	@echo
	$(BIN)/perfrules serve --host $(HOST) --port $(PORT)
