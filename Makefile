# Two commands on a fresh machine with only python3:  make demo  /  make test
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

LOCK := requirements-lock.txt

.PHONY: demo test lint bench lock clean

# The exact versions of requirements-lock.txt (every extra, the server's included: make demo runs a local town
# server), then this checkout itself; `pip check` fails when pyproject.toml asks for something the lock lacks
# (run `make lock`)
$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --no-deps -r $(LOCK) -e .
	$(BIN)/pip check
	touch $(STAMP)

# Re-resolve the lock from pyproject.toml with all extras; keeps existing pins that still fit
# (`make lock LOCK_FLAGS=--upgrade` moves everything to the newest allowed)
lock:
	test -x $(BIN)/pip || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -c $(LOCK) pip-tools
	CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile --quiet --all-extras --strip-extras --no-emit-index-url --no-emit-find-links --allow-unsafe $(LOCK_FLAGS) \
		-o $(LOCK) pyproject.toml
	sed -i '/^field-agent @ /d' $(LOCK)  # dev asks for field-agent[server]: the checkout itself is installed with -e

demo: $(STAMP)
	$(BIN)/field-agent demo

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	rm -f .coverage .coverage.*
	$(BIN)/pytest -n 2 --dist loadgroup --cov --cov-report=term:skip-covered

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/store.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info .coverage .coverage.*
