# authsite — the two commands that matter: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# The virtualenv is installed from the hashed lock files (`make lock` makes them
# from requirements*.txt); it is reinstalled whenever a lock file changes.
LOCKS := requirements.lock requirements-dev.lock
STAMP := $(VENV)/.installed-$(shell cat $(LOCKS) | sha1sum | cut -c1-12)
CATALOGUES := $(patsubst %.po,%.mo,$(wildcard locale/*/LC_MESSAGES/django.po))
MESSAGES_IGNORE := --ignore ".venv/*" --ignore "build/*" --ignore "tests/*" \
	--ignore "*/tests/*" --ignore "bench/*"
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: help setup system-deps messages lock lock-check run test e2e integration schema soak lint format check serve migrate clean
.PHONY: conformance clients typescript

help:
	@echo "make run          set up and serve http://$(HOST):$(PORT) (SQLite, DEBUG, console email/SMS)"
	@echo "make test         set up and run the test suite (DATABASE_URL picks the database)"
	@echo "make e2e          browser journeys in Chromium (Playwright)"
	@echo "make integration  tests that start real servers (gunicorn, MariaDB)"
	@echo "make schema       schemathesis against the OpenAPI document (every operation)"
	@echo "make conformance  the schemathesis CLI, every check, against a served app (SQLite, DEBUG)"
	@echo "make clients      a generated Python client drives a whole journey against a served app"
	@echo "make typescript   openapi-typescript types of the served schema under tsc --strict"
	@echo "make soak         200 connections for SOAK_SECONDS (60) on gunicorn + MariaDB + Redis"
	@echo "make lint         ruff check + ruff format --check"
	@echo "make serve        gunicorn with production settings (see README)"
	@echo "make lock         requirements*.txt -> requirements*.lock (hashes); UPGRADE=pkg to upgrade one"
	@echo "make messages     bring locale/*/LC_MESSAGES/django.po up to date with the source"

# $(call apt_install,<packages>,<what needs them>): as root on Debian, install
# the packages; elsewhere, say how and stop. (No comma in either argument.)
apt_install = if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	echo "Installing $(1) for $(2)…"; \
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(1) >/dev/null; \
	else echo "$(1) is needed for $(2). Install it with:"; echo "    sudo apt-get install $(1)"; exit 1; fi

# gettext's msgfmt compiles the message catalogues (SPEC §21); mysqlclient builds
# against MariaDB Connector/C. Each is installed when it is missing.
system-deps:
	@command -v msgfmt >/dev/null 2>&1 || { $(call apt_install,gettext,the translations); }
	@{ command -v pkg-config >/dev/null 2>&1 && { pkg-config --exists mariadb 2>/dev/null \
		|| pkg-config --exists mysqlclient 2>/dev/null; }; } \
		|| { $(call apt_install,pkg-config libmariadb-dev,building mysqlclient); }

$(STAMP): $(LOCKS)
	@$(MAKE) --no-print-directory system-deps
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-dev.lock
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

setup: lock-check $(STAMP) $(CATALOGUES)

# The compiled message catalogues (not committed): remade when a .po changes.
# `make messages` brings the .po files up to date with the source.
%.mo: %.po
	@command -v msgfmt >/dev/null 2>&1 || $(MAKE) --no-print-directory system-deps
	msgfmt --check -o $@ $<

messages: $(STAMP)
	DEBUG=true $(PY) manage.py makemessages --all --no-obsolete $(MESSAGES_IGNORE)

# Each lock file names the sha256 of the requirement files it was made from;
# a requirement file edited without `make lock` stops the build here.
lock-check:
	@for lock in $(LOCKS); do \
		case $$lock in requirements.lock) inputs="requirements.txt";; *) inputs="requirements.txt requirements-dev.txt";; esac; \
		digest=$$(cat $$inputs | sha256sum | cut -c1-64); \
		grep -q "^# inputs sha256: $$digest$$" $$lock || { \
			echo "$$lock is out of date with $$inputs: run 'make lock' and commit the lock files."; exit 1; }; \
	done

# Resolve requirements*.txt into requirements*.lock with every file's hash (uv,
# from the dev virtualenv). Versions already locked are kept unless a pin in
# requirements*.txt moves them; `make lock UPGRADE=sqlparse` moves one package
# to its newest version that fits (UPGRADE="a b" for several, UPGRADE=all for all).
UV_COMPILE = $(VENV)/bin/uv pip compile --quiet --generate-hashes --universal \
	--python-version 3.11 --custom-compile-command "make lock" \
	$(if $(filter all,$(UPGRADE)),--upgrade,$(foreach pkg,$(UPGRADE),--upgrade-package $(pkg)))
lock: $(STAMP)
	$(UV_COMPILE) requirements.txt -o requirements.lock
	$(UV_COMPILE) requirements-dev.txt -c requirements.lock -o requirements-dev.lock
	@sed -i "2a # inputs sha256: $$(cat requirements.txt | sha256sum | cut -c1-64)" requirements.lock
	@sed -i "2a # inputs sha256: $$(cat requirements.txt requirements-dev.txt | sha256sum | cut -c1-64)" requirements-dev.lock
	@echo "Locked: requirements.lock, requirements-dev.lock. 'make setup' installs them."

