# Two commands a new user needs: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | cksum | cut -d' ' -f1)
NETWORK ?= builtin:anyang
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test browser bench lock clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "gridcap needs Python >= 3.11"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml constraints.txt
	rm -f $(VENV)/.installed-*
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $@

run: $(STAMP)
	$(BIN)/gridcap serve --network $(NETWORK) --host $(HOST) --port $(PORT)

# The page test drives Debian's Chromium (never a downloaded browser); CJK fonts so the
# Chinese page renders in its screenshot.
browser:
	@if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi "noto sans cjk"; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get install -y -q chromium fonts-noto-cjk >/dev/null 2>&1 || \
	    { apt-get update -q >/dev/null && apt-get install -y -q chromium fonts-noto-cjk >/dev/null; }; \
	  else echo "note: Debian chromium is not installed; the browser test will be skipped"; fi; \
	fi

test: $(STAMP) browser
	$(BIN)/ruff check grid_models capacity scheme_generator api tests bench examples
	$(BIN)/ruff format --check grid_models capacity scheme_generator api tests bench examples
	$(BIN)/mypy
	$(BIN)/pytest -q

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test,bench]'
	$(BIN)/python bench/bench_grid_models.py
	$(BIN)/python -W ignore bench/bench_capacity.py
	$(BIN)/python -W ignore bench/bench_schemes.py
	$(BIN)/python -W ignore bench/bench_service.py single
	$(BIN)/python -W ignore bench/bench_service.py open
	$(BIN)/python -W ignore bench/bench_service.py open --database postgresql --workers 2
	$(BIN)/python -W ignore bench/bench_service.py closed --clients 50
	$(BIN)/python -W ignore bench/bench_service.py province
	$(BIN)/python -W ignore bench/bench_fuzz.py
	$(BIN)/python -W ignore bench/bench_hostile.py
	$(BIN)/python -W ignore bench/bench_faults.py
	$(BIN)/python -W ignore bench/bench_scaleout.py

# Refresh the constraints (lock) file from a clean environment.
lock:
	rm -rf .lockenv && $(PYTHON) -m venv .lockenv
	.lockenv/bin/pip install --quiet --upgrade pip
	.lockenv/bin/pip install --quiet -e '.[test,bench]'
	.lockenv/bin/pip freeze --exclude-editable | grep -v '^-e' > constraints.txt
	rm -rf .lockenv

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
