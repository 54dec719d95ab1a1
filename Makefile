# The README names these targets. Both `demo` and `test` create the virtual environment
# and install what they need on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: demo test test-faults lint format bench clean

$(VENV)/.runtime: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

demo: $(VENV)/.runtime
	$(PY) -m voiceops.demo

test: $(VENV)/.dev lint
	$(PY) -m pytest
	$(MAKE) test-faults

# The fault suite stops and restarts PostgreSQL and Redis, so it starts private servers of
# its own (tests/faults/services.py) in a second pytest run.
test-faults: $(VENV)/.dev
	$(PY) -m pytest -p tests.faults.services tests/faults

lint: $(VENV)/.dev
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	DEBUG=1 $(PY) manage.py makemigrations --check --dry-run

format: $(VENV)/.dev
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

bench: $(VENV)/.dev
	$(PY) -m bench

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .hypothesis
