# Stepwright: `make demo` runs the pipeline locally; `make test` runs every check.
SHELL := /bin/bash
export PATH := $(CURDIR)/.venv/bin:$(CURDIR)/tools/node_modules/.bin:$(PATH)
CARGO ?= cargo

.PHONY: all setup test lint fmt check-fmt clippy unit bench

all: test

setup:
	@scripts/setup.sh

## test: everything CI checks (formatting, lints, unit/integration/conformance tests)
test: setup check-fmt clippy unit

check-fmt:
	$(CARGO) fmt --all -- --check

clippy:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

unit:
	$(CARGO) test --workspace

fmt:
	$(CARGO) fmt --all

lint: check-fmt clippy
