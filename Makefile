# The two entry points of the README: `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test install install-dev lint clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "shopmind needs Python 3.11 ($(PYTHON) not found; set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# A stamp per extra, remade when pyproject.toml changes, so repeated runs skip the install.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Builds and trains the demo shop, then serves it with the dashboard on http://127.0.0.1:8000
# (the link printed carries a fresh dashboard key; Ctrl-C stops the server).
demo: install
	$(BIN)/shopmind demo
	$(BIN)/shopmind serve --host 127.0.0.1 --port 8000 --dashboard-key

test: install-dev
	$(BIN)/pytest

lint: install-dev
	$(BIN)/ruff check src tests benchmarks

clean:
	rm -rf $(VENV) shopmind-data .pytest_cache
