# Two commands for a new machine: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
export FLASK_APP := app.py

.PHONY: run serve worker test test-slow setup install catalogs db lint extract-messages update-catalogs clean

run: setup
	$(BIN)/flask db upgrade
	$(BIN)/flask seed --demo
	export TALENTADMIN_BROKER_URL=$${TALENTADMIN_BROKER_URL:-instance}; \
	$(BIN)/celery -A talentadmin.jobs.worker:celery worker --beat --concurrency 1 \
		--loglevel warning --schedule instance/celerybeat-schedule & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	$(BIN)/flask run --host 127.0.0.1 --port $(PORT)

# One worker and its beat (the periodic jobs) on the broker the environment names.
worker: setup
	$(BIN)/celery -A talentadmin.jobs.worker:celery worker --beat --loglevel info \
		--schedule instance/celerybeat-schedule

# Production on PostgreSQL + Redis (README, "Production"); GUNICORN_BIND defaults to 127.0.0.1:8000.
serve: setup
	@test -n "$$TALENTADMIN_DATABASE_URL" || { echo "set TALENTADMIN_DATABASE_URL=postgresql://..." >&2; exit 1; }
	@test -n "$$TALENTADMIN_REDIS_URL" || { echo "set TALENTADMIN_REDIS_URL=redis://..." >&2; exit 1; }
	$(BIN)/flask db upgrade
	$(BIN)/gunicorn -c gunicorn.conf.py app:app

# Everything: real OCR (tests marked ocr) and Chromium (marked browser) included. The inner
# loop while coding leaves those two out:
#   make test PYTEST_ARGS="-m 'not browser and not ocr'"
test: setup
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The long profiles: fuzzing at 10,000 cases, long concurrency runs (.ci/run runs them).
test-slow: setup
	$(BIN)/python -m pytest --slow -m slow $(PYTEST_ARGS)

setup: $(VENV)/.installed catalogs

$(VENV)/.installed: pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

catalogs: $(VENV)/.installed
	$(BIN)/pybabel compile -d translations -D messages >/dev/null
	$(BIN)/pybabel compile -d translations -D admin >/dev/null

lint: setup
	$(BIN)/ruff check .

# Maintainers: after changing user-visible strings.
extract-messages: setup
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k ngettext:1,2 --no-location \
		--sort-output -o translations/messages.pot .

update-catalogs: extract-messages
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching --ignore-obsolete

clean:
	rm -rf $(VENV) instance/talentadmin.db*
