#!/usr/bin/env bash
# `make demo`: the training pipeline, run locally end to end.
#
# Builds the stepwright CLI and runs statemachines/training.asl.json with `stepwright run`:
# cleanse, validate and the approval gate run in process (the project's Lambda code as library
# functions, on files under out/s3/ standing in for S3), the SageMaker and SNS steps are answered
# from demo/mock-config.json (Step Functions Local format), the human approval is answered
# "approve". Then it runs again on an export that fails validation, to show the failure path.
#
# Needs only cargo (rustup): no Python, no Node, no AWS account, no network beyond crates.io.
# Writes to out/: the histories (JSON), the drawings (SVG, Mermaid), the run logs, and the
# cleansed data, rejects and profiles under out/s3/demo-data/.
#
# Environment (for tests and by hand):
#   STEPWRIGHT=PATH  use this stepwright binary instead of building one
#   DEMO_OUT=DIR     write there instead of out/ (it is emptied first)
# Exit codes: 0 the happy path deployed and the broken export failed as intended; 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
out=${DEMO_OUT:-out}

if [ -t 1 ]; then
  say() { printf '\n\033[1;34m== %s\033[0m\n' "$*"; }
else
  say() { printf '\n== %s\n' "$*"; }
fi
# the trace without the payloads (they are in the history files) and without the routine task
# events: one line per state entered and left, and every failure
brief() {
  sed -E -e 's/ (input|output|request|result)=.*$//' \
    -e '/^ +\+[0-9.]+s +Task(Scheduled|Started|Succeeded|Submitted) *$/d'
}

if [ -n "${STEPWRIGHT:-}" ]; then
  sw=$STEPWRIGHT
else
  command -v cargo >/dev/null || { echo "demo: cargo is needed (https://rustup.rs)" >&2; exit 1; }
  say "Building the stepwright CLI (the first build compiles the Lambdas and the AWS SDK crates: several minutes)"
  cargo build -p stepwright-cli
  target_dir=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
  sw="$target_dir/debug/stepwright"
fi

say "Preparing $out/ ($out/s3/<bucket>/<key> stands in for S3)"
rm -rf "$out"
mkdir -p "$out/s3/demo-data/raw" "$out/s3/demo-data/config"
cp demo/data/churn.csv demo/data/churn-broken-export.csv "$out/s3/demo-data/raw/"
cp demo/config/*.json "$out/s3/demo-data/config/"
echo "raw data: demo/data/churn.csv ($(($(wc -l < demo/data/churn.csv) - 1)) rows: padded and mixed-case categories, NA/empty values, outliers, ragged rows, duplicates)"

fn=arn:aws:lambda:us-east-1:123456789012:function:stepwright
common=(
  --substitutions demo/substitutions.json --objects "$out/s3" --mock-config demo/mock-config.json
  --lambda "$fn-cleanse=builtin:cleanse" --lambda "$fn-validate=builtin:validate"
  --lambda "$fn-approval-gate=builtin:approval-gate" --lambda "$fn-approval-notify=builtin:approval-notify"
)

say "Drawing the training pipeline: $out/training.svg (open it in a browser) and $out/training.mmd"
"$sw" render statemachines/training.asl.json --format svg -o "$out/training.svg"
"$sw" render statemachines/training.asl.json --format mermaid -o "$out/training.mmd"

say "Run 1: a new data set lands in S3 -> cleanse, validate, train, evaluate, approve, deploy"
echo "(λ: an in-process Lambda call as it happens; then each state of the execution in order,"
echo " '>' entered, '<' left, with the virtual time, and every failed task; the full payloads"
echo " and events are in the history and the log)"
set +e
"$sw" run statemachines/training.asl.json "${common[@]}" --test-case Deploy \
  --input @demo/inputs/training.json --history "$out/training-history.json" 2>&1 \
  | tee "$out/training.log" | brief
code=${PIPESTATUS[0]}
set -e
if [ "$code" -ne 0 ]; then
  echo "demo: run 1 should have deployed the model (exit code $code; see $out/training.log)" >&2
  exit 1
fi
echo "history: $out/training-history.json; log: $out/training.log"
echo "cleansed data: $out/s3/demo-data/clean/local/train.csv; rejects (one JSON line per row, with the rule): $out/s3/demo-data/clean/local/rejects.jsonl; profile: $out/s3/demo-data/profiles/local/train.json"

say "Run 2: a broken export (every customer marked as churned, too few rows) -> validation fails"
set +e
"$sw" run statemachines/training.asl.json "${common[@]}" --test-case Deploy \
  --input @demo/inputs/training-broken.json --history "$out/training-broken-history.json" 2>&1 \
  | tee "$out/training-broken.log" | brief
code=${PIPESTATUS[0]}
set -e
if [ "$code" -eq 1 ] && grep -q '^error: Pipeline.DataInvalid' "$out/training-broken.log"; then
  echo
  echo "Run 2 failed as intended: the pipeline stopped at validation (Pipeline.DataInvalid), notified the alert topic and did not train."
else
  echo "demo: run 2 should have failed with Pipeline.DataInvalid (exit code $code; see $out/training-broken.log)" >&2
  exit 1
fi

say "Done in $(( $(date +%s) - started )) s. Outputs in $out/:"
ls -1 "$out"
