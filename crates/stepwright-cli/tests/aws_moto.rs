//! End to end against a moto server started by each test: `stepwright deploy` creates, updates
//! and leaves unchanged a state machine; the trigger handler, fed the S3 event moto itself sends
//! for an object put into its S3, starts exactly one execution even when the event is delivered
//! twice; `stepwright start` and `stepwright watch` report executions and exit with their status.
//!
//! moto runs state machines for real once `{"stepfunctions": {"execute_state_machine": true}}`
//! is configured (Pass, Choice, Wait, Succeed, Fail; no `.sync` or Lambda tasks). moto 5.2.1 can
//! run only one execution per account and region in that mode (the second `StartExecution`
//! deep-copies the backend, which by then holds the first execution's lock, and fails with HTTP
//! 500), so each execution here runs in a region of its own.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Output};

use aws_config::Region;
use lambda_kit::testing::MotoServer;
use serde_json::{json, Value};
use trigger::{handle, Outcome, TriggerConfig};

const ROLE: &str = "arn:aws:iam::123456789012:role/stepwright-test";

/// Choice on `$.ok`: true → Wait 1 s → Pass (the `${Greeting}` token) → end; false → Fail.
const MACHINE: &str = r#"{
  "Comment": "stepwright e2e",
  "StartAt": "Check",
  "States": {
    "Check": {"Type": "Choice", "Choices": [{"Variable": "$.ok", "BooleanEquals": true, "Next": "Pause"}], "Default": "Reject"},
    "Pause": {"Type": "Wait", "Seconds": 1, "Next": "Greet"},
    "Greet": {"Type": "Pass", "Result": "${Greeting}", "ResultPath": "$.greeting", "End": true},
    "Reject": {"Type": "Fail", "Error": "Pipeline.Rejected", "Cause": "the input was not ok"}
  }
}"#;

/// What the trigger starts for an upload: non-empty objects wait a second (so a redelivered
/// event arrives while the execution runs) and succeed; empty ones fail.
const UPLOADED: &str = r#"{
  "StartAt": "Uploaded",
  "States": {
    "Uploaded": {"Type": "Choice", "Choices": [{"Variable": "$.size", "NumericGreaterThan": 0, "Next": "Settle"}], "Default": "Empty"},
    "Settle": {"Type": "Wait", "Seconds": 1, "Next": "Accept"},
    "Accept": {"Type": "Pass", "Parameters": {"object.$": "States.Format('s3://{}/{}', $.bucket, $.key)"}, "End": true},
    "Empty": {"Type": "Fail", "Error": "Upload.Empty", "Cause": "the object is empty"}
  }
}"#;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Runs the CLI with moto's environment (dummy credentials, `AWS_ENDPOINT_URL`) in `region`,
/// isolated from any AWS configuration of the machine running the tests.
fn cli(moto: &MotoServer, region: &str, args: &[&str]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_stepwright"));
    cmd.args(args)
        .envs(moto.env())
        .env("AWS_REGION", region)
        .env("AWS_DEFAULT_REGION", region)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent/aws-config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/aws-credentials",
        )
        .env_remove("AWS_PROFILE");
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().expect("run stepwright");
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

