#!/usr/bin/env python3
"""Writes the generated parts of the deployment templates from statemachines/.

For each state machine (statemachines/<name>.asl.json) it asks the IAM generator for the
CloudFormation-scoped policy (`stepwright policy --cloudformation`: `${Name}` substitution tokens
kept, `${AWS::Partition}`/`${AWS::Region}`/`${AWS::AccountId}` in the ARNs) and writes

* infra/policies/<name>.policy.json: the policy as the generator printed it (the CDK app reads
  it and wraps each resource in `Fn::Sub` with its own substitution values);
* the block of infra/sam/template.yaml between `# BEGIN generated policy <name>` and
  `# END generated policy <name>`: the same policy, every resource with a `${...}` as `Fn::Sub`
  whose variables are the state machine's own `DefinitionSubstitutions` values, so the policy
  and the definition name the same functions, topic, role, bucket and endpoint.

Usage: python3 infra/generate.py [--check] [--stepwright PATH]
  --check       write nothing; exit 1 when a generated file or block is stale
  --stepwright  the stepwright binary (default: `cargo run -q -p stepwright-cli --`)
Exit codes: 0 written / up to date, 1 stale (--check), 2 error.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
STATEMACHINES = ROOT / "statemachines"
SAM_TEMPLATE = ROOT / "infra" / "sam" / "template.yaml"
POLICIES = ROOT / "infra" / "policies"

# The machines and the names they are deployed under (the Distributed Map of scale-out starts
# child executions of its own state machine, so its policy names it).
MACHINES = ["training", "batch-inference", "scale-out"]
STATE_MACHINE_NAME = "${AWS::StackName}-%s"

TOKEN = re.compile(r"\$\{([^}]+)\}")


class GenerateError(Exception):
    """A problem the user has to fix (missing substitution, missing marker, ...)."""


# --- CloudFormation YAML ------------------------------------------------------------------------


class CfnLoader(yaml.SafeLoader):
    """A YAML loader that reads CloudFormation short-form tags (`!Ref X` → {"Ref": "X"})."""


def _construct_tag(loader: CfnLoader, suffix: str, node: yaml.Node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    if suffix == "Condition":
        return {"Condition": value}
    return {"Fn::" + suffix: value}


CfnLoader.add_multi_constructor("!", _construct_tag)


def load_template(path: Path) -> dict:
    """The template as plain data (short-form tags turned into their long forms)."""
    with open(path, encoding="utf-8") as f:
        return yaml.load(f, Loader=CfnLoader)  # noqa: S506 (CfnLoader is a SafeLoader)


# --- the policy ---------------------------------------------------------------------------------


def run_policy(stepwright: list[str], name: str) -> dict:
    """`stepwright policy --cloudformation` for statemachines/<name>.asl.json."""
    asl = STATEMACHINES / f"{name}.asl.json"
    if not asl.is_file():
        raise GenerateError(f"{asl.relative_to(ROOT)} does not exist (run `make statemachines`)")
    cmd = stepwright + [
        "policy",
        str(asl),
        "--cloudformation",
        "--state-machine-name",
        STATE_MACHINE_NAME % name,
    ]
    p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if p.returncode != 0:
        raise GenerateError(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stderr}")
    if p.stderr.strip():
        # warnings (size limit, unknown integrations) must not pass unnoticed
        raise GenerateError(f"stepwright policy warned about {name}:\n{p.stderr}")
    return json.loads(p.stdout)


def tokens(text: str) -> list[str]:
    """The `${...}` names in `text` that are not CloudFormation pseudo parameters."""
    return [t for t in TOKEN.findall(text) if not t.startswith("AWS::")]


def sub(value: str, substitutions: dict, where: str):
    """`value` as a CloudFormation value: as is without `${`, else `Fn::Sub` whose variables are
    the substitutions it names."""
    if "${" not in value:
        return value
    names = tokens(value)
    missing = [n for n in names if n not in substitutions]
    if missing:
        raise GenerateError(
            f"{where}: the policy names {', '.join('${' + n + '}' for n in missing)}, which the "
            "state machine's DefinitionSubstitutions do not define"
        )
    if not names:
        return {"Fn::Sub": value}
    if value == "${" + names[0] + "}":
        # the whole value is one token: its substitution as it is
        return substitutions[names[0]]
    return {"Fn::Sub": [value, {n: substitutions[n] for n in dict.fromkeys(names)}]}


def cfn_policy(policy: dict, substitutions: dict, where: str) -> dict:
    """The policy document with every resource turned into a CloudFormation value."""
    out = {"Version": policy["Version"], "Statement": []}
    for i, s in enumerate(policy["Statement"]):
        if "${" in json.dumps(s.get("Condition", {})):
            raise GenerateError(f"{where}: statement {i} has a token in its Condition")
        t = {"Effect": s["Effect"], "Action": s["Action"]}
        t["Resource"] = [sub(r, substitutions, f"{where}/Statement/{i}") for r in s["Resource"]]
        if "Condition" in s:
            t["Condition"] = s["Condition"]
        out["Statement"].append(t)
    return out


# --- YAML output ---------------------------------------------------------------------------------

PLAIN_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9:_.-]*$")


def _key(k: str) -> str:
    return k if PLAIN_KEY.match(k) else json.dumps(k)


def _scalar(v) -> str:
    # JSON strings, numbers and booleans are valid YAML flow scalars
    return json.dumps(v)


WIDTH = 100


def emit(value, indent: int, base: int = 0) -> list[str]:
    """YAML lines for `value` at `indent` spaces: block style, with a collection that fits the
    line (`base` + `indent` + its JSON within WIDTH characters) in flow style (JSON is YAML)."""
    pad = " " * indent
    lines: list[str] = []
    def fits(prefix: str, v) -> bool:
        # flow style for a list or a one-key mapping (`{"Fn::GetAtt": [...]}`) that fits
        if isinstance(v, dict) and len(v) > 1:
            return False
        return base + indent + len(prefix) + len(json.dumps(v)) <= WIDTH

    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, (dict, list)) and v and not fits(_key(k) + ": ", v):
                lines.append(f"{pad}{_key(k)}:")
                lines.extend(emit(v, indent + 2, base))
            else:
                lines.append(f"{pad}{_key(k)}: {_scalar(v)}")
    elif isinstance(value, list):
        for v in value:
            if isinstance(v, (dict, list)) and v and not fits("- ", v):
                inner = emit(v, indent + 2, base)
                # the first line goes after the dash
                lines.append(f"{pad}- {inner[0].lstrip()}")
                lines.extend(inner[1:])
            else:
                lines.append(f"{pad}- {_scalar(v)}")
    else:
        lines.append(f"{pad}{_scalar(value)}")
    return lines


# --- the SAM template ---------------------------------------------------------------------------


def state_machines(template: dict) -> dict[str, tuple[str, dict]]:
    """machine name → (logical id, DefinitionSubstitutions) for the template's state machines."""
    found = {}
    for logical_id, r in (template.get("Resources") or {}).items():
        if r.get("Type") != "AWS::Serverless::StateMachine":
            continue
        props = r.get("Properties") or {}
        uri = props.get("DefinitionUri")
        if not isinstance(uri, str) or not uri.endswith(".asl.json"):
            continue
        name = Path(uri).name[: -len(".asl.json")]
        found[name] = (logical_id, props.get("DefinitionSubstitutions") or {})
    return found


