# The two commands of the README: `make demo` and `make test`. Both install on first use.
PY      ?= python3.11
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed

.PHONY: demo test install clean bench

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q -U pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/shebao demo

# -n 2: both cores; every database test runs on SQLite and PostgreSQL.
test: $(STAMP)
	$(BIN)/pytest -n 2 -q

clean:
	rm -rf var .pytest_cache
