#!/usr/bin/env bash
# Cold start (process start -> first response) of the Lambda bootstraps under a minimal Runtime
# API (scripts/coldstart.py), against a Python (boto3) handler doing the same work. AWS calls go
# to a moto server on 127.0.0.1. Needs `make lambdas` (x86_64 bootstraps) and moto/boto3 (.venv).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
RUNS=${RUNS:-20}
LAMBDA_DIR=${LAMBDA_DIR:-target/lambda/x86_64}
PY=$(python3 -c "import sys; print(sys.executable)")
[ -x .venv/bin/python ] && PY=.venv/bin/python
tmp=$(mktemp -d)
port=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
moto_server -H 127.0.0.1 -p "$port" >"$tmp/moto.log" 2>&1 &
moto_pid=$!
trap 'kill $moto_pid 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 100); do grep -q "Running on" "$tmp/moto.log" 2>/dev/null && break; sleep 0.1; done
export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
arn=$($PY -c '
import boto3
sfn = boto3.client("stepfunctions")
print(sfn.create_state_machine(name="train", roleArn="arn:aws:iam::123456789012:role/sfn",
    definition="{\"StartAt\":\"D\",\"States\":{\"D\":{\"Type\":\"Succeed\"}}}")["stateMachineArn"])')
cat >"$tmp/s3.json" <<JSON
{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1","eventTime":"2024-06-01T12:00:00.000Z",
"eventName":"ObjectCreated:Put","userIdentity":{"principalId":"E"},"requestParameters":{"sourceIPAddress":"127.0.0.1"},
"responseElements":{},"s3":{"s3SchemaVersion":"1.0","bucket":{"name":"raw","arn":"arn:aws:s3:::raw"},
"object":{"key":"incoming/day+1.csv","size":42,"eTag":"abc","sequencer":"0055AED6DCD90281E5"}}}]}
JSON
env_args=(--env "STATE_MACHINE_ARN=$arn" --env TRIGGER_PREFIXES=incoming/ --env TRIGGER_SUFFIXES=.csv)
echo "## trigger (S3 event -> StartExecution on moto), $RUNS cold starts each"
[ -x "$LAMBDA_DIR/trigger/bootstrap" ] && $PY scripts/coldstart.py --runs "$RUNS" --event "$tmp/s3.json" "${env_args[@]}" -- "$LAMBDA_DIR/trigger/bootstrap"
$PY scripts/coldstart.py --runs "$RUNS" --event "$tmp/s3.json" "${env_args[@]}" -- "$PY" scripts/coldstart/trigger_handler.py

if [ -x "$LAMBDA_DIR/approval-gate/bootstrap" ]; then
  echo "## approval-gate, callback mode (GET of a signed approval link: HMAC check + page; no AWS call)"
  secret=0123456789abcdef0123456789abcdef
  query=$($PY -c '
import base64, hashlib, hmac, struct, sys, urllib.parse
secret, token, arn, exp = sys.argv[1].encode(), "token-1", "arn:aws:sagemaker:us-east-1:123456789012:model-package/churn/1", 4102444800
msg = b"".join(struct.pack(">Q", len(p)) + p for p in (token.encode(), arn.encode())) + struct.pack(">Q", exp)
sig = hmac.new(secret, msg, hashlib.sha256).hexdigest()
t = base64.urlsafe_b64encode(token.encode()).decode().rstrip("=")
q = urllib.parse.quote(arn, safe="")
print(f"t={t}&p={q}&e={exp}&s={sig}")' "$secret")
  printf '{"version":"2.0","rawPath":"/","rawQueryString":"%s","headers":{},"requestContext":{"timeEpoch":0,"http":{"method":"GET","path":"/"}},"isBase64Encoded":false}' "$query" >"$tmp/url.json"
  $PY scripts/coldstart.py --runs "$RUNS" --event "$tmp/url.json" --env APPROVAL_MODE=callback --env "APPROVAL_SECRET=$secret" -- "$LAMBDA_DIR/approval-gate/bootstrap"
fi
