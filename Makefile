# Two commands do all setup on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# pytest-xdist workers; `make test TEST_WORKERS=0` runs in one process (easier to debug).
TEST_WORKERS ?= 4

.PHONY: install run test test-fast lint lint-js audit format bench bench-recovery bench-browser screenshot clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $(STAMP)

run: install
	$(BIN)/python app.py $(ARGS)

test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(MAKE) --no-print-directory lint-js
	$(BIN)/bandit -q -r presence_dash -ll
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) $(PYTEST_ARGS)

test-fast: install
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) -m "not browser" $(PYTEST_ARGS)

# The schemathesis run of `make test` (300 examples) at length: FUZZ_EXAMPLES per run, half
# on SQLite and half on PostgreSQL, the same fixed seed every time; then the tests marked
# `slow` (SLOW_TESTS=1: SIGTERM in 20 demo starts in a row, about 90 s).
FUZZ_EXAMPLES ?= 4000
.PHONY: fuzz
fuzz: install
	SCHEMATHESIS_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest -q tests/test_schemathesis.py $(PYTEST_ARGS)
	SLOW_TESTS=1 $(BIN)/python -m pytest -q -m slow $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(MAKE) --no-print-directory lint-js

# The browser floor (Chromium 69, Safari 14: docs/accessibility.md): eslint (es-x, compat) on
# static/js and stylelint (doiuse) on static/css, from package-lock.json. node_modules also
# holds axe-core for tests/browser/test_accessibility.py.
NODE_STAMP := node_modules/.package-lock.json
lint-js: $(NODE_STAMP)
	npx --no-install eslint --max-warnings 0 static/js
	npx --no-install stylelint --max-warnings 0 'static/css/**/*.css'

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

# Static security checks (bandit, medium severity and up) and known-vulnerable dependencies
# (pip-audit; needs the PyPI/OSV vulnerability service, see scripts/audit_dependencies.sh).
audit: install
	$(BIN)/bandit -q -r presence_dash -ll
	bash scripts/audit_dependencies.sh $(BIN)

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Change -> browser latency with 5,000 people and 1,000 clients (docs/benchmarks.md); ARGS e.g.
# --smoke, --reference, or --modes eventlet,cluster2 (one node beside one worker + two web
# nodes on the machine's Redis, issue 14).
bench: install
	$(BIN)/python benchmarks/fanout.py $(ARGS)

# Time from a vendor answering again to the right dots, per provider and fault kind
# (docs/reliability.md); ARGS=--quick for one repetition.
bench-recovery: install
	$(BIN)/python benchmarks/recovery.py $(ARGS)

# The wall at 5,000 people in headless Chromium: first render, frame times and long tasks
# under 500 changes/s (docs/benchmarks.md "Browser").
bench-browser: install
	$(BIN)/python benchmarks/bench_browser.py $(ARGS)

# The README's demo pictures, then the 5,000-person floor: the wall at 1920x1080 and 1280x720,
# the agent view at 1440x900 and 390 px (docs/img; docs/accessibility.md shows them).
screenshot: install
	$(BIN)/python scripts/screenshot_wall.py docs/img
	$(BIN)/python scripts/screenshot_wall.py --floor docs/img

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache node_modules
