# Every target creates or refreshes .venv first, so a fresh clone needs only python3.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test lint bench worker messages venv clean fuzz audit

venv: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,lint]'
	rm -f $(VENV)/.installed-* && touch $@

run: venv
	mkdir -p var
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py migrate --noinput
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py seed_demo
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py runserver 127.0.0.1:8000

test: venv
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/bandit --quiet --configfile pyproject.toml --recursive --severity-level low \
		salesinsight accounts contacts compliance unsubscribes exports salesforce_sync overview
	mkdir -p var
	DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run

# The whole suite with ten times the generated inputs (the "nightly" profile).
fuzz: venv
	HYPOTHESIS_PROFILE=nightly $(BIN)/python -m pytest $(PYTEST_ARGS)

# Audit the dependencies against the vulnerability databases. --strict fails
# when a package could not be audited, so an unreachable service is a failure,
# never a silent "No known vulnerabilities" (see SECURITY.md).
audit: venv
	$(BIN)/python -m pip install --quiet 'pip-audit>=2.7'
	$(BIN)/pip-audit --strict --skip-editable

bench: venv
	$(BIN)/python -m bench $(BENCH_ARGS)

# Refresh locale/fr from every marked string (GNU gettext's xgettext and msgfmt
# are needed), then compile it; translate the new entries and commit both files.
MESSAGES_IGNORE := --ignore=.venv --ignore=static/vendor --ignore=tests --ignore=bench \
	--ignore=var --ignore=staticfiles --ignore=test-artifacts --ignore='*.egg-info'

messages: venv
	DEBUG=1 $(BIN)/python manage.py makemessages -l fr --no-obsolete --add-location=file \
		$(MESSAGES_IGNORE)
	DEBUG=1 $(BIN)/python manage.py compilemessages -l fr $(MESSAGES_IGNORE)

worker: venv
	$(BIN)/celery -A salesinsight worker --beat --loglevel=INFO

clean:
	rm -rf $(VENV) var staticfiles
