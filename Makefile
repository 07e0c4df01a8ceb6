# calfwatch: every target creates .venv when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PYTHONDONTWRITEBYTECODE := 1
export MPLBACKEND := Agg

.PHONY: demo test test-all bench lint venv clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m dsp.warmup
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m dsp.warmup --if-cold
	$(BIN)/calfwatch demo --out demo-output

test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 tests

test-all: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 -m "" tests

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

lint: $(STAMP)
	$(BIN)/ruff check firmware_io acquisition dsp classifier calfwatch tests benchmarks

clean:
	rm -rf $(VENV) demo-output bench-output .pytest_cache
