# The two commands a newcomer needs: `make run` and `make test`. Both set up first.
SHELL := /bin/bash
export PATH := $(CURDIR)/.venv/bin:$(HOME)/.dapr/bin:$(PATH)

.PHONY: setup run down test test-polyglot lock bench bench-lock

setup:  ## install Redis, the Python environment and the Dapr CLI and runtime, as needed
	@tools/setup.sh

run: setup  ## run every app with its sidecar and a private Redis
	@tools/run.sh

down:  ## stop whatever `make run` left behind
	-@dapr stop -f . 2>/dev/null
	@tools/redis.sh stop .run/redis

test: setup test-polyglot  ## unit, integration (real sidecars) and end-to-end tests
	pytest $(PYTEST_ARGS)

test-polyglot: setup  ## the Go and Node.js apps' unit and contract tests
	cd apps/shipping && go test ./...
	cd apps/notifications && node --test test/*.test.js

LOCK := pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --no-header --no-emit-find-links

lock:  ## resolve requirements*.in into the lock files, with hashes
	python -m pip install --quiet pip-tools
	$(LOCK) -o requirements.lock requirements.in
	$(LOCK) -o requirements-dev.lock requirements-dev.in

bench: setup  ## the performance benchmark (not a test); writes bench/results/latest.md; BENCH_ARGS=--quick for a smoke run
	@bench/run.sh $(BENCH_ARGS)

bench-lock:  ## resolve bench/requirements.in into bench/requirements.lock, with hashes
	python -m pip install --quiet pip-tools
	$(LOCK) -o bench/requirements.lock bench/requirements.in
