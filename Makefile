# allegro-hub — `make demo` to try it, `make test` to check it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv demo test lint bench messages

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: venv
	$(BIN)/allegro-hub demo

test: venv
	$(BIN)/python -m pytest

lint: venv
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy hub allegro_emulator tests conftest.py

bench: venv
	@set -e; for f in bench/*.py; do \
		[ -e "$$f" ] || { echo "no benchmarks in bench/"; exit 0; }; \
		echo "== $$f"; $(BIN)/python "$$f"; \
	done

# Refresh the Polish catalogue after changing user-facing strings, translate the new
# empty entries in hub/locale/pl/LC_MESSAGES/django.po, then run this again to compile.
# Sorted, without source locations or a creation date, so parallel branches merge cleanly.
PO := hub/locale/pl/LC_MESSAGES/django.po
messages: venv
	cd hub && HUB_DATA_DIR=$${HUB_DATA_DIR:-/tmp/hub-messages} ../$(BIN)/python -m django makemessages -l pl --no-location --no-obsolete --ignore "*/tests/*" --settings=hub.settings
	msgcat --sort-output --no-location -o $(PO) $(PO)
	sed -i '/^"POT-Creation-Date:/d' $(PO)
	cd hub && ../$(BIN)/python -m django compilemessages -l pl --settings=hub.settings
