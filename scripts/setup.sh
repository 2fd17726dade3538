#!/usr/bin/env bash
# Installs what the tests and the demo need, idempotently: Rust components and targets, a Python
# venv with moto/cfn-lint/sam/cargo-lambda, and the npm tools. Re-running is cheap (stamp files).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }

# `scripts/setup.sh rust` installs the Rust part only, `scripts/setup.sh tools` the rest (make test
# builds the Rust code while the tools install); no argument, both.
part=${1:-all}
case "$part" in
  all | rust | tools) ;;
  *) echo "usage: scripts/setup.sh [rust|tools]" >&2; exit 2 ;;
esac

# --- Rust ---------------------------------------------------------------------------------------
if [ "$part" != tools ] && command -v rustup >/dev/null; then
  rustup component list --installed 2>/dev/null | grep -q '^clippy' || { log "rustup: clippy"; rustup component add clippy; }
  rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || { log "rustup: rustfmt"; rustup component add rustfmt; }
  # the Lambdas (sam build, cargo lambda build --arm64) run on arm64
  rustup target list --installed 2>/dev/null | grep -q '^aarch64-unknown-linux-gnu' || { log "rustup: aarch64-unknown-linux-gnu"; rustup target add aarch64-unknown-linux-gnu; }
fi

if [ "$part" = rust ]; then
  log "ready (Rust)"
  exit 0
fi

# --- Python tools in .venv ----------------------------------------------------------------------
py_stamp=.venv/.stamp-$(sha256sum tools/requirements.txt | cut -c1-16)
if [ ! -f "$py_stamp" ]; then
  log "python venv (.venv): $(tr '\n' ' ' < tools/requirements.txt | sed 's/#[^ ]*//g' | head -c 200)"
  python3 -m venv .venv
  .venv/bin/pip install --quiet --upgrade pip
  .venv/bin/pip install --quiet -r tools/requirements.txt
  rm -f .venv/.stamp-*
  touch "$py_stamp"
fi

# --- npm tools (asl-validator) ------------------------------------------------------------------
if [ -f tools/package.json ]; then
  npm_stamp=tools/node_modules/.stamp-$(cat tools/package.json tools/package-lock.json 2>/dev/null | sha256sum | cut -c1-16)
  if [ ! -f "$npm_stamp" ]; then
    log "npm tools (tools/node_modules)"
    (cd tools && npm ci --no-audit --no-fund --loglevel=error)
    rm -f tools/node_modules/.stamp-*
    touch "$npm_stamp"
  fi
fi
# --- the CDK app (infra/cdk/node_modules) -------------------------------------------------------
if [ -f infra/cdk/package.json ]; then
  cdk_stamp=infra/cdk/node_modules/.stamp-$(cat infra/cdk/package.json infra/cdk/package-lock.json 2>/dev/null | sha256sum | cut -c1-16)
  if [ ! -f "$cdk_stamp" ]; then
    log "CDK app (infra/cdk/node_modules)"
    (cd infra/cdk && npm ci --no-audit --no-fund --loglevel=error)
    rm -f infra/cdk/node_modules/.stamp-*
    touch "$cdk_stamp"
  fi
fi
log "ready"
