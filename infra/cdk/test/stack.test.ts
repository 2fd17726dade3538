// Assertion tests of the CDK stack (node's test runner with tsx: `npm test`).

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";

import { App, Stack } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import * as lambda from "aws-cdk-lib/aws-lambda";

import { definition, definitionTokens, generatedPolicy, MACHINES, resolveResource, ROOT, tokens } from "../lib/pipelines";
import { StepwrightStack } from "../lib/stack";

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A directory with a stand-in bootstrap (the real ones come from cargo-lambda). */
const fakeCode = (() => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stepwright-cdk-"));
  fs.writeFileSync(path.join(dir, "bootstrap"), "#!/bin/sh\n");
  return dir;
})();

function synth(props: { root?: string } = {}): { stack: Stack; template: Template; json: Json } {
  const app = new App();
  const stack = new StepwrightStack(app, "Test", { lambdaCode: () => lambda.Code.fromAsset(fakeCode), ...props });
  const template = Template.fromStack(stack);
  return { stack, template, json: template.toJSON() };
}

const { template, json } = synth();
const resourcesOf = (type: string): [string, Json][] =>
  Object.entries(json.Resources as Record<string, Json>).filter(([, r]) => r.Type === type);

function machine(name: string): [string, Json] {
  const found = resourcesOf("AWS::StepFunctions::StateMachine").filter(([, r]) => r.Metadata?.["stepwright:machine"] === name);
  assert.equal(found.length, 1, `one state machine deploys ${name}`);
  return found[0];
}

/** Every statement of a role: inline policies and AWS::IAM::Policy resources attached to it. */
function roleStatements(roleId: string): Json[] {
  const out: Json[] = [];
  for (const p of json.Resources[roleId].Properties.Policies ?? []) out.push(...p.PolicyDocument.Statement);
  for (const [, p] of resourcesOf("AWS::IAM::Policy")) {
    if (p.Properties.Roles.some((r: Json) => r.Ref === roleId)) out.push(...p.Properties.PolicyDocument.Statement);
  }
  return out;
}

const asList = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

describe("data bucket", () => {
  it("is encrypted, private, versioned and sends EventBridge notifications", () => {
    template.resourceCountIs("AWS::S3::Bucket", 1);
    template.hasResourceProperties("AWS::S3::Bucket", {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" }, BucketKeyEnabled: true }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      NotificationConfiguration: { EventBridgeConfiguration: { EventBridgeEnabled: true } },
      VersioningConfiguration: { Status: "Enabled" },
      OwnershipControls: { Rules: [{ ObjectOwnership: "BucketOwnerEnforced" }] },
    });
  });

  it("denies requests without TLS", () => {
    template.hasResourceProperties("AWS::S3::BucketPolicy", {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: "Deny",
            Action: "s3:*",
            Condition: { Bool: { "aws:SecureTransport": "false" } },
            Principal: { AWS: "*" },
          }),
        ]),
      },
    });
  });

  it("needs no custom resource (no hidden Lambda, no s3:PutBucketNotification on *)", () => {
    const custom = Object.values(json.Resources as Record<string, Json>).filter((r) => r.Type.startsWith("Custom::"));
    assert.deepEqual(custom, []);
  });
});

