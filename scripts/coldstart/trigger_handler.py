#!/usr/bin/env python3
"""The trigger Lambda written in Python (boto3), for the cold-start comparison in
docs/BENCHMARKS.md: same event parsing, filters, execution name and StartExecution call as
crates/lambdas/trigger. Runs its own minimal Runtime API loop (urllib), so the numbers exclude
the managed Python runtime's own bootstrap (in the Python handler's favour)."""
import hashlib
import json
import os
import re
import struct
import urllib.parse
import urllib.request

import boto3

sfn = boto3.client("stepfunctions")  # created at init, as a Python Lambda would
ARN = os.environ["STATE_MACHINE_ARN"]
PREFIXES = [p.strip() for p in os.environ.get("TRIGGER_PREFIXES", "").split(",") if p.strip()]
SUFFIXES = [s.strip() for s in os.environ.get("TRIGGER_SUFFIXES", "").split(",") if s.strip()]


def name_for(bucket, key, ident):
    h = hashlib.sha256()
    for part in (bucket, key, ident):
        b = part.encode()
        h.update(struct.pack(">Q", len(b)) + b)
    slug = re.sub(r"[^A-Za-z0-9_]+", "-", key.rstrip("/").rsplit("/", 1)[-1]).strip("-")[:47].rstrip("-")
    return f"{slug or 'object'}-{h.hexdigest()[:32]}"


def handler(event):
    results = []
    for r in event["Records"]:
        o = r["s3"]["object"]
        bucket, key = r["s3"]["bucket"]["name"], urllib.parse.unquote_plus(o["key"])
        if (PREFIXES and not any(key.startswith(p) for p in PREFIXES)) or (
            SUFFIXES and not any(key.endswith(s) for s in SUFFIXES)):
            results.append({"bucket": bucket, "key": key, "outcome": "filtered"})
            continue
        ident = "version:" + o["versionId"] if o.get("versionId") else "sequencer:" + o["sequencer"]
        name = name_for(bucket, key, ident)
        inp = {"bucket": bucket, "key": key, "version": o.get("versionId"), "size": o.get("size"),
               "etag": o.get("eTag")}
        try:
            out = sfn.start_execution(stateMachineArn=ARN, name=name, input=json.dumps(inp))
            results.append({"bucket": bucket, "key": key, "outcome": "started", "execution_arn": out["executionArn"]})
        except sfn.exceptions.ExecutionAlreadyExists:
            results.append({"bucket": bucket, "key": key, "outcome": "already_started"})
    return {"results": results}


api = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime/invocation/"
while True:
    with urllib.request.urlopen(api + "next") as resp:
        rid = resp.headers["Lambda-Runtime-Aws-Request-Id"]
        event = json.loads(resp.read())
    body = json.dumps(handler(event)).encode()
    urllib.request.urlopen(urllib.request.Request(api + rid + "/response", data=body, method="POST")).read()
