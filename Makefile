# Stepwright: `make demo` runs the pipeline locally; `make test` runs every check.
SHELL := /bin/bash
export PATH := $(CURDIR)/.venv/bin:$(CURDIR)/tools/node_modules/.bin:$(PATH)
CARGO ?= cargo

.PHONY: all setup test lint fmt check-fmt clippy unit bench statemachines statemachines-check

all: test

setup:
	@scripts/setup.sh

## test: everything CI checks (formatting, lints, unit/integration/conformance tests)
test: setup check-fmt clippy unit statemachines-check

check-fmt:
	$(CARGO) fmt --all -- --check

clippy:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

unit:
	$(CARGO) test --workspace

fmt:
	$(CARGO) fmt --all

lint: check-fmt clippy

## statemachines: regenerate statemachines/*.asl.json, *.policy.json and docs/pipelines.md's generated blocks
statemachines:
	$(CARGO) run --quiet -p pipelines -- --out statemachines --docs docs/pipelines.md

## statemachines-check: the checked-in definitions are current and asl-validator accepts them
statemachines-check:
	$(CARGO) run --quiet -p pipelines -- --out statemachines --docs docs/pipelines.md --check
	@for f in statemachines/*.asl.json; do asl-validator --json-path "$$f" || exit 1; done