migrate: setup
	DEBUG=$${DEBUG:-true} $(PY) manage.py migrate --noinput

run: setup
	DEBUG=$${DEBUG:-true} $(PY) manage.py migrate --noinput
	DEBUG=$${DEBUG:-true} $(PY) manage.py runserver $(HOST):$(PORT)

test: setup
	$(PY) -m pytest -m "not e2e and not integration and not schema and not client" $(PYTEST_ARGS)

e2e: setup
	@test -x /usr/bin/chromium || { echo "The browser tests need Debian's chromium: apt-get install chromium"; exit 1; }
	$(PY) -m pytest -m e2e $(PYTEST_ARGS)

integration: setup
	$(PY) -m pytest -m integration $(PYTEST_ARGS)

schema: setup
	$(PY) -m pytest -m schema $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Production-style server: gunicorn, DEBUG off. Needs SECRET_KEY, JWT_SIGNING_KEY,
# ALLOWED_HOSTS and CACHE_URL=redis://… in the environment (see README).
serve: setup
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput
	$(VENV)/bin/gunicorn -c gunicorn.conf.py --bind $(HOST):$(PORT)

clean:
	rm -rf $(VENV) staticfiles build .pytest_cache .ruff_cache

# Load benchmark (SPEC §13, issue 21; README.md, "Benchmark"): the site and a bare Django app
# under gunicorn (gunicorn.conf.py, as make serve) + wrk against a fresh database (SQLite under
# build/bench/ by default; DATABASE_URL=mysql://root@127.0.0.1:3306/authsite_bench for MariaDB),
# USERS seeded users. Needs Redis on 127.0.0.1:6379 (db 2; BENCH_CACHE_URL) and wrk.
# `make bench-stack`: what a request costs inside Django, in-process (bench/stack.py).
.PHONY: bench bench-stack bench-instructions
USERS ?= 1000
bench: setup
	@command -v wrk >/dev/null 2>&1 || { $(call apt_install,wrk,make bench (the load generator)); }
	$(PY) -m bench --users $(USERS) $(BENCH_ARGS)

bench-stack: setup
	$(PY) -m bench.stack --users $(USERS) $(BENCH_ARGS)

# Instructions per request through gunicorn's request path, under valgrind
# (bench/instructions.py): what a change to the stack costs, without the VM's noise.
bench-instructions: setup
	@command -v valgrind >/dev/null 2>&1 || { $(call apt_install,valgrind,make bench-instructions); }
	$(PY) -m bench.instructions --users $(USERS) $(BENCH_ARGS)

# Sustained load (bench/soak.py): 200 connections for SOAK_SECONDS seconds on sign-in,
# refresh, /auth/me and PATCH /profile against gunicorn (2 gthread workers, as make serve)
# + MariaDB + Redis, then the count of 5xx answers and of lost writes (goal: 0 and 0;
# non-zero exit otherwise; the bounded sign-in queue's 503s are counted apart) and the
# token calls' p99.
# A fresh database authsite_hard_soak on 127.0.0.1:3306 and Redis db 13, unless
# SOAK_DATABASE_URL / SOAK_CACHE_URL say otherwise.
SOAK_SECONDS ?= 60
soak: setup
	$(PY) -m bench.soak --seconds $(SOAK_SECONDS) $(SOAK_ARGS)

# Client developers (SPEC §19; README, "The JSON API"). Each serves the app as
# `make run` does (runserver, DEBUG, a temporary SQLite database under build/)
# on a free port. conformance: the schemathesis CLI with --checks all
# (tests/conformance/schemathesis.toml), CONFORMANCE_EXAMPLES (30) per operation.
CONFORMANCE_EXAMPLES ?= 30
conformance: setup
	CONFORMANCE_EXAMPLES=$(CONFORMANCE_EXAMPLES) $(PY) -m tests.conformance.serve

clients: setup
	$(PY) -m pytest -m client $(PYTEST_ARGS)

# openapi-typescript and typescript, pinned in tests/clients/ts/package-lock.json,
# installed under build/ts with the machine's npm.
TS_DIR := build/ts
typescript: setup
	@command -v npm >/dev/null 2>&1 || { $(call apt_install,nodejs npm,make typescript); }
	rm -rf $(TS_DIR) && mkdir -p $(TS_DIR)
	cp tests/clients/ts/package.json tests/clients/ts/package-lock.json tests/clients/ts/usage.ts $(TS_DIR)/
	cd $(TS_DIR) && npm ci --no-audit --no-fund --loglevel=error
	$(PY) -m tests.conformance.serve schema $(TS_DIR)/schema.json
	cd $(TS_DIR) && npx --no-install openapi-typescript schema.json -o schema.d.ts > generate.log 2>&1; \
		status=$$?; cat generate.log; \
		if [ $$status -ne 0 ] || grep -qi "warn\|error" generate.log; then exit 1; fi
	cd $(TS_DIR) && npx --no-install tsc --strict --noEmit --target es2020 --module es2020 schema.d.ts usage.ts
	@echo "typescript: schema.d.ts and usage.ts compile with tsc --strict"
