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

## lambdas: release bootstraps of every Lambda with a main.rs, for arm64 and x86_64
## (target/lambda/<arch>/<bin>/bootstrap, plus bootstrap.zip), and their sizes
LAMBDA_PKGS := $(foreach d,cleanse validate approval-gate trigger,$(if $(wildcard crates/lambdas/$(d)/src/main.rs),$(d)))
LAMBDA_DIR := $(CURDIR)/target/lambda

.PHONY: lambdas coldstart
lambdas: setup
	rustup target add aarch64-unknown-linux-gnu x86_64-unknown-linux-gnu >/dev/null 2>&1 || true
	cargo lambda build --release --arm64 $(addprefix -p ,$(LAMBDA_PKGS)) --lambda-dir $(LAMBDA_DIR)/arm64
	cargo lambda build --release --x86-64 $(addprefix -p ,$(LAMBDA_PKGS)) --lambda-dir $(LAMBDA_DIR)/x86_64
	python3 scripts/lambda_sizes.py $(LAMBDA_DIR)

## coldstart: cold start of the x86_64 bootstraps (built by `make lambdas`) vs Python, under a
## minimal Runtime API with moto for the AWS calls
coldstart:
	scripts/coldstart-bench.sh
