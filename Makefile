# Vigil: `make demo` runs the daily report against a local stack; `make test` runs every check.
# Both install what they need first (scripts/install-stack.sh is idempotent).

SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help install install-demo demo test build fmt-check modules clippy compile unit lambda-host integration templates bench quality clean

help:
	@echo "make demo   install the local stack, generate a week of traffic, run sla-report for the last full day"
	@echo "make test   fmt check, clippy -D warnings, unit and integration tests, template checks"
	@echo "make build  sam build: both functions' bootstrap binaries for arm64 (sizes printed)"
	@echo "make bench  measure the report (3 and 200 services; 200 with three SLOs over a quarter), the SLO burn-rate reads (200 services), the check (1,000 and 10,000 series; the default checks at 1,000 and 3,000 services), init time"
	@echo "make quality NAB=DIR  score the detectors on NAB-format data (DIR/data, DIR/labels.json)"

install:
	@scripts/install-stack.sh

# The demo needs only Prometheus and moto.
install-demo:
	@scripts/install-stack.sh --demo

demo: install-demo
	@scripts/demo.sh

test: install fmt-check modules clippy compile unit integration templates

build: install
	@scripts/build.sh

fmt-check:
	cargo fmt --all --check

# No cycle between the core's top-level entries; the domain imports no adapter, I/O or logging.
modules:
	python3 scripts/check-modules.py

clippy:
	cargo clippy --workspace --all-targets -- -D warnings

compile:
	cargo build --workspace

unit:
	cargo test --workspace --exclude vigil-tests
	cargo test -p vigil-tests --lib --bins

# The runtime API tests run the release bootstraps that cargo-lambda builds for this machine.
lambda-host:
	@scripts/build.sh --host

integration: compile lambda-host
	@scripts/integration.sh

templates:
	@scripts/check-template.sh

bench: install
	@scripts/bench.sh
	@scripts/bench-slo.sh
	@scripts/bench-slo-alerts.sh
	@scripts/bench-anomaly.sh
	@scripts/bench-scale.sh
	@scripts/bench-init.sh

quality:
	@scripts/quality.sh $(NAB) $(NAB_SCORER)

clean:
	rm -rf .stack out .aws-sam .template-x86_64.yaml
