# Two commands do all the set-up on a fresh machine:
#   make demo   tunes LeNet on the digits with rung.torch (ASHA, 2 workers, live progress)
#   make test   runs the product's test suite (tests/)
# Others: make bench-test (the benchmark harness's tests), make typecheck (mypy on the
# package), make bench-smoke (a small benchmark comparison), make bench-overhead.
#
# Each target installs only the extra it needs (see pyproject.toml), into one venv, with a
# stamp file per extra: `make demo` on a fresh clone does not install the test stack and
# `make test` does not install the benchmark stack. A stamp is redone when pyproject.toml
# changes.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

WHAT_demo := CPU-only torch, scikit-learn, matplotlib and the dashboard (Starlette, uvicorn, plotly) for the demo
WHAT_test := pytest, hypothesis, matplotlib, psycopg and CPU-only torch for the product tests
WHAT_bench := Optuna, Syne Tune, BoTorch, cmaes, mnist1d and scikit-learn for the benchmark harness
WHAT_browser := Selenium for the dashboard's browser tests
WHAT_cluster-test := Ray and psutil for the cluster backend's tests
WHAT_typecheck := mypy, pandas and PyYAML stubs, matplotlib and CPU-only torch for type checking

.PHONY: demo test chaos test-browser test-cluster bench-test typecheck bench-overhead bench-smoke clean browser-system

$(BIN)/python:
	@echo "Creating the virtual environment $(VENV) and upgrading pip"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip

$(VENV)/.installed-%: pyproject.toml | $(BIN)/python
	@echo "Installing rung (editable) with its core dependencies, plus $(WHAT_$*) ('.[$*]')"
	$(BIN)/python -m pip install -e '.[$*]'
	touch $@

demo: $(VENV)/.installed-demo
	$(BIN)/python examples/demo.py

# Two pytest-xdist workers sharing out the tests one at a time;
# each worker has its own PostgreSQL database (tests/conftest.py).
test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -q tests --ignore=tests/slow -n 2 --dist load

# The slow suites, each from its own command (.ci/run calls all three).
# chaos: SIGKILLs of the tuner at random and at chosen moments, concurrent processes on one store.
chaos: $(VENV)/.installed-test
	$(BIN)/python -m pytest -q tests/slow/chaos

# The dashboard in a real browser: Debian's chromium and chromium-driver (installed here when
# missing; apt-get needs root) driven by Selenium.
test-browser: $(VENV)/.installed-test $(VENV)/.installed-browser browser-system
	$(BIN)/python -m pytest -q tests/slow/browser

browser-system:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then \
		echo "chromium and chromedriver are installed"; \
	else \
		echo "Installing Debian's chromium and chromium-driver for the browser tests"; \
		apt-get update && apt-get install -y chromium chromium-driver; \
	fi

# A real multi-node Ray cluster on this machine (ray.cluster_utils.Cluster).
test-cluster: $(VENV)/.installed-test $(VENV)/.installed-cluster-test
	$(BIN)/python -m pytest -q tests/slow/cluster

# The benchmark harness's own tests: not part of `make test`, since they need the peers.
bench-test: $(VENV)/.installed-test $(VENV)/.installed-bench
	$(BIN)/python -m pytest -q benchmarks/tests

typecheck: $(VENV)/.installed-typecheck
	$(BIN)/python -m mypy

bench-overhead: $(VENV)/.installed-bench
	$(BIN)/python benchmarks/overhead.py

# Benchmark harness smoke check (issue 5): tiny budgets, a few problems and methods, 2 seeds,
# the peers (Optuna, Syne Tune, scikit-learn) side by side; prints the comparison table.
bench-smoke: $(VENV)/.installed-bench
	$(BIN)/python -m benchmarks smoke

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis .mypy_cache
