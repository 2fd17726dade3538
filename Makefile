# Stepwright: `make demo` runs the pipeline locally; `make test` runs every check.
SHELL := /bin/bash
export PATH := $(CURDIR)/.venv/bin:$(CURDIR)/tools/node_modules/.bin:$(PATH)
CARGO ?= cargo

.PHONY: all demo setup setup-rust setup-tools test lint fmt check-fmt clippy unit-build unit bench statemachines statemachines-check

all: test

setup:
	@scripts/setup.sh

setup-rust:
	@scripts/setup.sh rust

setup-tools:
	@scripts/setup.sh tools

## demo: build the CLI and run the training pipeline locally (needs only cargo); writes out/
demo:
	@scripts/demo.sh

## test: everything CI checks (formatting, lints, unit/integration/conformance tests, the
## generated state machines, and the deployment templates: sam validate --lint, sam build, cdk synth, cfn-lint)
## The three cold builds (clippy's check build, the test build, and the arm64 build of `sam build`)
## run side by side: each has long stretches where one big crate (aws-sdk-sagemaker) keeps one core
## busy and the other idle. clippy builds in its own target directory, since two cargo runs in one
## profile directory wait for each other's lock; `sam build` (release, aarch64) does not share one.
## The Python and npm tools install beside the first two (only sam build needs them); the second
## stage takes sam build as done (-o).
test: setup-rust
	@$(MAKE) --no-print-directory -j3 --output-sync=target check-fmt clippy unit-build sam-build
	@$(MAKE) --no-print-directory -o sam-build -o setup-tools unit statemachines-check infra-test

check-fmt:
	$(CARGO) fmt --all -- --check

# (then the engines' local-file binaries, `cleanse-file` and `validate-file`, which the data
# benchmarks run, and their tests: the workspace builds the crates with their Lambda feature, not
# these)
clippy:
	CARGO_TARGET_DIR=$(CLIPPY_TARGET) $(CARGO) clippy --workspace --all-targets -- -D warnings
	CARGO_TARGET_DIR=$(CLIPPY_TARGET) $(CARGO) clippy -p cleanse -p validate --no-default-features \
	  --features cleanse/cli,validate/cli --bins --test cli -- -D warnings

# (then the local-file binaries' tests, which need the engines' `cli` feature)
CLI_TESTS := -p cleanse -p validate --no-default-features --features cleanse/cli,validate/cli --test cli

unit-build:
	$(CARGO) test --workspace --no-run
	$(CARGO) test $(CLI_TESTS) --no-run

unit:
	$(CARGO) test --workspace
	$(CARGO) test $(CLI_TESTS)

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

## --- deployment templates (infra/) ---------------------------------------------------------------
## infra-generate: the state machine policies of infra/sam/template.yaml and infra/policies/, from
## statemachines/ (`stepwright policy --cloudformation`)
## infra-test: the generated policies are current; sam validate --lint; cfn-lint on both templates;
## sam build; cdk synth; the CDK assertion tests; infra/tests/check_templates.py on both templates
INFRA_ENV := SAM_CLI_TELEMETRY=0 CDK_DISABLE_VERSION_CHECK=1 CDK_DISABLE_CLI_TELEMETRY=true
# `make test` checks that `sam build` builds the Lambdas, with the release profile tuned for build
# time (no LTO, no optimisation, 256 codegen units: see docs/deploy.md); `sam build` by hand uses the
# workspace's release profile (thin LTO, optimised, stripped).
LAMBDA_CI_PROFILE := CARGO_PROFILE_RELEASE_LTO=off CARGO_PROFILE_RELEASE_OPT_LEVEL=0 CARGO_PROFILE_RELEASE_CODEGEN_UNITS=256
CARGO_TARGET := $(or $(CARGO_TARGET_DIR),$(CURDIR)/target)
CLIPPY_TARGET := $(CARGO_TARGET)/clippy
SAM_BUILD_DIR := $(CURDIR)/infra/sam/.aws-sam/build
CDK_TEMPLATE := infra/cdk/cdk.out/Stepwright.template.json

.PHONY: infra-generate infra-generate-check infra-lint sam-build cdk-synth cdk-test infra-check infra-test

# The CLI as `cargo test --workspace` builds it (for its integration tests): `cargo build -p
# stepwright-cli` alone resolves other features for shared dependencies (a dev-dependency turns on
# `either/use_std` under every AWS SDK crate), so it compiled the AWS SDKs once more on a cold cache.
STEPWRIGHT_CLI_BUILD := $(CARGO) test --workspace --no-run --quiet

infra-generate:
	$(STEPWRIGHT_CLI_BUILD)
	python3 infra/generate.py --stepwright $(CARGO_TARGET)/debug/stepwright

infra-generate-check:
	$(STEPWRIGHT_CLI_BUILD)
	python3 infra/generate.py --check --stepwright $(CARGO_TARGET)/debug/stepwright

infra-lint:
	cd infra/sam && $(INFRA_ENV) sam validate --lint
	cfn-lint infra/sam/template.yaml

sam-build: setup-tools
	cd infra/sam && $(INFRA_ENV) $(LAMBDA_CI_PROFILE) CARGO_TARGET_DIR=$(CARGO_TARGET) sam build --build-dir $(SAM_BUILD_DIR)

# the Lambda code comes from the cargo-lambda output `sam build` left in the target directory
cdk-synth: sam-build
	cd infra/cdk && $(INFRA_ENV) STEPWRIGHT_LAMBDA_DIR=$(CARGO_TARGET)/lambda npx cdk synth --quiet --no-notices
	# W3005: CDK adds DependsOn on each function's role on top of its GetAtt
	cfn-lint --ignore-checks W3005 -- $(CDK_TEMPLATE)

cdk-test:
	cd infra/cdk && npx tsc --noEmit && npm test

infra-check: cdk-synth
	python3 infra/tests/check_templates.py --self-test --sam --cdk $(CDK_TEMPLATE)

infra-test: infra-generate-check infra-lint cdk-test infra-check
