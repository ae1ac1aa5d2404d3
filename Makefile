# The commands a newcomer needs: `make run` and `make test`. Only Python 3.11+ and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
PYBABEL_EXTRACT := $(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output --omit-header

.PHONY: run test install install-test extract-messages update-catalogs add-locale lint format bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

# No compile step: the portal compiles each locale's messages.po as it starts (app/i18n).
run: install
	PORT=$(PORT) $(BIN)/consent-portal serve --demo --port $(PORT)

test: install-test
	$(BIN)/pytest $(PYTEST_ARGS)

# After changing a participant-facing string: refresh the template and every catalogue.
extract-messages: install
	$(PYBABEL_EXTRACT) -o locales/messages.pot .

update-catalogs: extract-messages
	$(BIN)/python -m app.i18n.update_catalogs

# A new language: one command, then translate locales/$(LOCALE)/LC_MESSAGES/messages.po.
add-locale: install
	@test -n "$(LOCALE)" || { echo "usage: make add-locale LOCALE=so"; exit 2; }
	$(BIN)/python -m app.i18n.add_locale $(LOCALE)

lint: install-test
	$(BIN)/ruff check app tests bench
	$(BIN)/mypy

format: install-test
	$(BIN)/ruff format app tests bench

bench: install-test
	$(BIN)/python bench/home_page.py

clean:
	rm -rf $(VENV) var build
	find locales -name '*.mo' -delete  # compiled by earlier versions; nothing reads them now
