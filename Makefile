# Everything a fresh machine needs is Python 3.11 and make: `make run`, `make test`.
# The virtualenv lives in .venv; pip reruns only when pyproject.toml changes (stamp files).

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
# A stand-in for a production environment, for `make check-deploy`.
DEPLOY_HOST ?= annotator.example.org

.PHONY: run test bench lint check-deploy

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-run: pyproject.toml | $(PY)
	$(PY) -m pip install -e .
	touch $@

# The test extra includes the run-time dependencies, so this stamp satisfies both.
$(VENV)/.installed-test: pyproject.toml | $(PY)
	$(PY) -m pip install -e '.[test]'
	touch $@ $(VENV)/.installed-run

# Generated once per checkout and kept out of git (data/ is ignored).
data/secret_key: | $(PY)
	mkdir -p data
	umask 077 && $(PY) -c "import secrets; print(secrets.token_urlsafe(50))" > $@

# Kept so that every `make run` shows the same demo password; set ANNOTATOR_DEMO_PASSWORD
# to choose one instead.
data/demo_password: | $(PY)
	mkdir -p data
	umask 077 && $(PY) -c "import secrets; print(secrets.token_urlsafe(12))" > $@

# Plain HTTP on the loopback interface only: ANNOTATOR_HTTPS=0 is for this quick start.
run: $(VENV)/.installed-run data/secret_key data/demo_password
	@export SECRET_KEY="$$(cat data/secret_key)" ANNOTATOR_HTTPS=0 \
	  ANNOTATOR_DEMO_PASSWORD="$${ANNOTATOR_DEMO_PASSWORD:-$$(cat data/demo_password)}" && \
	$(PY) manage.py migrate --noinput && \
	$(PY) manage.py collectstatic --noinput -v 0 && \
	$(PY) manage.py demo && \
	echo "Serving on http://127.0.0.1:$(PORT)/ (Ctrl-C stops it)" && \
	exec $(VENV)/bin/gunicorn annotator.wsgi --bind 127.0.0.1:$(PORT) --workers 2 \
	  --access-logfile -

# Runs on DATABASE_URL when it is set (PostgreSQL in CI), else on SQLite.
test: $(VENV)/.installed-test
	$(PY) -m pytest $(PYTEST_ARGS)

# The suggester's precision and recall on the demo gold (pure Python, a second), then the
# server bench.
bench: $(VENV)/.installed-test
	$(PY) -m bench.suggester
	$(PY) -m bench
	$(PY) -m bench.team_dashboard
	$(PY) -m bench.adjudication
	$(PY) -m bench.agreement
	$(PY) -m bench.imports_exports

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Django's deployment checklist against production-like settings; warnings fail it.
check-deploy: $(VENV)/.installed-run
	env -u DATABASE_URL -u ANNOTATOR_HTTPS -u ANNOTATOR_PLAIN_STATIC -u SECURE_SSL_REDIRECT \
	  -u SECURE_HSTS_SECONDS -u SECRET_KEY_FILE \
	  DEBUG=0 ALLOWED_HOSTS=$(DEPLOY_HOST) \
	  SECRET_KEY="$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50)[:50])')" \
	  $(PY) manage.py check --deploy --fail-level WARNING
