# Two commands matter: `make demo` and `make test`. Both create .venv and install on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?=
# A second virtualenv with pyspark 3.5.x (EMR 7.x runs Spark 3.5): `make test` also runs the tests
# marked `spark35` there. streamlab is installed without its `spark` extra (which pins 4.x).
VENV35      := .venv-spark35
STAMP35     := $(VENV35)/.installed
PYSPARK35   ?= pyspark>=3.5,<3.6
PYTEST35_ARGS ?=
# What each venv installs. pyproject.toml keeps ranges (for users); the venvs install exactly the
# tested set, pinned in a lock file per venv (pyspark differs between them), which
# `make upgrade-deps` regenerates from these same lists.
REQS      := -e ".[all,dev]"
LOCK      := constraints.txt
REQS35    := "$(PYSPARK35)" "pyarrow>=15" "pandas<3" -e ".[local,dev]"
LOCK35    := constraints-spark35.txt
# setuptools' build of the editable install prints an informational "Editable installation ...
# folders with the same name as your package" block even under pip -q; only that one is muted.
PIP_QUIET := PYTHONWARNINGS="ignore:Editable installation"

.PHONY: install install-spark35 upgrade-deps demo test test-spark35 bench lint clean

install: $(STAMP)

$(STAMP): pyproject.toml $(LOCK)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --upgrade pip
	$(PIP_QUIET) $(BIN)/python -m pip install -q -c $(LOCK) $(REQS)
	@# Spark's classes archived for a JVM start in half the time (streamlab/spark/jvm_cache.py, ~1 min, once)
	@$(BIN)/python -m streamlab.spark.jvm_cache 2>/dev/null || echo "no Spark class archive made (streamlab makes it on its first Spark run)"
	@touch $(STAMP)

install-spark35: $(STAMP35)

$(STAMP35): pyproject.toml $(LOCK35)
	@test -x $(VENV35)/bin/python || $(PYTHON) -m venv $(VENV35)
	@$(VENV35)/bin/python -m pip install -q --upgrade pip
	$(PIP_QUIET) $(VENV35)/bin/python -m pip install -q -c $(LOCK35) $(REQS35)
	@$(VENV35)/bin/python -c "import pyspark, sys; v = pyspark.__version__; print('pyspark', v, 'in $(VENV35)'); sys.exit(not v.startswith('3.5.'))"
	@touch $(STAMP35)

# Newest versions the ranges allow, each lock resolved in a fresh temporary venv; then `make test`
# reinstalls both venvs from the new locks (their stamps depend on them) and tests that set.
upgrade-deps:
	@PYTHON=$(PYTHON) scripts/upgrade_deps.sh $(LOCK) $(REQS)
	@PYTHON=$(PYTHON) scripts/upgrade_deps.sh $(LOCK35) $(REQS35)

demo: install
	$(BIN)/streamlab demo

# pytest exits 5 when it collected no test: treat that as a failure, never a pass (both runs).
test: install
	@if [ "$$(id -u)" = 0 ] && ! command -v chromium >/dev/null; then echo "installing Debian's chromium for the browser tests (apt-get, ~95 s)"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; fi
	@$(BIN)/python -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing on purpose"; exit 1; fi; \
	if [ $$rc -ne 0 ]; then exit $$rc; fi
	@$(MAKE) --no-print-directory test-spark35

# Only the files that mark tests spark35 are collected: other test modules may import Spark 4-only
# APIs (pyspark.sql.datasource) at the top, which is fine for them but cannot load under 3.5.
test-spark35: install-spark35
	@files=$$(grep -lE 'mark\.spark35' tests/test_*.py); \
	if [ -z "$$files" ]; then echo "no test is marked spark35: failing on purpose"; exit 1; fi; \
	echo "== the spark35 tests under $$($(VENV35)/bin/python -c 'import pyspark; print("pyspark", pyspark.__version__)')"; \
	$(VENV35)/bin/python -m pytest -m spark35 $(PYTEST35_ARGS) $$files; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no spark35 tests: failing on purpose"; exit 1; fi; exit $$rc

bench: install
	@for b in benchmarks/[!_]*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

lint: install
	$(BIN)/python -m compileall -q streamlab tests benchmarks

clean:
	rm -rf $(VENV) $(VENV35) .pytest_cache build *.egg-info streamlab-output .streamlab