describe("state machines", () => {
  for (const name of MACHINES) {
    it(`${name}: the definition is statemachines/${name}.asl.json and every token is substituted`, () => {
      const [, sm] = machine(name);
      assert.deepEqual(sm.Properties.Definition, definition(name));
      assert.deepEqual(Object.keys(sm.Properties.DefinitionSubstitutions).sort(), definitionTokens(name).sort());
      assert.equal(sm.Properties.StateMachineType, "STANDARD");
    });

    it(`${name}: the role carries the generated policy, tokens resolved to the same values`, () => {
      const [, sm] = machine(name);
      const subs = sm.Properties.DefinitionSubstitutions;
      const roleId = sm.Properties.RoleArn["Fn::GetAtt"][0];
      const got = roleStatements(roleId);
      const want = generatedPolicy(name).Statement;
      assert.equal(got.length, want.length);
      want.forEach((w, i) => {
        const g = got[i];
        assert.deepEqual(asList(g.Action), w.Action, `statement ${i} actions`);
        assert.deepEqual(g.Condition, w.Condition, `statement ${i} condition`);
        const resources = asList(g.Resource);
        assert.equal(resources.length, w.Resource.length);
        w.Resource.forEach((r, j) => {
          const toks = tokens(r);
          if (toks.length === 1 && r === "${" + toks[0] + "}") {
            // a whole token: exactly what the definition gets
            assert.deepEqual(resources[j], subs[toks[0]], `${r}`);
          } else if (r.includes("${")) {
            const [text, vars] = resources[j]["Fn::Sub"] instanceof Array ? resources[j]["Fn::Sub"] : [resources[j]["Fn::Sub"], {}];
            assert.equal(text, r);
            for (const t of toks) assert.deepEqual(vars[t], subs[t], `${r}: ${t}`);
          } else {
            assert.equal(resources[j], r);
          }
        });
      });
    });
  }

  it("names the Lambda functions, topic and role of the stack in the training policy", () => {
    const [, sm] = machine("training");
    const roleId = sm.Properties.RoleArn["Fn::GetAtt"][0];
    const invoke = roleStatements(roleId).find((s) => asList(s.Action).includes("lambda:InvokeFunction"));
    const fns = new Set(asList(invoke.Resource).map((r: Json) => r["Fn::GetAtt"]?.[0]).filter(Boolean));
    const ids = resourcesOf("AWS::Lambda::Function").map(([id]) => id);
    for (const prefix of ["CleanseFunction", "ValidateFunction", "ApprovalGateFunction", "ApprovalNotifyFunction"]) {
      assert.ok([...fns].some((f) => ids.includes(f as string) && (f as string).startsWith(prefix)), prefix);
    }
    const passRole = roleStatements(roleId).find((s) => asList(s.Action).includes("iam:PassRole"));
    assert.deepEqual(passRole.Condition, { StringEquals: { "iam:PassedToService": "sagemaker.amazonaws.com" } });
    assert.match(passRole.Resource["Fn::GetAtt"][0], /^SageMakerRole/);
  });

  it("refuses a definition whose tokens the stack does not substitute", () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "stepwright-root-"));
    fs.cpSync(path.join(ROOT, "statemachines"), path.join(root, "statemachines"), { recursive: true });
    fs.cpSync(path.join(ROOT, "infra", "policies"), path.join(root, "infra", "policies"), { recursive: true });
    const file = path.join(root, "statemachines", "training.asl.json");
    const d = JSON.parse(fs.readFileSync(file, "utf8"));
    d.Comment = "${SomethingNew}";
    fs.writeFileSync(file, JSON.stringify(d));
    assert.throws(() => synth({ root }), /SomethingNew/);
  });
});

describe("IAM", () => {
  it("allows no wildcard action anywhere", () => {
    let n = 0;
    for (const [id, r] of Object.entries(json.Resources as Record<string, Json>)) {
      const docs: Json[] = [];
      if (r.Type === "AWS::IAM::Role") for (const p of r.Properties.Policies ?? []) docs.push(p.PolicyDocument);
      if (r.Type === "AWS::IAM::Policy") docs.push(r.Properties.PolicyDocument);
      for (const d of docs) {
        for (const s of d.Statement) {
          if (s.Effect !== "Allow") continue;
          for (const a of asList(s.Action)) {
            assert.ok(!String(a).includes("*"), `${id}: ${a}`);
            n += 1;
          }
        }
      }
    }
    assert.ok(n > 50, `${n} actions checked`);
  });

  it("lets each trigger start only its own state machine", () => {
    for (const [id, f] of resourcesOf("AWS::Lambda::Function")) {
      const env = f.Properties.Environment?.Variables ?? {};
      if (!env.STATE_MACHINE_ARN) continue;
      const roleId = f.Properties.Role["Fn::GetAtt"][0];
      const starts = roleStatements(roleId).filter((s) => asList(s.Action).includes("states:StartExecution"));
      assert.equal(starts.length, 1, id);
      assert.deepEqual(starts[0].Resource, env.STATE_MACHINE_ARN, id);
    }
  });
});