async fn sfn_in(moto: &MotoServer, region: &str) -> aws_sdk_sfn::Client {
    let conf = aws_sdk_sfn::config::Builder::from(&moto.sdk_config().await)
        .region(Region::new(region.to_owned()))
        .build();
    aws_sdk_sfn::Client::from_conf(conf)
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

async fn machine_names(sfn: &aws_sdk_sfn::Client) -> Vec<String> {
    sfn.list_state_machines()
        .send()
        .await
        .unwrap()
        .state_machines()
        .iter()
        .map(|m| m.name().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_creates_then_updates_and_is_idempotent() {
    let moto = MotoServer::start().expect("moto server");
    let sfn = sfn_in(&moto, "us-east-1").await;
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "hello.asl.json", MACHINE);
    let region = "us-east-1";

    // invalid definitions and unsubstituted tokens: exit 1 and no call made
    let bad = write(
        dir.path(),
        "bad.asl.json",
        r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}}"#,
    );
    let r = cli(
        &moto,
        region,
        &["deploy", &bad, "--name", "hello", "--role-arn", ROLE],
    );
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("/States/A/Next"), "{r:?}");
    assert!(r.stderr.contains("nothing was deployed"), "{r:?}");
    let r = cli(
        &moto,
        region,
        &["deploy", &file, "--name", "hello", "--role-arn", ROLE],
    );
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("${Greeting}"), "{r:?}");
    assert!(r.stderr.contains("/States/Greet/Result"), "{r:?}");
    assert!(r.stderr.contains("--sub Greeting=VALUE"), "{r:?}");
    assert!(machine_names(&sfn).await.is_empty());

    // creating needs a role
    let r = cli(
        &moto,
        region,
        &["deploy", &file, "--name", "hello", "--sub", "Greeting=hi"],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("--role-arn"), "{r:?}");

    // create (values from a file, overridden by --sub), then the same deploy is unchanged
    let subs = write(
        dir.path(),
        "subs.json",
        r#"{"Greeting": "from file", "Unused": 3}"#,
    );
    let deploy = |greeting: &'static str, extra: &[&str]| {
        let mut args = vec![
            "deploy",
            file.as_str(),
            "--name",
            "hello",
            "--role-arn",
            ROLE,
            "--substitutions",
            subs.as_str(),
        ];
        if !greeting.is_empty() {
            args.extend(["--sub", greeting]);
        }
        args.extend_from_slice(extra);
        cli(&moto, region, &args)
    };
    let r = deploy("Greeting=hello", &[]);
    assert_eq!(r.code, 0, "{r:?}");
    let arn = "arn:aws:states:us-east-1:123456789012:stateMachine:hello";
    assert_eq!(r.stdout, format!("created {arn}\n"));
    let described = sfn
        .describe_state_machine()
        .state_machine_arn(arn)
        .send()
        .await
        .unwrap();
    let definition: Value = serde_json::from_str(described.definition()).unwrap();
    assert_eq!(definition["States"]["Greet"]["Result"], json!("hello"));
    assert_eq!(described.role_arn(), ROLE);

    let r = deploy("Greeting=hello", &[]);
    assert_eq!(r.stdout, format!("unchanged {arn}\n"), "{r:?}");

    // a changed value updates the machine in place (same ARN); tags are added once
    let r = deploy("", &["--tag", "team=ml", "--format", "json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let out: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        out,
        json!({"status": "updated", "name": "hello", "stateMachineArn": arn})
    );
    let described = sfn
        .describe_state_machine()
        .state_machine_arn(arn)
        .send()
        .await
        .unwrap();
    let definition: Value = serde_json::from_str(described.definition()).unwrap();
    assert_eq!(definition["States"]["Greet"]["Result"], json!("from file"));
    let tags = sfn
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .unwrap();
    assert!(
        tags.tags()
            .iter()
            .any(|t| t.key() == Some("team") && t.value() == Some("ml")),
        "{tags:?}"
    );
    let r = deploy("", &["--tag", "team=ml"]);
    assert_eq!(r.stdout, format!("unchanged {arn}\n"), "{r:?}");

    // a new role is an update too; the type cannot change
    let other_role = "arn:aws:iam::123456789012:role/other";
    let r = cli(
        &moto,
        region,
        &[
            "deploy",
            &file,
            "--name",
            "hello",
            "--role-arn",
            other_role,
            "--sub",
            "Greeting=x",
        ],
    );
    assert_eq!(r.stdout, format!("updated {arn}\n"), "{r:?}");
    let described = sfn
        .describe_state_machine()
        .state_machine_arn(arn)
        .send()
        .await
        .unwrap();
    assert_eq!(described.role_arn(), other_role);
    let r = cli(
        &moto,
        region,
        &[
            "deploy",
            &file,
            "--name",
            "hello",
            "--type",
            "EXPRESS",
            "--sub",
            "Greeting=x",
        ],
    );
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("cannot change"), "{r:?}");

    assert_eq!(machine_names(&sfn).await, ["hello"]);
}