def replace_block(text: str, name: str, body) -> str:
    """Replaces the lines between the `BEGIN`/`END generated policy <name>` markers with
    `body(indent)` (indented as the marker)."""
    begin = re.compile(rf"^(?P<pad> *)# BEGIN generated policy {re.escape(name)}\b.*$", re.M)
    m = begin.search(text)
    if not m:
        raise GenerateError(f"template.yaml has no `# BEGIN generated policy {name}` marker")
    end = re.compile(rf"^ *# END generated policy {re.escape(name)}\b.*$", re.M)
    e = end.search(text, m.end())
    if not e:
        raise GenerateError(f"template.yaml has no `# END generated policy {name}` marker")
    pad = len(m.group("pad"))
    body = body(pad)
    block = "\n".join(" " * pad + line if line else line for line in body)
    return text[: m.end()] + "\n" + block + "\n" + text[e.start() :]


def sam_policy_lines(document: dict, pad: int) -> list[str]:
    """The `Policies:` list entry for one policy document, for a block indented by `pad`."""
    return emit([document], 0, pad)


# --- main ---------------------------------------------------------------------------------------


def generate(stepwright: list[str]) -> dict[Path, str]:
    """Every generated file's path and wanted contents."""
    template_text = SAM_TEMPLATE.read_text(encoding="utf-8")
    template = load_template(SAM_TEMPLATE)
    machines = state_machines(template)
    out: dict[Path, str] = {}
    for name in MACHINES:
        policy = run_policy(stepwright, name)
        out[POLICIES / f"{name}.policy.json"] = json.dumps(policy, indent=2) + "\n"
        if name not in machines:
            raise GenerateError(
                f"infra/sam/template.yaml has no AWS::Serverless::StateMachine with "
                f"DefinitionUri .../{name}.asl.json"
            )
        logical_id, substitutions = machines[name]
        document = cfn_policy(policy, substitutions, f"{logical_id}/Policies")
        template_text = replace_block(
            template_text, name, lambda pad, d=document: sam_policy_lines(d, pad)
        )
    out[SAM_TEMPLATE] = template_text
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="exit 1 when something is stale")
    ap.add_argument("--stepwright", help="path of the stepwright binary")
    args = ap.parse_args()
    stepwright = (
        [args.stepwright] if args.stepwright else ["cargo", "run", "-q", "-p", "stepwright-cli", "--"]
    )
    try:
        files = generate(stepwright)
    except GenerateError as e:
        print(f"infra/generate.py: {e}", file=sys.stderr)
        return 2
    stale = []
    for path, text in files.items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        stale.append(path.relative_to(ROOT))
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    if args.check and stale:
        print(
            "infra/generate.py: stale: "
            + ", ".join(str(p) for p in stale)
            + " (run `make infra-generate`)",
            file=sys.stderr,
        )
        return 1
    verb = "up to date" if not stale else "wrote " + ", ".join(str(p) for p in stale)
    print(f"infra/generate.py: {verb}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
