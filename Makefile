VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup run test lint bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: setup
	$(VENV)/bin/allocator plan data/bergen --out out/bergen --time-limit 60
	@echo "Results are in out/bergen (bookings.csv, stays.csv, summary.json, calendar.xlsx)"

test: setup
	$(VENV)/bin/pytest

lint: setup
	$(VENV)/bin/ruff check allocator models tests bench
	$(VENV)/bin/ruff format --check allocator models tests bench
	$(VENV)/bin/mypy allocator models

bench: setup
	$(PY) bench/run.py
	$(PY) bench/acute.py

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
