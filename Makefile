# Undersigned: `make run` (embedded demo) and `make test` (full suite on the real stack).
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

# The test stack (override on the command line or in the environment).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/undersigned
TEST_REDIS_URL ?= redis://127.0.0.1:6379/3
CHROMIUM ?= /usr/bin/chromium

.PHONY: run test lint serve venv dev-venv messages clean check-test-services bench screenshots speed \
  cluster test-cluster bench-scaling

$(VENV)/.installed: requirements.txt
	@PYTHON_BIN=$$(bin/find-python) && \
	  { [ -x $(PY) ] || $$PYTHON_BIN -m venv $(VENV); }
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

$(VENV)/.dev-installed: $(VENV)/.installed requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

venv: $(VENV)/.installed
dev-venv: $(VENV)/.dev-installed

# Compiled translations are build output: made here, never committed.
messages: $(VENV)/.installed
	@if command -v msgfmt >/dev/null; then DEBUG=1 $(PY) manage.py compilemessages -v 0 --ignore=.venv; \
	  else echo "note: gettext (msgfmt) not found; pages stay in English. Debian: apt-get install gettext"; fi

run: $(VENV)/.installed messages
	@mkdir -p var
	DEBUG=1 $(PY) manage.py migrate --noinput -v 0
	DEBUG=1 $(PY) manage.py load_demo
	@echo ""
	@echo "  Undersigned is running (embedded mode: SQLite, in-process tasks and periodic tasks, local outbox)"
	@echo "  Demo letter:   http://$(HOST):$(PORT)/letters/northwind-ice/"
	@echo "  Coalition:     http://$(HOST):$(PORT)/letters/tech-workers-no-ice/"
	@echo "  Open letters:  http://$(HOST):$(PORT)/letters/"
	@echo "  API:           http://$(HOST):$(PORT)/api/letters/"
	@echo "  Local outbox:  http://$(HOST):$(PORT)/outbox/   (every email the site sends)"
	@echo "  Organiser login: http://$(HOST):$(PORT)/accounts/login/  organiser@example.org / undersigned-demo"
	@echo ""
	@# The periodic tasks (counts, sweeps, closing, retention) run beside the
	@# server in their own process, as beat would; stopped with it.
	DEBUG=1 $(PY) manage.py run_periodic & periodic=$$!; \
	trap 'kill $$periodic 2>/dev/null' EXIT INT TERM; \
	DEBUG=1 SITE_URL=$${SITE_URL:-http://$(HOST):$(PORT)} $(PY) manage.py runserver $(HOST):$(PORT)

check-test-services: $(VENV)/.dev-installed
	@DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) CHROMIUM=$(CHROMIUM) \
	  $(PY) bin/check-test-services

# The environment every test process (and the worker the tests start) shares.
TEST_ENV = DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) CHROMIUM=$(CHROMIUM) \
  DEBUG=0 SECRET_KEY=test-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz \
  ALLOWED_HOSTS=testserver,localhost,127.0.0.1 EMAIL_URL=smtp://127.0.0.1:1 \
  SITE_URL=http://testserver COUNT_INTERVAL=1 DJANGO_ALLOW_ASYNC_UNSAFE=1 \
  VAR_DIR=$(CURDIR)/var/test SIGNER_KEYS_FILE=$(CURDIR)/var/test/signer-keys.env
# The test stack's own signer keys, made once (letters/sealing.py).
TEST_KEYS = $(PY) -c 'import pathlib, letters.sealing as s; s.write_keys_file(pathlib.Path("var/test/signer-keys.env"))'

# axe-core for the accessibility tests, pinned in package-lock.json (Debian: apt-get install npm).
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

test: $(VENV)/.dev-installed messages check-test-services node_modules/.package-lock.json
	@mkdir -p var/test && $(TEST_KEYS)
	$(TEST_ENV) $(PY) manage.py collectstatic --noinput -v 0
	$(TEST_ENV) CELERY_QUEUE=test-$$$$ CACHE_KEY_PREFIX=test-$$$$ $(PY) -m pytest $(PYTEST_ARGS)

# The multi-node proofs (tests/cluster/: HAProxy, two web nodes, two workers, PgBouncer, a
# replica, all private), kept out of `make test` for time; needs no shared service.
test-cluster: $(VENV)/.dev-installed messages
	@mkdir -p var/test && $(TEST_KEYS)
	$(TEST_ENV) UNDERSIGNED_CLUSTER_TESTS=1 $(PY) -m pytest tests/cluster $(PYTEST_ARGS)

# Refresh docs/screenshots/ (desktop and phone sizes) through the browser tests.
screenshots: $(VENV)/.dev-installed messages check-test-services node_modules/.package-lock.json
	@mkdir -p var/test && $(TEST_KEYS)
	$(TEST_ENV) $(PY) manage.py collectstatic --noinput -v 0
	$(TEST_ENV) SCREENSHOTS_DIR=$(CURDIR)/docs/screenshots $(PY) -m pytest -q tests/test_screenshots.py

lint: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DEBUG=1 $(VENV)/bin/mypy .

# Production-like processes against the configured services (set the env).
serve: $(VENV)/.installed messages
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput -v 0
	bin/serve

# The benchmark on the production-like stack (bench/README.md); QUICK=1: small scale.
bench: $(VENV)/.dev-installed
	$(PY) -m bench $(if $(filter-out 0 no false,$(QUICK)),--quick) $(BENCH_ARGS)

# Cost vs size (bench/scaling.py): page, API, sign and export at each size, one stack
# each; SIZES=10000,1000000,10000000 adds the 10M run (opt-in: its seeding is long).
SIZES ?= 10000,1000000
bench-scaling: $(VENV)/.dev-installed
	$(PY) -m bench.scaling --sizes $(SIZES) $(BENCH_ARGS)

# The multi-node topology (bench/cluster.py) with the demo letter, on private servers,
# until Ctrl-C; CLUSTER_ARGS: `python -m bench.cluster --help`.
cluster: $(VENV)/.dev-installed messages
	$(PY) -m bench.cluster $(CLUSTER_ARGS)

# What each trick of the speed machinery gains today, on and off (docs/speed.md).
speed: $(VENV)/.dev-installed
	@mkdir -p var/test && $(TEST_KEYS)
	$(TEST_ENV) TEST_DATABASE_NAME=undersigned_speed $(PY) -m speed.measure

clean:
	rm -rf $(VENV) var node_modules
