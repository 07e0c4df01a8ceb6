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

# The examples in the docstrings are run too: they are the public functions' documentation.
DOCTESTS := --doctest-modules firmware_io acquisition dsp classifier calfwatch

test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 tests
	$(BIN)/python -m pytest -q $(DOCTESTS)

test-all: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 -m "" tests
	$(BIN)/python -m pytest -q $(DOCTESTS)

# Potentials recorded at the skin for benchmarks/bench_robustness.py: the sample recording in
# openhdemg's wheel (GPL-3.0), fetched from PyPI into bench-output/, never committed
# (tests/surface_averages.py). Without a network the benchmark leaves those rows out.
SURFACE_UNITS := bench-output/openhdemg/otb_testfile.mat
OPENHDEMG := openhdemg-0.1.2-py3-none-any.whl

$(SURFACE_UNITS): | $(STAMP)
	mkdir -p $(@D)
	$(BIN)/python -m pip download --quiet --no-deps --dest $(@D) openhdemg==0.1.2
	$(BIN)/python -m zipfile -e $(@D)/$(OPENHDEMG) $(@D)/wheel
	mv $(@D)/wheel/openhdemg/library/decomposed_test_files/otb_testfile.mat $@
	rm -rf $(@D)/wheel $(@D)/$(OPENHDEMG)

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	-$(MAKE) --no-print-directory $(SURFACE_UNITS)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

lint: $(STAMP)
	$(BIN)/ruff check firmware_io acquisition dsp classifier calfwatch tests benchmarks

clean:
	rm -rf $(VENV) demo-output bench-output .pytest_cache
