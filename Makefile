# allegro-hub — `make demo` to try it, `make test` to check it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# The browser tests drive Debian's chromium (Playwright's own download is not used).
CHROMIUM ?= /usr/bin/chromium

.PHONY: venv demo test lint bench messages screenshots chromium

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: venv
	$(BIN)/allegro-hub demo

test: venv chromium
	$(BIN)/python -m pytest

# Installs Debian's chromium when it is missing (as root, or through sudo); where
# there is no apt-get, says in one line what to install and stops: the browser
# tests must never be skipped without a word.
chromium:
	@if [ ! -x "$(CHROMIUM)" ]; then \
		if ! command -v apt-get >/dev/null 2>&1; then \
			echo "make test: the browser tests need Chromium at $(CHROMIUM); install your system's chromium package (there is no apt-get here)" >&2; \
			exit 1; \
		fi; \
		if [ "$$(id -u)" = 0 ]; then SUDO=""; \
		elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; \
		else echo "make test: the browser tests need $(CHROMIUM); as root run: apt-get install chromium" >&2; exit 1; fi; \
		echo "== $(CHROMIUM) is missing: installing Debian's chromium for the browser tests"; \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q || exit 1; \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium || exit 1; \
		if [ ! -x "$(CHROMIUM)" ]; then \
			echo "make test: apt-get installed chromium but $(CHROMIUM) is still missing" >&2; \
			exit 1; \
		fi; \
	fi

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
	cd hub && HUB_DATA_DIR=$${HUB_DATA_DIR:-/tmp/hub-messages} ../$(BIN)/python -m django makemessages -l pl --no-location --no-obsolete --no-fuzzy-matching --ignore "*/tests/*" --settings=hub.settings
	msgcat --sort-output --no-location -o $(PO) $(PO)
	sed -i '/^"POT-Creation-Date:/d' $(PO)
	cd hub && ../$(BIN)/python -m django compilemessages -l pl --settings=hub.settings
