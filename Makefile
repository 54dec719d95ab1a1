# The README names these targets. Both `demo` and `test` create the virtual environment
# and install what they need on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: demo test test-suite test-faults lint format bench clean

$(VENV)/.runtime: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

demo: $(VENV)/.runtime
	$(PY) -m voiceops.demo

# The main suite runs in TEST_WORKERS pytest-xdist workers, each with a test database and a
# Redis database of its own (tests/environment.py). The fault suite shares nothing with it
# (see test-faults), so it runs beside it; each one's output is printed when it ends.
TEST_WORKERS ?= 2

test: $(VENV)/.dev lint
	$(MAKE) --jobs=2 --output-sync=target test-suite test-faults

test-suite: $(VENV)/.dev
	$(PY) -m pytest -n $(TEST_WORKERS)

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
