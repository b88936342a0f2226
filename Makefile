# The two commands a newcomer needs: `make run` and `make test`. Both set up first.
SHELL := /bin/bash
export PATH := $(CURDIR)/.venv/bin:$(HOME)/.dapr/bin:$(PATH)

.PHONY: setup setup-k8s setup-cluster run down logs load lint test test-polyglot test-brokers cluster cluster-down test-cluster chaos soak lock bench bench-lock

setup:  ## install Redis, the Python environment and the Dapr CLI and runtime, as needed
	@tools/setup.sh

setup-k8s:  ## build kustomize, kube-apiserver, kubectl and etcd, install checkov, as needed
	@tools/setup-k8s.sh

setup-cluster: setup setup-k8s  ## build and install what `make cluster` runs (Kubernetes, Helm, the Dapr control plane, CoreDNS, every image), as needed
	@tools/setup-cluster.sh

run: setup  ## run every app with its sidecar, a private Redis and Zipkin (traces)
	@tools/run.sh

down:  ## stop whatever `make run` left behind
	-@dapr stop -f . 2>/dev/null
	@tools/redis.sh stop .run/redis
	@tools/zipkin.sh stop .run/zipkin

logs:  ## follow every app's log lines as `make run` writes them; SIDECARS=1 adds the sidecars'
	@tools/logs.sh

load: setup  ## orders at a steady rate against `make run`, with a progress bar and a summary; LOAD_ARGS=--help
	@PYTHONPATH=apps:. python tools/load.py $(LOAD_ARGS)

lint: setup  ## ruff on every Python file (its rules: pyproject.toml)
	ruff check apps tests bench tools

test: setup setup-k8s lint test-polyglot  ## lint, unit, integration (real sidecars), browser, end-to-end and k8s tests
	@tools/setup.sh --for-tests
	pytest $(PYTEST_ARGS)

test-polyglot: setup  ## the Go and Node.js apps' unit and contract tests
	cd apps/shipping && go test ./...
	cd apps/notifications && node --test test/*.test.js

# The saga suite on each component variant (components/variants/), and on each broker
# with PostgreSQL for state: only YAML differs. Ports of its own (tests/support/system.py).
BROKER_VARIANTS := rabbitmq mqtt kafka postgres rabbitmq+postgres mqtt+postgres kafka+postgres

test-brokers: setup  ## the saga suite on RabbitMQ, MQTT, Kafka and PostgreSQL (private instances)
	@tools/brokers.sh install
	@set -e; for variant in $(BROKER_VARIANTS); do \
	  echo "==> the saga suite on components/variants/$$variant"; \
	  pytest tests/integration/test_saga.py --variant "$$variant" $(PYTEST_ARGS); \
	done

cluster: setup-cluster  ## eda-shop on a private single-node Kubernetes cluster with the Dapr control plane (docs/kubernetes.md)
	@tools/cluster.sh up

cluster-down:  ## stop the cluster of `make cluster`; nothing it started stays running or mounted
	@tools/cluster.sh down

# The live-cluster tier on a cluster started afresh, so no test meets what a user did on it.
test-cluster: setup-cluster  ## make cluster-down, make cluster, then the live-cluster tests (tests/cluster)
	@tools/cluster.sh down
	@tools/cluster.sh up
	pytest tests/cluster $(PYTEST_ARGS)

chaos: setup  ## orders while apps, sidecars and Redis are SIGKILLed and black-holed; writes .run/chaos/latest.md; CHAOS_ARGS="--orders 500"
	@tools/setup.sh --for-chaos
	PYTHONPATH=apps:. python -m tests.support.chaos $(CHAOS_ARGS)

soak: setup  ## orders for 30 min at half the measured capacity; each process's RSS slope (MB/h), Redis and the streams over time in .run/soak/latest.md and latest.svg; SOAK_ARGS="--minutes 5"
	PYTHONPATH=apps:. python -m tests.support.soak $(SOAK_ARGS)

LOCK := pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --no-header --no-emit-find-links

lock:  ## resolve requirements*.in into the lock files, with hashes
	python -m pip install --quiet pip-tools
	$(LOCK) -o requirements.lock requirements.in
	$(LOCK) -o requirements-dev.lock requirements-dev.in
	$(LOCK) -o tools/checkov/requirements.lock tools/checkov/requirements.in

bench: setup  ## the performance benchmark (not a test); writes bench/results/latest.md; BENCH_ARGS=--quick for a smoke run
	@bench/run.sh $(BENCH_ARGS)

bench-lock:  ## resolve bench/requirements.in into bench/requirements.lock, with hashes
	python -m pip install --quiet pip-tools
	$(LOCK) -o bench/requirements.lock bench/requirements.in
