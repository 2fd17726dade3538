#!/usr/bin/env bash
# `make demo`: the training pipeline, run locally end to end.
#
# Builds the stepwright CLI and runs statemachines/training.asl.json with `stepwright run`:
# cleanse, validate and the approval gate run in process (the project's Lambda code as library
# functions, on files under out/s3/ standing in for S3), the SageMaker steps are answered from
# demo/mock-config.json (Step Functions Local format), the human approval is answered "approve".
# Then it runs again on an export that fails validation, to show the failure path.
#
# Needs only cargo (rustup): no Python, no Node, no AWS account, no network beyond crates.io.
# Writes to out/: the histories (JSON), the drawings (SVG, Mermaid), the cleansed data, rejects
# and profiles under out/s3/demo-data/.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)

say() { printf '\n\033[1;34m== %s\033[0m\n' "$*"; }

command -v cargo >/dev/null || { echo "demo: cargo is needed (https://rustup.rs)" >&2; exit 2; }

say "Building the stepwright CLI (the first build compiles the Lambdas and the AWS SDK crates they use: several minutes)"
cargo build --quiet -p stepwright-cli
target_dir=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
sw="$target_dir/debug/stepwright"

say "Preparing out/ (out/s3/<bucket>/<key> stands in for S3)"
rm -rf out
mkdir -p out/s3/demo-data/raw out/s3/demo-data/config
cp demo/data/churn.csv demo/data/churn-broken-export.csv out/s3/demo-data/raw/
cp demo/config/*.json out/s3/demo-data/config/
echo "raw data: demo/data/churn.csv ($(($(wc -l < demo/data/churn.csv) - 1)) rows: padded and mixed-case categories, NA/empty values, outliers, ragged rows, duplicates)"

lambda=(
  --lambda "arn:aws:lambda:us-east-1:123456789012:function:stepwright-cleanse=builtin:cleanse"
  --lambda "arn:aws:lambda:us-east-1:123456789012:function:stepwright-validate=builtin:validate"
  --lambda "arn:aws:lambda:us-east-1:123456789012:function:stepwright-approval-gate=builtin:approval-gate"
  --lambda "arn:aws:lambda:us-east-1:123456789012:function:stepwright-approval-notify=builtin:approval-notify"
)
common=(--substitutions demo/substitutions.json --objects out/s3 --mock-config demo/mock-config.json "${lambda[@]}")

say "Drawing the training pipeline: out/training.svg (open it in a browser) and out/training.mmd"
"$sw" render statemachines/training.asl.json --format svg -o out/training.svg
"$sw" render statemachines/training.asl.json --format mermaid -o out/training.mmd

say "Run 1: a new data set lands in S3 -> cleanse, validate, train, evaluate, approve, deploy"
"$sw" run statemachines/training.asl.json "${common[@]}" --test-case Deploy \
  --input @demo/inputs/training.json --history out/training-history.json
echo "history: out/training-history.json; cleansed data: out/s3/demo-data/clean/local/train.csv; rejects: out/s3/demo-data/clean/local/rejects.jsonl; profile: out/s3/demo-data/profiles/local/train.json"

say "Run 2: a broken export (every customer marked as churned, too few rows) -> validation fails"
set +e
"$sw" run statemachines/training.asl.json "${common[@]}" --test-case Deploy \
  --input @demo/inputs/training-broken.json --history out/training-broken-history.json | tee out/training-broken.txt
code=${PIPESTATUS[0]}
set -e
if [ "$code" -eq 1 ] && grep -q '^error: Pipeline.DataInvalid' out/training-broken.txt; then
  echo
  echo "Run 2 failed as intended: the pipeline stopped at validation (Pipeline.DataInvalid), notified the alert topic and did not train."
else
  echo "demo: run 2 should have failed with Pipeline.DataInvalid (exit code $code)" >&2
  exit 1
fi

say "Done in $(( $(date +%s) - started )) s. Outputs in out/:"
ls -1 out