describe("Lambdas and triggers", () => {
  it("are provided.al2023 on arm64", () => {
    const fns = resourcesOf("AWS::Lambda::Function");
    assert.equal(fns.length, 8);
    for (const [id, f] of fns) {
      assert.equal(f.Properties.Runtime, "provided.al2023", id);
      assert.deepEqual(f.Properties.Architectures, ["arm64"], id);
      assert.equal(f.Properties.Handler, "bootstrap", id);
    }
  });

  it("route Object Created under each prefix to a trigger of the matching machine", () => {
    const rules = resourcesOf("AWS::Events::Rule");
    assert.equal(rules.length, 3);
    const started = new Set<string>();
    for (const [id, rule] of rules) {
      const p = rule.Properties.EventPattern;
      assert.deepEqual(p.source, ["aws.s3"], id);
      assert.deepEqual(p["detail-type"], ["Object Created"], id);
      assert.equal(p.detail.bucket.name[0].Ref, resourcesOf("AWS::S3::Bucket")[0][0], id);
      const prefix = p.detail.object.key[0].prefix;
      const target = rule.Properties.Targets[0].Arn["Fn::GetAtt"][0];
      const env = json.Resources[target].Properties.Environment.Variables;
      assert.deepEqual(env.TRIGGER_PREFIXES, prefix, id);
      const sm = json.Resources[env.STATE_MACHINE_ARN.Ref];
      started.add(sm.Metadata["stepwright:machine"]);
    }
    assert.deepEqual([...started].sort(), [...MACHINES].sort());
  });

  it("give the approval callback a function URL that the notify function links to", () => {
    const urls = resourcesOf("AWS::Lambda::Url");
    assert.equal(urls.length, 1);
    const [urlId, url] = urls[0];
    assert.equal(url.Properties.AuthType, "NONE");
    const modes: Record<string, Json> = {};
    for (const [id, f] of resourcesOf("AWS::Lambda::Function")) {
      const env = f.Properties.Environment?.Variables ?? {};
      if (env.APPROVAL_MODE) modes[env.APPROVAL_MODE] = { id, env };
    }
    assert.deepEqual(Object.keys(modes).sort(), ["callback", "gate", "notify"]);
    assert.equal(url.Properties.TargetFunctionArn["Fn::GetAtt"][0], modes.callback.id);
    assert.deepEqual(modes.notify.env.APPROVAL_CALLBACK_URL, { "Fn::GetAtt": [urlId, "FunctionUrl"] });
    assert.ok(modes.notify.env.APPROVAL_SECRET && modes.callback.env.APPROVAL_SECRET);
  });

  it("say how to build the Lambdas when their binaries are missing", () => {
    const app = new App();
    assert.throws(
      () => new StepwrightStack(app, "NoCode", { lambdaDir: path.join(os.tmpdir(), "does-not-exist") }),
      /bootstrap does not exist: build the Lambdas first/,
    );
  });
});

describe("outputs", () => {
  it("name the bucket, the state machines, the callback URL and the topics", () => {
    const outputs = Object.keys(json.Outputs);
    for (const o of [
      "DataBucketName",
      "TrainingStateMachineArn",
      "BatchInferenceStateMachineArn",
      "ScaleOutStateMachineArn",
      "ApprovalCallbackUrl",
      "ApprovalTopicArn",
      "AlertTopicArn",
    ]) {
      assert.ok(outputs.includes(o), o);
    }
  });
});

describe("resolveResource", () => {
  const stack = new Stack();
  const subs = { FnArn: "arn:fn", Bucket: "b" };
  it("keeps literals, substitutes whole tokens, Fn::Subs the rest with only the tokens used", () => {
    assert.equal(resolveResource("arn:aws:s3:::x", subs), "arn:aws:s3:::x");
    assert.equal(resolveResource("${FnArn}", subs), "arn:fn");
    assert.deepEqual(stack.resolve(resolveResource("arn:${AWS::Partition}:s3:::${Bucket}/*", subs)), {
      "Fn::Sub": ["arn:${AWS::Partition}:s3:::${Bucket}/*", { Bucket: "b" }],
    });
    assert.deepEqual(stack.resolve(resolveResource("arn:${AWS::Partition}:sns:*", subs)), {
      "Fn::Sub": "arn:${AWS::Partition}:sns:*",
    });
  });
  it("refuses a token without a substitution", () => {
    assert.throws(() => resolveResource("${Other}:*", subs), /\$\{Other\}/);
  });
  it("finds tokens, not pseudo parameters", () => {
    assert.deepEqual(tokens("arn:${AWS::Region}:${A}/${B}/${A}"), ["A", "B"]);
  });
});