/// A machine that calls one Lambda function and one SNS topic (named by substitutions).
const CALLS: &str = r#"{
  "StartAt": "Clean",
  "States": {
    "Clean": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
              "Parameters": {"FunctionName": "${Fn}", "Payload.$": "$"}, "Next": "Tell"},
    "Tell": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish",
             "Parameters": {"TopicArn": "arn:aws:sns:us-east-1:123456789012:alerts", "Message": "done"},
             "End": true}
  }
}"#;

async fn inline_policy(iam: &aws_sdk_iam::Client, role: &str) -> Value {
    let out = iam
        .get_role_policy()
        .role_name(role)
        .policy_name("stepwright-state-machine")
        .send()
        .await
        .unwrap();
    let doc = out.policy_document();
    // IAM URL-encodes documents; moto may not
    let text = if doc.starts_with('%') {
        let mut bytes = Vec::new();
        let b = doc.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'%' {
                bytes.push(u8::from_str_radix(&doc[i + 1..i + 3], 16).unwrap());
                i += 3;
            } else {
                bytes.push(b[i]);
                i += 1;
            }
        }
        String::from_utf8(bytes).unwrap()
    } else {
        doc.to_owned()
    };
    serde_json::from_str(&text).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_create_role_makes_the_role_from_the_generated_policy() {
    let moto = MotoServer::start().expect("moto server");
    let region = "us-east-1";
    let sfn = sfn_in(&moto, region).await;
    let iam = aws_sdk_iam::Client::new(&moto.sdk_config().await);
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "calls.asl.json", CALLS);
    let fn1 = "arn:aws:lambda:us-east-1:123456789012:function:cleanse";
    let fn2 = "arn:aws:lambda:us-east-1:123456789012:function:cleanse-v2";

    let sub1 = format!("Fn={fn1}");
    let r = cli(
        &moto,
        region,
        &[
            "deploy",
            &file,
            "--name",
            "calls",
            "--create-role",
            "--sub",
            &sub1,
            "--format",
            "json",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let out: Value = serde_json::from_str(&r.stdout).unwrap();
    let role_arn = out["roleArn"].as_str().expect("roleArn").to_owned();
    assert!(role_arn.ends_with(":role/stepwright-calls"), "{out}");
    assert_eq!(out["roleCreated"], json!(true));
    assert_eq!(out["status"], json!("created"));
    assert!(r.stderr.contains("role created"), "{r:?}");
    let described = sfn
        .describe_state_machine()
        .state_machine_arn(out["stateMachineArn"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(described.role_arn(), role_arn);
    // the role trusts Step Functions and allows exactly what the machine calls
    let role = iam
        .get_role()
        .role_name("stepwright-calls")
        .send()
        .await
        .unwrap();
    let trust = role
        .role()
        .unwrap()
        .assume_role_policy_document()
        .unwrap_or_default();
    assert!(trust.contains("states.amazonaws.com"), "{trust}");
    let policy = inline_policy(&iam, "stepwright-calls").await;
    let text = policy.to_string();
    assert!(text.contains("lambda:InvokeFunction"), "{text}");
    assert!(text.contains(&format!("\"{fn1}\"")), "{text}");
    assert!(text.contains("sns:Publish"), "{text}");
    assert!(
        text.contains("arn:aws:sns:us-east-1:123456789012:alerts"),
        "{text}"
    );
    assert!(
        !text.contains("\"*\""),
        "no wildcard resource or action: {text}"
    );

    // a second deploy with another function updates the same role's policy and the machine
    let sub2 = format!("Fn={fn2}");
    let r = cli(
        &moto,
        region,
        &[
            "deploy",
            &file,
            "--name",
            "calls",
            "--create-role",
            "--sub",
            &sub2,
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.starts_with("updated "), "{r:?}");
    assert!(r.stderr.contains("role policy updated"), "{r:?}");
    let text = inline_policy(&iam, "stepwright-calls").await.to_string();
    assert!(
        text.contains(fn2) && !text.contains(&format!("\"{fn1}\"")),
        "{text}"
    );

    // a role stepwright did not create is refused, not changed
    iam.create_role()
        .role_name("theirs")
        .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[]}"#)
        .send()
        .await
        .unwrap();
    let r = cli(
        &moto,
        region,
        &[
            "deploy",
            &file,
            "--name",
            "other",
            "--create-role",
            "theirs",
            "--sub",
            &sub1,
        ],
    );
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stderr.contains("was not created by `stepwright deploy`"),
        "{r:?}"
    );
    assert!(r.stderr.contains("--role-arn"), "{r:?}");
    assert!(iam
        .get_role_policy()
        .role_name("theirs")
        .policy_name("stepwright-state-machine")
        .send()
        .await
        .is_err());
    assert_eq!(machine_names(&sfn).await, ["calls"]);

    // --role-arn and --create-role exclude each other; a bad name is a usage error
    let r = cli(
        &moto,
        region,
        &[
            "deploy",
            &file,
            "--name",
            "x",
            "--create-role",
            "--role-arn",
            ROLE,
            "--sub",
            &sub1,
        ],
    );
    assert_eq!(r.code, 2, "{r:?}");
    let r = cli(
        &moto,
        region,
        &[
            "deploy",
            &file,
            "--name",
            "x",
            "--create-role",
            "bad/name",
            "--sub",
            &sub1,
        ],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("bad/name"), "{r:?}");
}

/// Deploys `definition` as `name` in `region`; returns its ARN.
fn deploy_machine(moto: &MotoServer, region: &str, name: &str, definition: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "m.asl.json", definition);
    let r = cli(
        moto,
        region,
        &[
            "deploy",
            &file,
            "--name",
            name,
            "--role-arn",
            ROLE,
            "--sub",
            "Greeting=hi",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    r.stdout
        .strip_prefix("created ")
        .expect("created")
        .trim()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_and_watch_report_the_status_and_exit_with_it() {
    let moto = MotoServer::start().expect("moto server");
    moto.configure(r#"{"stepfunctions": {"execute_state_machine": true}}"#)
        .unwrap();

    // success: start by name with a chosen execution name, then watch --follow
    let region = "us-west-2";
    deploy_machine(&moto, region, "flow", MACHINE);
    let r = cli(
        &moto,
        region,
        &[
            "start",
            "flow",
            "--input",
            r#"{"ok": true}"#,
            "--name",
            "ok-1",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let arn = r.stdout.trim().to_owned();
    assert_eq!(
        arn,
        "arn:aws:states:us-west-2:123456789012:execution:flow:ok-1"
    );
    let r = cli(&moto, region, &["watch", &arn, "--follow"]);
    assert_eq!(r.code, 0, "{r:?}");
    // progress lines start with the elapsed time, right-aligned
    let events: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.starts_with(' '))
        .filter_map(|l| l.split_whitespace().nth(1))
        .collect();
    assert_eq!(
        events,
        [
            "started",
            "entered",
            "exited",
            "entered",
            "exited",
            "entered",
            "exited",
            "succeeded"
        ],
        "{r:?}"
    );
    assert!(r.stdout.contains("entered   Check (Choice)"), "{r:?}");
    assert!(r.stdout.contains("entered   Pause (Wait)"), "{r:?}");
    assert!(r.stdout.contains("\nSUCCEEDED in "), "{r:?}");
    let output_line = r
        .stdout
        .lines()
        .find(|l| l.starts_with("output: "))
        .unwrap();
    let output: Value = serde_json::from_str(&output_line["output: ".len()..]).unwrap();
    assert_eq!(output, json!({"ok": true, "greeting": "hi"}));

    // the same execution again, as JSON lines, without --follow (it has ended: exit 0)
    let r = cli(&moto, region, &["watch", &arn, "--format", "json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let lines: Vec<Value> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let last = lines.last().unwrap();
    assert_eq!(last["status"], "SUCCEEDED");
    assert_eq!(last["output"], json!({"ok": true, "greeting": "hi"}));
    let entered: Vec<&str> = lines
        .iter()
        .filter(|l| l["event"] == "entered")
        .map(|l| l["state"].as_str().unwrap())
        .collect();
    assert_eq!(entered, ["Check", "Pause", "Greet"]);

    // a finished execution's name cannot be reused: AWS refuses (exit 1) and we say why
    let r = cli(
        &moto,
        region,
        &[
            "start",
            "flow",
            "--input",
            r#"{"ok": true}"#,
            "--name",
            "ok-1",
        ],
    );
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("ExecutionAlreadyExists"), "{r:?}");
    assert!(r.stderr.contains("another --name"), "{r:?}");

    // failure: start --watch by ARN with the default name; the Fail state's error is shown and
    // the exit code is 1
    let region = "eu-west-1";
    let machine = deploy_machine(&moto, region, "flow", MACHINE);
    let r = cli(
        &moto,
        region,
        &[
            "start",
            &machine,
            "--input",
            r#"{"ok": false}"#,
            "--watch",
            "--format",
            "json",
        ],
    );
    assert_eq!(r.code, 1, "{r:?}");
    let lines: Vec<Value> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let last = lines.last().unwrap();
    assert_eq!(last["status"], "FAILED", "{r:?}");
    assert_eq!(last["error"], "Pipeline.Rejected");
    assert_eq!(last["cause"], "the input was not ok");
    let arn = last["executionArn"].as_str().unwrap();
    let name = arn.rsplit(':').next().unwrap();
    assert!(name.starts_with("run-") && name.len() == 33, "{name}");
    assert!(
        lines
            .iter()
            .any(|l| l["event"] == "failed" && l["error"] == "Pipeline.Rejected"),
        "{r:?}"
    );

    // unknown machine, unknown execution, bad input: exit 2 with a hint, no panic
    let r = cli(&moto, region, &["start", "nope", "--input", "{}"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("no state machine named `nope`"), "{r:?}");
    assert!(r.stderr.contains("hint:"), "{r:?}");
    let missing = "arn:aws:states:eu-west-1:123456789012:execution:flow:missing";
    let r = cli(&moto, region, &["watch", missing, "--follow"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("ExecutionDoesNotExist"), "{r:?}");
    let r = cli(&moto, region, &["start", "flow", "--input", "{not json"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("not valid JSON"), "{r:?}");
}

/// A raw SQS JSON-protocol call to moto (the tests need two SQS calls; no SDK crate for that).
fn sqs(moto: &MotoServer, action: &str, body: &Value) -> Value {
    let body = body.to_string();
    let request = format!(
        "POST / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/x-amz-json-1.0\r\n\
         X-Amz-Target: AmazonSQS.{action}\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential=testing/20240101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0\r\n\
         Content-Length: {len}\r\nConnection: close\r\n\r\n{body}",
        port = moto.port(),
        len = body.len()
    );
    let mut stream = TcpStream::connect(("127.0.0.1", moto.port())).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, payload) = response.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{action}: {response}");
    serde_json::from_str(payload).unwrap()
}

/// Brings moto's S3 notification to the shape S3 sends, changing only what moto 5.2.1 gets
/// wrong: it writes `eventTime` without a zone (`2024-06-01T12:00:00.123456`; S3:
/// `2024-06-01T12:00:00.123Z`) and leaves out `userIdentity`, `requestParameters` and
/// `responseElements`, which S3 always sends and the event type (aws_lambda_events) requires.
/// The object fields the trigger reads (bucket, key, size, ETag) are moto's own.
fn normalize_moto_event(event: &mut Value) {
    let Some(records) = event["Records"].as_array_mut() else {
        return;
    };
    for r in records {
        if let Some(t) = r["eventTime"].as_str().filter(|t| !t.ends_with('Z')) {
            r["eventTime"] = json!(format!("{t}Z"));
        }
        let defaults = [
            ("userIdentity", json!({"principalId": "AWS:AIDAEXAMPLE"})),
            ("requestParameters", json!({"sourceIPAddress": "127.0.0.1"})),
            ("responseElements", json!({})),
        ];
        for (field, value) in defaults {
            if r.get(field).is_none() {
                r[field] = value;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_s3_event_delivered_twice_starts_one_execution() {
    let moto = MotoServer::start().expect("moto server");
    moto.configure(r#"{"stepfunctions": {"execute_state_machine": true}}"#)
        .unwrap();
    let region = "us-east-1";
    let machine = deploy_machine(&moto, region, "training", UPLOADED);

    // the bucket sends Object Created events to a queue, as a bucket notification does on AWS
    let queue = sqs(&moto, "CreateQueue", &json!({"QueueName": "uploads"}));
    let queue_url = queue["QueueUrl"].as_str().unwrap().to_owned();
    let s3 = moto.create_bucket("raw").await;
    use aws_sdk_s3::types::{Event, NotificationConfiguration, QueueConfiguration};
    s3.put_bucket_notification_configuration()
        .bucket("raw")
        .notification_configuration(
            NotificationConfiguration::builder()
                .queue_configurations(
                    QueueConfiguration::builder()
                        .queue_arn("arn:aws:sqs:us-east-1:123456789012:uploads")
                        .events(Event::S3ObjectCreated)
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    s3.put_object()
        .bucket("raw")
        .key("incoming/day 1.csv")
        .body(b"id,ok\n1,true\n".to_vec().into())
        .send()
        .await
        .unwrap();
    let received = sqs(
        &moto,
        "ReceiveMessage",
        &json!({"QueueUrl": queue_url, "MaxNumberOfMessages": 10}),
    );
    // S3 first sends a test event when the configuration is set (AWS does too), then the
    // notification for the object
    let bodies: Vec<Value> = received["Messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| serde_json::from_str(m["Body"].as_str().unwrap()).unwrap())
        .collect();
    let events: Vec<&Value> = bodies
        .iter()
        .filter(|b| b.get("Records").is_some())
        .collect();
    assert_eq!(events.len(), 1, "{received}");
    let mut event = events[0].clone();
    normalize_moto_event(&mut event);
    assert_eq!(event["Records"][0]["eventName"], "ObjectCreated:Put");
    let raw_key = event["Records"][0]["s3"]["object"]["key"].as_str().unwrap();
    assert!(
        raw_key.contains("day+1.csv"),
        "keys are URL-encoded: {event}"
    );

    // the handler gets the event twice (at-least-once delivery): one execution, the same ARN
    let sfn = sfn_in(&moto, region).await;
    let config = TriggerConfig {
        state_machine_arn: machine.clone(),
        prefixes: vec!["incoming/".into()],
        suffixes: vec![".csv".into()],
    };
    let first = handle(&sfn, &config, event.clone()).await.unwrap();
    assert_eq!(first.results[0].outcome, Outcome::Started, "{first:?}");
    let again = handle(&sfn, &config, event.clone()).await.unwrap();
    let execution = first.results[0].execution_arn.clone().unwrap();
    assert_eq!(
        again.results[0].execution_arn.as_deref(),
        Some(execution.as_str())
    );

    // watch follows it to the end
    let r = cli(&moto, region, &["watch", &execution, "--follow"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("entered   Uploaded (Choice)"), "{r:?}");
    assert!(r.stdout.contains("\nSUCCEEDED in "), "{r:?}");
    assert!(
        r.stdout
            .contains(r#""object": "s3://raw/incoming/day 1.csv""#),
        "{r:?}"
    );

    // delivered again after it ended: refused by name, reported as already started
    let late = handle(&sfn, &config, event).await.unwrap();
    assert_eq!(late.results[0].outcome, Outcome::AlreadyStarted, "{late:?}");
    let runs = sfn
        .list_executions()
        .state_machine_arn(&machine)
        .send()
        .await
        .unwrap();
    assert_eq!(runs.executions().len(), 1, "{runs:?}");
    let described = sfn
        .describe_execution()
        .execution_arn(&execution)
        .send()
        .await
        .unwrap();
    let input: Value = serde_json::from_str(described.input().unwrap()).unwrap();
    assert_eq!(input["bucket"], "raw");
    assert_eq!(input["key"], "incoming/day 1.csv");
    assert_eq!(input["size"], 13);
}

#[test]
fn configuration_problems_are_one_line_with_a_hint() {
    let bin = env!("CARGO_BIN_EXE_stepwright");
    let base = |args: &[&str]| {
        let mut c = Command::new(bin);
        c.args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", "/nonexistent")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", "/nonexistent/aws-config")
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                "/nonexistent/aws-credentials",
            );
        c
    };
    let run = |c: &mut Command| {
        let o = c.output().unwrap();
        (
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    // no region
    let (code, err) = run(base(&["start", "flow"])
        .env("AWS_ACCESS_KEY_ID", "a")
        .env("AWS_SECRET_ACCESS_KEY", "b"));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.starts_with("stepwright start: error: no AWS region"),
        "{err}"
    );
    assert!(err.contains("hint: pass --region"), "{err}");
    assert_eq!(err.lines().count(), 2, "{err}");
    // no credentials
    let (code, err) = run(&mut base(&[
        "watch",
        "arn:aws:states:us-east-1:1:execution:m:n",
        "--region",
        "us-east-1",
    ]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no AWS credentials"), "{err}");
    assert!(err.contains("hint: set AWS_ACCESS_KEY_ID"), "{err}");
    assert_eq!(err.lines().count(), 2, "{err}");
    // nothing listening at the endpoint
    let (code, err) = run(base(&[
        "start",
        "flow",
        "--region",
        "us-east-1",
        "--endpoint-url",
        "http://127.0.0.1:9",
    ])
    .env("AWS_ACCESS_KEY_ID", "a")
    .env("AWS_SECRET_ACCESS_KEY", "b")
    .env("AWS_MAX_ATTEMPTS", "1"));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("could not reach `http://127.0.0.1:9`"),
        "{err}"
    );
    assert!(err.contains("hint: is the emulator running"), "{err}");
    assert!(!err.contains("DispatchFailure {"), "no debug dumps: {err}");
    // a bad endpoint URL is a usage error from the parser
    let (code, err) = run(&mut base(&[
        "start",
        "flow",
        "--endpoint-url",
        "localhost:5000",
    ]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not an http:// or https:// URL"), "{err}");
}

#[test]
fn completions_and_help() {
    let bin = env!("CARGO_BIN_EXE_stepwright");
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let o = Command::new(bin)
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(o.status.success(), "{shell}");
        let script = String::from_utf8(o.stdout).unwrap();
        for sub in ["deploy", "start", "watch", "validate", "completions"] {
            assert!(script.contains(sub), "{shell} completion lacks {sub}");
        }
        assert!(script.contains("endpoint-url"), "{shell}");
    }
    // the bash script is valid bash
    if Command::new("bash").arg("--version").output().is_ok() {
        let o = Command::new(bin)
            .args(["completions", "bash"])
            .output()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "c.bash", &String::from_utf8(o.stdout).unwrap());
        let check = Command::new("bash").args(["-n", &p]).output().unwrap();
        assert!(
            check.status.success(),
            "{}",
            String::from_utf8_lossy(&check.stderr)
        );
    }
    let o = Command::new(bin)
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    for sub in ["deploy", "start", "watch", "completions"] {
        let o = Command::new(bin).args([sub, "--help"]).output().unwrap();
        let help = String::from_utf8(o.stdout).unwrap();
        assert!(o.status.success(), "{sub}");
        assert!(help.contains("Examples:"), "{sub} --help has no examples");
        assert!(help.contains(&format!("stepwright {sub} ")), "{sub}");
    }
}
