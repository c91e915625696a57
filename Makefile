# allegro-hub — `make demo` to try it, `make test` to check it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv demo test lint bench messages screenshots

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

# The README's pictures: docs/dashboard.png, made by a browser test from the demo's data.
screenshots: venv
	HUB_SCREENSHOTS=docs $(BIN)/python -m pytest -q tests/e2e/test_screenshots.py

# Every flow's benchmark, then one table of figures beside their baselines and goals.
bench: venv
	$(BIN)/python bench/run_all.py $(BENCH_ARGS)

# Refresh the Polish catalogue after changing user-facing strings, translate the new
# empty entries in hub/locale/pl/LC_MESSAGES/django.po, then run this again to compile.
# Sorted, without source locations or a creation date, so parallel branches merge cleanly.
PO := hub/locale/pl/LC_MESSAGES/django.po
messages: venv
	cd hub && HUB_DATA_DIR=$${HUB_DATA_DIR:-/tmp/hub-messages} ../$(BIN)/python -m django makemessages -l pl --no-location --no-obsolete --ignore "*/tests/*" --settings=hub.settings
	msgcat --sort-output --no-location -o $(PO) $(PO)
	sed -i '/^"POT-Creation-Date:/d' $(PO)
	cd hub && ../$(BIN)/python -m django compilemessages -l pl --settings=hub.settings
