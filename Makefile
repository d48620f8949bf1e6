# Accord: `make run` serves a demo node, `make test` runs the suite. Both need only python3.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run demo test lint bench install chromium bind9-utils screens clean messages

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@$(MAKE) --no-print-directory chromium
	@$(MAKE) --no-print-directory bind9-utils
	touch $(STAMP)

# The portal's browser tests (tests/web) and `make screens` drive Debian's Chromium through
# Playwright, which launches /usr/bin/chromium and never downloads a browser of its own (no
# `playwright install`). Installed here when missing; when that fails the browser tests skip
# and say why, the rest of the suite runs.
chromium:
	@command -v chromium >/dev/null || { \
	    sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	    echo "Installing Debian's chromium for the browser tests"; \
	    { $$sudo apt-get update -q && \
	      $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; } \
	    || echo "make: could not install Debian's chromium (apt-get failed); the browser" \
	        "tests (tests/web) will be skipped. Install it with: apt-get install chromium" >&2; }

# The RPZ export's test checks its zones with BIND's named-checkzone (Debian's bind9-utils),
# installed here when missing; without it that test skips and says why.
bind9-utils:
	@command -v named-checkzone >/dev/null || { \
	    sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	    echo "Installing Debian's bind9-utils for the RPZ export's test (named-checkzone)"; \
	    { $$sudo apt-get update -q && \
	      $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q bind9-utils; } \
	    || echo "make: could not install Debian's bind9-utils (apt-get failed); the RPZ" \
	        "zone check (tests/export) will be skipped. Install it with: apt-get install bind9-utils" >&2; }

install: $(STAMP)

DEMO_DB := sqlite:///var/demo.db
# The demo's made-up intelligence lives on documentation addresses (RFC 5737, RFC 3849), which
# the MISP warninglists rightly flag: `accord demo` leaves those two lists out as a setting of
# the node (`accord settings show`), so the command line and the server answer alike.

# A fresh demo node each time (so that its API keys can be printed), then serve it.
run: $(STAMP)
	rm -f var/demo.db var/demo.db-wal var/demo.db-shm
	$(BIN)/accord --db $(DEMO_DB) demo
	$(BIN)/accord --db $(DEMO_DB) serve --workers 2

demo: $(STAMP)
	$(BIN)/accord --db $(DEMO_DB) demo

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q

# tools/check_paths.py: the files, modules and principles named in docs and comments exist.
lint: $(STAMP)
	$(BIN)/ruff check src tests bench tools
	$(BIN)/ruff format --check src tests bench tools
	$(BIN)/mypy
	$(BIN)/mypy tools
	$(BIN)/lint-imports
	$(BIN)/python tools/check_paths.py

# The look-up benchmark runs on SQLite only here: loading 1,000,000 indicators into PostgreSQL
# takes over an hour on a 2-core machine; run `bench/lookup.py --postgres URL --indicators N`.
bench: $(STAMP)
	$(BIN)/python bench/ingest.py
	ACCORD_BENCH_DATABASE_URL= ACCORD_TEST_DATABASE_URL= $(BIN)/python bench/lookup.py --reuse var/bench-lookup
	$(BIN)/python bench/warninglists.py
	$(BIN)/python bench/extract.py
	$(BIN)/python bench/extract_eval.py --misses var/extract-misses.tsv
	$(BIN)/python bench/misp.py --skip-warninglists  # bench/warninglists.py ran above
	$(BIN)/python bench/correlation.py
	$(BIN)/python bench/taxii.py
	$(BIN)/python bench/federation.py  # ACCORD_BENCH_FEDERATION_MILLION=1: the 1,000,000 pull
	$(BIN)/python bench/patterns.py
	$(BIN)/python bench/match.py  # generates var/bench-match/ once (about 8 min), then reuses it

# A PNG of each page of the portal, at a desktop and a phone size, from a fresh demo node:
# var/screens/ (tools/screens.py, its PAGES list says which pages).
screens: $(STAMP)
	$(BIN)/python tools/screens.py

clean:
	rm -rf var/demo.db* var/screens.db* var/screens .pytest_cache .mypy_cache .ruff_cache

# The portal's strings: extract them from src/accord/web into the template catalogue and
# update each language's .po (translate the new entries, then commit the .po files).
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _ -k ngettext:1,2 --no-location --sort-output \
	  --project Accord -o src/accord/web/locale/messages.pot .
	$(BIN)/pybabel update -i src/accord/web/locale/messages.pot -d src/accord/web/locale \
	  --no-fuzzy-matching
