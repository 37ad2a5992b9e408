# Vigil: `make demo` runs the daily report against a local stack; `make test` runs every check.
# Both install what they need first (scripts/install-stack.sh is idempotent).

SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help install demo test fmt-check clippy build unit integration templates bench quality clean

help:
	@echo "make demo   install the local stack, generate a week of traffic, run sla-report for the last full day"
	@echo "make test   fmt check, clippy -D warnings, unit and integration tests, template lint"
	@echo "make bench  measure the report (3 and 200 services) and the check (1,000 and 10,000 series)"
	@echo "make quality NAB=DIR  score the detectors on NAB-format data (DIR/data, DIR/labels.json)"

install:
	@scripts/install-stack.sh

demo: install
	@scripts/demo.sh

test: install fmt-check clippy build unit integration templates

fmt-check:
	cargo fmt --all --check

clippy:
	cargo clippy --workspace --all-targets -- -D warnings

build:
	cargo build --workspace

unit:
	cargo test --workspace --exclude vigil-tests
	cargo test -p vigil-tests --lib --bins

integration: build
	@scripts/integration.sh

templates:
	.tools/cfn-lint/bin/cfn-lint template.yaml

bench: install
	@scripts/bench.sh
	@scripts/bench-anomaly.sh

quality:
	@scripts/quality.sh $(NAB) $(NAB_SCORER)

clean:
	rm -rf .stack out
