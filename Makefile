# Two commands a newcomer needs: `make demo` and `make test`. Both build .venv first.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

export DBT_SEND_ANONYMOUS_USAGE_STATS := false

.PHONY: setup manifest demo test lint dev bench clean browser

setup: $(INSTALLED) manifest

$(INSTALLED): pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null || { echo "needs $(PYTHON) on PATH (or make PYTHON=/path/to/python3.11)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $@

# dagster-dbt loads dbt's manifest when the code location is imported: `dbt parse` when the
# project's files differ from those it was parsed from (pipelines/dbt_manifest.py).
manifest: $(INSTALLED)
	$(BIN)/python -c "from pipelines.dbt_manifest import ensure_manifest; ensure_manifest()"

demo: setup
	$(BIN)/batchtrack demo

# Headless Chromium for the dashboard tests, from Debian's packages (CI runs as root).
browser:
	@command -v chromium >/dev/null || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
		else sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; fi; }

# Two workers, each given whole test files (their module fixtures build a warehouse once).
TEST_WORKERS ?= 2

test: setup lint browser
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile; status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests: that is a failure"; exit 1; fi; \
	exit $$status

# Benchmarks on generated `large` data (cached in benchmarks/cache/); not part of `make test`.
# Pass options with BENCH_ARGS, e.g. make bench BENCH_ARGS="--skip-postgres --scale medium --days 30".
bench: setup
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	cd dbt_project && ../$(BIN)/sqlfluff lint models macros --processes 2

dev: setup
	PATH="$(CURDIR)/$(BIN):$$PATH" DAGSTER_HOME=$(CURDIR) $(BIN)/dagster dev --host 127.0.0.1 --port 3000 -m pipelines.definitions

clean:
	rm -rf data output .dagster dbt_project/target dbt_project/logs
