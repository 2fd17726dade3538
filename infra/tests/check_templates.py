#!/usr/bin/env python3
"""Checks the deployment templates: what the stack must guarantee, on the CloudFormation that
would be deployed.

* infra/sam/template.yaml, expanded by the SAM translator (local CodeUri/DefinitionUri replaced
  by placeholders, as cfn-lint does);
* the CDK app's synthesized template (`--cdk FILE`, e.g. infra/cdk/cdk.out/Stepwright.template.json).

For each template: no IAM Allow statement has a wildcard action (`*`, `s3:*`, `s3:Get*`); the data
bucket is encrypted, blocks all public access, sends EventBridge notifications and denies
requests without TLS; every state machine's DefinitionSubstitutions define exactly the tokens of
its definition (statemachines/<name>.asl.json) and its role carries the generated policy
(infra/policies/<name>.policy.json: same statements, actions and number of resources); the
Lambdas are provided.al2023 on arm64 (SAM: built by cargo-lambda from a binary of this
workspace); each S3 trigger rule sends `Object Created` under a prefix to a trigger function that
starts the matching state machine; the approval callback has a function URL; the outputs name the
bucket, the state machines, the callback URL and the approval topic.

Usage: python3 infra/tests/check_templates.py [--sam] [--cdk FILE] [--self-test]   (default: --sam)
--self-test also breaks each template in memory in the ways the checks are for (an `s3:*` action,
no encryption, a missing substitution, ...) and fails unless every check notices.
Prints one line per check and `N passed, M failed`; exits 1 when a check failed.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import re
import subprocess
import sys
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "infra"))

from generate import MACHINES, load_template  # noqa: E402

TOKEN = re.compile(r"\$\{([A-Za-z0-9_]+)\}")
MACHINE_OF_TRIGGER_PREFIX = {"training": "training", "inference": "batch-inference", "datasets": "scale-out"}


class CheckFailed(Exception):
    pass


def expect(cond: bool, msg: str) -> None:
    if not cond:
        raise CheckFailed(msg)


# --- templates ----------------------------------------------------------------------------------


def sam_template() -> dict:
    """infra/sam/template.yaml through the SAM translator."""
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    from samtranslator.translator.transform import transform

    t = load_template(ROOT / "infra" / "sam" / "template.yaml")
    t = copy.deepcopy(t)
    t.setdefault("Globals", {}).setdefault("Function", {})["CodeUri"] = "s3://bucket/code.zip"
    for r in t["Resources"].values():
        props = r.get("Properties") or {}
        if "CodeUri" in props:
            props["CodeUri"] = "s3://bucket/code.zip"
        if "DefinitionUri" in props:
            # keep the file name: the state machine's name is read from it below
            props["DefinitionUri"] = "s3://bucket/" + Path(props["DefinitionUri"]).name

    class NoManagedPolicies:
        def load(self):
            return {}

    return transform(t, {}, NoManagedPolicies())


def resources(t: dict, type_: str) -> dict[str, dict]:
    return {k: v for k, v in t["Resources"].items() if v.get("Type") == type_}


def props(r: dict) -> dict:
    return r.get("Properties") or {}


def as_list(v):
    return v if isinstance(v, list) else [v]


def ref_id(v) -> str | None:
    """The logical id of `{"Ref": X}` or `{"Fn::GetAtt": [X, ...]}`."""
    if isinstance(v, dict):
        if "Ref" in v:
            return v["Ref"]
        if "Fn::GetAtt" in v:
            g = v["Fn::GetAtt"]
            return g[0] if isinstance(g, list) else g.split(".")[0]
    return None


def policy_documents(t: dict):
    """(where, document) for every IAM policy of the template: role inline policies,
    AWS::IAM::Policy / ManagedPolicy, and bucket and topic resource policies."""
    for k, r in t["Resources"].items():
        p = props(r)
        if r["Type"] == "AWS::IAM::Role":
            for pol in p.get("Policies") or []:
                yield f"{k}/{pol.get('PolicyName')}", pol["PolicyDocument"]
        elif r["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            yield k, p["PolicyDocument"]
        elif r["Type"] in ("AWS::S3::BucketPolicy", "AWS::SNS::TopicPolicy"):
            yield k, p["PolicyDocument"]


def role_statements(t: dict, role_id: str) -> list[dict]:
    """Every statement attached to a role: its inline policies and AWS::IAM::Policy resources."""
    out = []
    role = t["Resources"][role_id]
    for pol in props(role).get("Policies") or []:
        out.extend(as_list(pol["PolicyDocument"]["Statement"]))
    for r in resources(t, "AWS::IAM::Policy").values():
        if any(ref_id(x) == role_id for x in as_list(props(r).get("Roles", []))):
            out.extend(as_list(props(r)["PolicyDocument"]["Statement"]))
    return out


def machine_name(t: dict, logical_id: str, r: dict) -> str | None:
    """Which of statemachines/ a state machine deploys (from its DefinitionS3Location file name,
    its metadata, or its logical id)."""
    p = props(r)
    loc = p.get("DefinitionS3Location")
    if isinstance(loc, dict) and isinstance(loc.get("Key"), str):
        return loc["Key"].rsplit("/", 1)[-1].removesuffix(".asl.json")
    meta = (r.get("Metadata") or {}).get("stepwright:machine")
    if meta:
        return meta
    for name in MACHINES:
        if logical_id.lower().startswith(name.replace("-", "")):
            return name
    return None


def definition_tokens(name: str) -> set[str]:
    text = (ROOT / "statemachines" / f"{name}.asl.json").read_text(encoding="utf-8")
    return set(TOKEN.findall(text))


# --- checks -------------------------------------------------------------------------------------


def check_no_wildcard_actions(t: dict) -> str:
    n = 0
    for where, doc in policy_documents(t):
        for i, s in enumerate(as_list(doc.get("Statement", []))):
            if s.get("Effect") != "Allow":
                continue
            for a in as_list(s.get("Action", [])):
                expect(isinstance(a, str), f"{where}/Statement/{i}: action {a!r} is not a string")
                expect("*" not in a, f"{where}/Statement/{i}: wildcard action {a!r}")
                n += 1
            expect("NotAction" not in s, f"{where}/Statement/{i}: NotAction in an Allow")
    expect(n > 0, "no IAM actions found at all")
    return f"{n} allowed actions, none with *"


def data_bucket(t: dict) -> tuple[str, dict]:
    buckets = resources(t, "AWS::S3::Bucket")
    expect(len(buckets) == 1, f"expected one bucket, found {sorted(buckets)}")
    return next(iter(buckets.items()))


def check_bucket_private_and_encrypted(t: dict) -> str:
    bid, b = data_bucket(t)
    p = props(b)
    rules = (p.get("BucketEncryption") or {}).get("ServerSideEncryptionConfiguration") or []
    algos = [(r.get("ServerSideEncryptionByDefault") or {}).get("SSEAlgorithm") for r in rules]
    expect(any(a in ("AES256", "aws:kms", "aws:kms:dsse") for a in algos), f"{bid}: no SSE ({algos})")
    pab = p.get("PublicAccessBlockConfiguration") or {}
    for k in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"):
        expect(pab.get(k) is True, f"{bid}: PublicAccessBlockConfiguration.{k} is {pab.get(k)!r}")
    eb = ((p.get("NotificationConfiguration") or {}).get("EventBridgeConfiguration") or {})
    expect(eb.get("EventBridgeEnabled") is True, f"{bid}: EventBridge notifications are off")
    expect("AccessControl" not in p, f"{bid}: has a canned ACL")
    # TLS only: a Deny on aws:SecureTransport=false for the bucket and its objects
    policies = [
        props(r)["PolicyDocument"]
        for r in resources(t, "AWS::S3::BucketPolicy").values()
        if ref_id(props(r).get("Bucket")) == bid
    ]
    expect(policies, f"{bid}: no bucket policy")
    ok = False
    for doc in policies:
        for s in as_list(doc["Statement"]):
            cond = json.dumps(s.get("Condition", {}))
            if (
                s.get("Effect") == "Deny"
                and "aws:SecureTransport" in cond
                and "false" in cond
                and any(a in ("s3:*", "*") for a in as_list(s.get("Action")))
                and len(as_list(s.get("Resource"))) >= 2
            ):
                ok = True
            expect(
                not (s.get("Effect") == "Allow" and s.get("Principal") in ("*", {"AWS": "*"})),
                f"{bid}: the bucket policy allows everyone",
            )
    expect(ok, f"{bid}: no EnforceSSL statement (Deny s3:* when aws:SecureTransport is false)")
    return f"{bid}: {algos[0]}, public access blocked, EventBridge on, TLS enforced"


def state_machines(t: dict) -> dict[str, tuple[str, dict]]:
    out = {}
    for k, r in resources(t, "AWS::StepFunctions::StateMachine").items():
        name = machine_name(t, k, r)
        expect(name in MACHINES, f"{k}: cannot tell which of {MACHINES} it deploys")
        expect(name not in out, f"two state machines deploy {name}")
        out[name] = (k, r)
    expect(sorted(out) == sorted(MACHINES), f"state machines {sorted(out)} != {sorted(MACHINES)}")
    return out


def check_substitutions(t: dict) -> str:
    counts = []
    for name, (k, r) in sorted(state_machines(t).items()):
        subs = props(r).get("DefinitionSubstitutions") or {}
        wanted = definition_tokens(name)
        missing = sorted(wanted - set(subs))
        extra = sorted(set(subs) - wanted)
        expect(not missing, f"{k} ({name}): DefinitionSubstitutions lack {missing}")
        expect(not extra, f"{k} ({name}): DefinitionSubstitutions define unused {extra}")
        for key, v in subs.items():
            expect(v not in (None, ""), f"{k}: substitution {key} is empty")
        counts.append(f"{name} {len(wanted)}")
        if "Definition" in props(r):
            # the definition inline (CDK): it must be the file, tokens and all
            want = json.loads((ROOT / "statemachines" / f"{name}.asl.json").read_text())
            expect(props(r)["Definition"] == want, f"{k}: Definition differs from {name}.asl.json")
        elif "DefinitionString" in props(r):
            raise CheckFailed(f"{k}: DefinitionString (use Definition so cfn-lint reads the ASL)")
    return "tokens all substituted: " + ", ".join(counts)


def check_generated_policies(t: dict) -> str:
    out = []
    for name, (k, r) in sorted(state_machines(t).items()):
        role = ref_id(props(r).get("RoleArn"))
        expect(role in t["Resources"], f"{k}: RoleArn is not a role of the template")
        got = role_statements(t, role)
        want = json.loads((ROOT / "infra" / "policies" / f"{name}.policy.json").read_text())
        want_s = want["Statement"]

        def key(s):
            return (tuple(sorted(as_list(s["Action"]))), len(as_list(s["Resource"])),
                    json.dumps(s.get("Condition"), sort_keys=True))

        got_keys = sorted(key(s) for s in got)
        want_keys = sorted(key(s) for s in want_s)
        expect(
            got_keys == want_keys,
            f"{k} ({name}): the role's statements differ from infra/policies/{name}.policy.json "
            f"(run `make infra-generate`):\n  got  {got_keys}\n  want {want_keys}",
        )
        out.append(f"{name} {len(want_s)} statements")
    return "roles carry the generated policies: " + ", ".join(out)


def workspace_binaries() -> set[str]:
    p = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--no-deps", "--offline"],
        cwd=ROOT, capture_output=True, text=True,
    )
    expect(p.returncode == 0, f"cargo metadata failed: {p.stderr}")
    meta = json.loads(p.stdout)
    # binaries a default build makes (cleanse-file and validate-file need the `cli` feature)
    return {
        t["name"]
        for pkg in meta["packages"]
        for t in pkg["targets"]
        if "bin" in t["kind"] and set(t.get("required-features", [])) <= {"lambda"}
    }


def check_functions(t: dict, sam_source: dict | None) -> str:
    fns = resources(t, "AWS::Lambda::Function")
    expect(len(fns) >= 4, f"only {len(fns)} functions")
    for k, f in fns.items():
        p = props(f)
        expect(p.get("Runtime") == "provided.al2023", f"{k}: runtime {p.get('Runtime')}")
        expect(p.get("Architectures") == ["arm64"], f"{k}: architectures {p.get('Architectures')}")
        expect(p.get("Handler") == "bootstrap", f"{k}: handler {p.get('Handler')}")
    binaries = None
    if sam_source is not None:
        binaries = workspace_binaries()
        for k, r in sam_source["Resources"].items():
            if r.get("Type") != "AWS::Serverless::Function":
                continue
            meta = r.get("Metadata") or {}
            expect(meta.get("BuildMethod") == "rust-cargolambda", f"{k}: BuildMethod {meta.get('BuildMethod')}")
            b = (meta.get("BuildProperties") or {}).get("Binary")
            expect(b in binaries, f"{k}: Binary {b!r} is not a Lambda binary of the workspace {sorted(binaries)}")
    modes = {}
    for k, f in fns.items():
        env = (props(f).get("Environment") or {}).get("Variables") or {}
        if "APPROVAL_MODE" in env:
            modes[env["APPROVAL_MODE"]] = (k, env)
    expect(sorted(modes) == ["callback", "gate", "notify"], f"approval modes {sorted(modes)}")
    _, notify = modes["notify"]
    for v in ("APPROVAL_TOPIC_ARN", "APPROVAL_CALLBACK_URL", "APPROVAL_SECRET"):
        expect(v in notify, f"the notify function lacks {v}")
    cb_id, cb = modes["callback"]
    expect("APPROVAL_SECRET" in cb, "the callback function lacks APPROVAL_SECRET")
    urls = [r for r in resources(t, "AWS::Lambda::Url").values() if ref_id(props(r).get("TargetFunctionArn")) == cb_id]
    expect(len(urls) == 1, f"the callback function {cb_id} has no function URL")
    expect(ref_id(notify["APPROVAL_CALLBACK_URL"]) in resources(t, "AWS::Lambda::Url"),
           "APPROVAL_CALLBACK_URL is not the callback's function URL")
    extra = f", binaries {sorted(binaries)}" if binaries else ""
    return f"{len(fns)} functions provided.al2023/arm64, approval gate/notify/callback{extra}"


def check_triggers(t: dict) -> str:
    machines = {k: name for name, (k, _) in state_machines(t).items()}
    fns = resources(t, "AWS::Lambda::Function")
    bid, _ = data_bucket(t)
    seen = {}
    for rid, rule in resources(t, "AWS::Events::Rule").items():
        p = props(rule)
        pat = p.get("EventPattern") or {}
        if pat.get("source") != ["aws.s3"]:
            continue
        expect(pat.get("detail-type") == ["Object Created"], f"{rid}: detail-type {pat.get('detail-type')}")
        detail = pat.get("detail") or {}
        expect([ref_id(x) for x in detail.get("bucket", {}).get("name", [])] == [bid],
               f"{rid}: not filtered on the data bucket")
        keys = detail.get("object", {}).get("key", [])
        expect(len(keys) == 1 and "prefix" in keys[0], f"{rid}: no key prefix filter ({keys})")
        prefix = keys[0]["prefix"]
        targets = [ref_id(x.get("Arn")) for x in p.get("Targets", [])]
        expect(len(targets) == 1 and targets[0] in fns, f"{rid}: targets {targets}")
        env = (props(fns[targets[0]]).get("Environment") or {}).get("Variables") or {}
        sm = ref_id(env.get("STATE_MACHINE_ARN"))
        expect(sm in machines, f"{targets[0]}: STATE_MACHINE_ARN is not a state machine of the stack")
        expect(env.get("TRIGGER_PREFIXES") == prefix,
               f"{targets[0]}: TRIGGER_PREFIXES {env.get('TRIGGER_PREFIXES')} != the rule's prefix {prefix}")
        # the trigger may start exactly that machine
        stmts = role_statements(t, ref_id(props(fns[targets[0]])["Role"]))
        starts = [s for s in stmts if "states:StartExecution" in as_list(s["Action"])]
        expect(starts and all(ref_id(r) == sm for s in starts for r in as_list(s["Resource"])),
               f"{targets[0]}: may start more than {sm}")
        seen[machines[sm]] = rid
    expect(sorted(seen) == sorted(MACHINES), f"S3 triggers start {sorted(seen)}, not every machine")
    return "Object Created → trigger → StartExecution for " + ", ".join(sorted(seen))


def check_topics_and_outputs(t: dict) -> str:
    topics = resources(t, "AWS::SNS::Topic")
    expect(len(topics) >= 2, f"topics {sorted(topics)}")
    for k, r in topics.items():
        expect(props(r).get("KmsMasterKeyId"), f"{k}: not encrypted")
    outputs = t.get("Outputs") or {}
    named = {ref_id(v.get("Value")) for v in outputs.values()}
    bid, _ = data_bucket(t)
    want = {"the bucket": bid}
    for name, (k, _) in state_machines(t).items():
        want[f"the {name} state machine"] = k
    for what, logical_id in want.items():
        expect(logical_id in named, f"no output for {what} ({logical_id})")
    expect(named & set(resources(t, "AWS::Lambda::Url")), "no output for the callback URL")
    expect(named & set(topics), "no output for a topic")
    return f"topics encrypted; {len(outputs)} outputs (bucket, state machines, callback URL, topics)"


# --- self-test: each check catches what it is for ------------------------------------------------


def _first(t: dict, type_: str) -> dict:
    return props(next(iter(resources(t, type_).values())))


def _machine_role(t: dict, name: str) -> str:
    k, r = state_machines(t)[name]
    return ref_id(props(r)["RoleArn"])


def _mutations():
    """(what, check, mutate(template)) triples: the check must fail on the mutated template."""

    def wildcard(t):
        role = next(iter(resources(t, "AWS::IAM::Role").values()))
        props(role).setdefault("Policies", []).append(
            {"PolicyName": "x", "PolicyDocument": {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}}
        )

    def unencrypted(t):
        _first(t, "AWS::S3::Bucket").pop("BucketEncryption")

    def public(t):
        _first(t, "AWS::S3::Bucket")["PublicAccessBlockConfiguration"]["RestrictPublicBuckets"] = False

    def no_tls(t):
        for r in resources(t, "AWS::S3::BucketPolicy").values():
            props(r)["PolicyDocument"]["Statement"] = []

    def no_eventbridge(t):
        _first(t, "AWS::S3::Bucket").pop("NotificationConfiguration")

    def missing_substitution(t):
        _, r = state_machines(t)["training"]
        props(r)["DefinitionSubstitutions"].pop("EndpointName")

    def extra_substitution(t):
        _, r = state_machines(t)["scale-out"]
        props(r)["DefinitionSubstitutions"]["Unused"] = "x"

    def widened_policy(t):
        role = t["Resources"][_machine_role(t, "batch-inference")]
        props(role)["Policies"][0]["PolicyDocument"]["Statement"].append(
            {"Effect": "Allow", "Action": ["sagemaker:DeleteEndpoint"], "Resource": ["*"]}
        )

    def x86(t):
        next(iter(resources(t, "AWS::Lambda::Function").values()))["Properties"]["Architectures"] = ["x86_64"]

    def wrong_prefix(t):
        for f in resources(t, "AWS::Lambda::Function").values():
            env = (props(f).get("Environment") or {}).get("Variables") or {}
            if "TRIGGER_PREFIXES" in env:
                env["TRIGGER_PREFIXES"] = "elsewhere/"
                return

    def broad_trigger(t):
        for f in resources(t, "AWS::Lambda::Function").values():
            env = (props(f).get("Environment") or {}).get("Variables") or {}
            if "STATE_MACHINE_ARN" in env:
                role = t["Resources"][ref_id(props(f)["Role"])]
                props(role).setdefault("Policies", []).append({"PolicyName": "x", "PolicyDocument": {
                    "Statement": [{"Effect": "Allow", "Action": "states:StartExecution", "Resource": "*"}]}})
                return

    def no_url_output(t):
        for k, v in list(t["Outputs"].items()):
            if ref_id(v.get("Value")) in resources(t, "AWS::Lambda::Url"):
                del t["Outputs"][k]

    return [
        ("an s3:* action", check_no_wildcard_actions, wildcard),
        ("no bucket encryption", check_bucket_private_and_encrypted, unencrypted),
        ("a public access block off", check_bucket_private_and_encrypted, public),
        ("no EnforceSSL statement", check_bucket_private_and_encrypted, no_tls),
        ("EventBridge notifications off", check_bucket_private_and_encrypted, no_eventbridge),
        ("a token without a substitution", check_substitutions, missing_substitution),
        ("an unused substitution", check_substitutions, extra_substitution),
        ("a statement beyond the generated policy", check_generated_policies, widened_policy),
        ("an x86_64 function", lambda t: check_functions(t, None), x86),
        ("a trigger prefix unlike its rule's", check_triggers, wrong_prefix),
        ("a trigger allowed to start any machine", check_triggers, broad_trigger),
        ("no output for the callback URL", check_topics_and_outputs, no_url_output),
    ]


def self_test(t: dict) -> str:
    for what, check, mutate in _mutations():
        check(t)  # passes on the template as it is
        bad = copy.deepcopy(t)
        mutate(bad)
        try:
            check(bad)
        except CheckFailed:
            continue
        raise CheckFailed(f"{check.__name__} did not notice {what}")
    return f"{len(_mutations())} mutations of the template, each caught by its check"


# --- main ---------------------------------------------------------------------------------------


def run(label: str, t: dict, sam_source: dict | None, with_self_test: bool = False) -> tuple[int, int]:
    checks = [
        ("no wildcard actions", lambda: check_no_wildcard_actions(t)),
        ("bucket encrypted and private", lambda: check_bucket_private_and_encrypted(t)),
        ("substitutions", lambda: check_substitutions(t)),
        ("generated policies", lambda: check_generated_policies(t)),
        ("functions", lambda: check_functions(t, sam_source)),
        ("S3 triggers", lambda: check_triggers(t)),
        ("topics and outputs", lambda: check_topics_and_outputs(t)),
    ]
    if with_self_test:
        checks.append(("self-test", lambda: self_test(t)))
    passed = failed = 0
    for name, fn in checks:
        try:
            detail = fn()
            print(f"ok   {label}: {name}: {detail}")
            passed += 1
        except CheckFailed as e:
            print(f"FAIL {label}: {name}: {e}")
            failed += 1
        except Exception:  # a broken template shape: report it as a failure, with the trace
            print(f"FAIL {label}: {name}: error\n{traceback.format_exc()}")
            failed += 1
    return passed, failed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sam", action="store_true", help="check infra/sam/template.yaml")
    ap.add_argument("--cdk", metavar="FILE", help="check a synthesized CDK template")
    ap.add_argument("--self-test", action="store_true", help="also check that each check catches a broken template")
    args = ap.parse_args()
    if not args.sam and not args.cdk:
        args.sam = True
    passed = failed = 0
    if args.sam:
        source = load_template(ROOT / "infra" / "sam" / "template.yaml")
        p, f = run("sam", sam_template(), source, args.self_test)
        passed, failed = passed + p, failed + f
    if args.cdk:
        with open(args.cdk, encoding="utf-8") as fh:
            p, f = run("cdk", json.load(fh), None, args.self_test)
        passed, failed = passed + p, failed + f
    print(f"infra template checks: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
