# The two commands of the README: `make demo` and `make test`. Each sets up .venv when needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test setup lint bench clean

$(STAMP): pyproject.toml Makefile labextension/package.json
	sh scripts/ensure_chromium.sh
	sh scripts/ensure_java.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,dask,spark,spark-connect]"
	# smclarify is a test-only reference; its metrics need only pyfunctional (in [test]), while its
	# declared dependencies (boto3, s3fs, pyarrow) serve S3 loading we never use.
	$(BIN)/python -m pip install --quiet --no-deps "smclarify==0.5"
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/python scripts/demo.py --out out

# The Spark cases of the engine suites run a second time, on a Spark Connect session, in a
# process of their own: PySpark refuses a Connect session while a classic one runs.
test: $(STAMP)
	$(BIN)/ruff check rai_nb tests benchmarks scripts labextension/test
	$(BIN)/python -m pytest -q
	RAI_NB_SPARK_CONNECT=1 $(BIN)/python -m pytest -q -k spark tests/test_engines.py tests/test_engine_bias_slices.py

bench: $(STAMP)
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) out dist build .pytest_cache .hypothesis rai_nb/labextension
