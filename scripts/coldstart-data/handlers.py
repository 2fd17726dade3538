"""The cleanse and validate work of scripts/coldstart_data.py's event, as a plain Python Lambda
handler on a minimal runtime loop (standard library only: what a hand-written Python Lambda for
this job would import; boto3 is imported as a Python S3 handler would)."""
import csv, json, os, sys, urllib.request

import boto3  # noqa: F401  (a real handler reads and writes S3 through it)

API = f"http://{os.environ['AWS_LAMBDA_RUNTIME_API']}/2018-06-01/runtime"
NULLS = {"", "NA", "N/A", "null", "NULL", "NaN"}


def cleanse(ev):
    with open(ev["input"], newline="") as f:
        rows = list(csv.DictReader(f))
    kept = []
    for r in rows:
        r = {k: v.strip() for k, v in r.items()}
        r = {k: (None if v in NULLS else v) for k, v in r.items()}
        if r["label"] is None:
            continue
        try:
            r["x"] = None if r["x"] is None else float(r["x"])
            r["label"] = int(r["label"])
        except ValueError:
            continue
        kept.append(r)
    xs = [r["x"] for r in kept if r["x"] is not None]
    mean = sum(xs) / len(xs)
    tmp = ev["output"] + ".tmp"
    with open(tmp, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["x", "label"])
        for r in kept:
            w.writerow([mean if r["x"] is None else r["x"], r["label"]])
    os.replace(tmp, ev["output"])
    return {"rows_in": len(rows), "rows_out": len(kept)}


def validate(ev):
    with open(ev["input"], newline="") as f:
        rows = list(csv.DictReader(f))
    nulls = sum(1 for r in rows if r["x"] in NULLS)
    return {"passed": (1 - nulls / len(rows)) >= 0.8 and len(rows) >= 100, "rows": len(rows)}


def main():
    fn = {"cleanse": cleanse, "validate": validate}[sys.argv[1]]
    while True:
        with urllib.request.urlopen(API + "/invocation/next") as r:
            rid = r.headers["Lambda-Runtime-Aws-Request-Id"]
            ev = json.loads(r.read())
        body = json.dumps(fn(ev)).encode()
        urllib.request.urlopen(urllib.request.Request(f"{API}/invocation/{rid}/response", data=body, method="POST")).read()


if __name__ == "__main__":
    main()
