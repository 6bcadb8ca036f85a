# The two commands a fresh machine needs: `make start` runs the interview, `make test` runs every check.
# Both create .venv and install the project first (once; again whenever pyproject.toml changes).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: start test lint bench install

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch is pinned in the same pip command so pip takes the local CPU build, not a multi-GB CUDA one.
	$(BIN)/pip install --quiet -e '.[dev]' torch==2.13.0
	# pip compiles what it installs, but not an editable project; compiled once here, the TUI starts
	# about 0.1 s sooner where PYTHONDONTWRITEBYTECODE stops Python caching it (stale files are
	# simply recompiled in memory, so this can never run old code).
	$(BIN)/python -m compileall -q grader
	touch $(STAMP)

install: $(STAMP)

start: $(STAMP)
	$(BIN)/mockint start --company pinterest

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/pytest -q

bench: $(STAMP)
	$(BIN)/python benchmarks/grading_speed.py
