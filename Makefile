# Two commands do all the set-up on a fresh machine:
#   make demo   tunes a real model (scikit-learn data, 2 workers, live progress)
#   make test   runs the test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench-overhead bench-smoke clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python examples/demo.py

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench-overhead: $(STAMP)
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python benchmarks/overhead.py

# Benchmark harness smoke check (issue 5): tiny budgets, a few problems and methods, 2 seeds,
# the peers (Optuna, Syne Tune, scikit-learn) side by side; prints the comparison table.
bench-smoke: $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	$(BIN)/python -m benchmarks smoke

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
