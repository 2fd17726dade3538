//! `stepwright policy`: output and exit codes (0 ok, 1 invalid definition, 2 usage/I-O).

use std::process::Command;

use serde_json::Value;

fn stepwright() -> Command {
    Command::new(env!("CARGO_BIN_EXE_stepwright"))
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

const TRAIN: &str = r#"{"StartAt":"Train","States":{"Train":{"Type":"Task",
  "Resource":"arn:aws:states:::sagemaker:createTrainingJob.sync",
  "Parameters":{"TrainingJobName":"churn","RoleArn":"arn:aws:iam::123456789012:role/sm",
    "AlgorithmSpecification":{"TrainingImage":"x","TrainingInputMode":"File"},
    "OutputDataConfig":{"S3OutputPath":"s3://m/"},
    "ResourceConfig":{"InstanceCount":1,"InstanceType":"ml.m5.xlarge","VolumeSizeInGB":10},
    "StoppingCondition":{"MaxRuntimeInSeconds":60}},
  "End":true}}}"#;

fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("stepwright-policy-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn prints_the_policy() {
    let d = tmp("ok");
    let f = write(&d, "train.json", TRAIN);
    let out = stepwright()
        .args([
            "policy",
            f.to_str().unwrap(),
            "--region",
            "us-east-1",
            "--account",
            "123456789012",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["Version"], "2012-10-17");
    let text = v.to_string();
    assert!(text.contains("arn:aws:sagemaker:us-east-1:123456789012:training-job/churn*"));
    assert!(text.contains("rule/StepFunctionsGetEventsForSageMakerTrainingJobsRule"));
    assert!(text.contains("iam:PassedToService"));

    // Partition, output file and stdin.
    let o = d.join("policy.json");
    let out = stepwright()
        .args([
            "policy",
            "-",
            "--partition",
            "aws-cn",
            "-o",
            o.to_str().unwrap(),
        ])
        .stdin(std::fs::File::open(&f).unwrap())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let written = std::fs::read_to_string(&o).unwrap();
    assert!(written.contains("arn:aws-cn:sagemaker:*:*:training-job/churn*"));
}

#[test]
fn invalid_definitions_exit_1() {
    let d = tmp("bad");
    let f = write(
        &d,
        "bad.json",
        r#"{"StartAt":"A","States":{"A":{"Type":"Nope"}}}"#,
    );
    let out = stepwright()
        .args(["policy", f.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());

    // SageMaker has no .waitForTaskToken.
    let f = write(
        &d,
        "wftt.json",
        &TRAIN.replace(".sync", ".waitForTaskToken"),
    );
    let out = stepwright()
        .args(["policy", f.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("UNSUPPORTED_INTEGRATION_PATTERN"));

    // Any validator error (here a dangling Next), as `stepwright validate` says.
    let f = write(
        &d,
        "dangling.json",
        &TRAIN.replace(r#""End":true"#, r#""Next":"Nowhere""#),
    );
    let out = stepwright()
        .args(["policy", f.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("MISSING_TRANSITION_TARGET"));

    // .sync in an EXPRESS machine.
    let f = write(&d, "train.json", TRAIN);
    let out = stepwright()
        .args(["policy", f.to_str().unwrap(), "--express"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn usage_and_io_errors_exit_2() {
    let out = stepwright()
        .args(["policy", "/nonexistent/x.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = stepwright().args(["policy"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let d = tmp("usage");
    let f = write(&d, "train.json", TRAIN);
    let out = stepwright()
        .args(["policy", f.to_str().unwrap(), "--account", "12"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

const TOKENS: &str = r#"{"StartAt":"Clean","States":{"Clean":{"Type":"Task",
  "Resource":"arn:aws:states:::lambda:invoke",
  "Parameters":{"FunctionName":"${CleanseFunctionArn}","Payload.$":"$"},"Next":"Find"},
  "Find":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:sagemaker:describeEndpoint",
  "Parameters":{"EndpointName":"${EndpointName}"},"End":true}}}"#;

fn policy(args: &[&str]) -> (Option<i32>, String, String) {
    let out = stepwright().args(args).output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn substitution_tokens_kept_or_cloudformation() {
    let d = tmp("tokens");
    let f = write(&d, "tokens.json", TOKENS);
    let f = f.to_str().unwrap();

    // By default a token is dynamic.
    let (code, out, err) = policy(&["policy", f]);
    assert_eq!(code, Some(0), "{err}");
    assert!(!out.contains("${"), "{out}");
    assert!(out.contains("arn:aws:lambda:*:*:function:*"));

    let (code, out, err) = policy(&["policy", f, "--keep-substitutions", "--region", "eu-west-1"]);
    assert_eq!(code, Some(0), "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let text = v.to_string();
    assert!(
        text.contains(r#""${CleanseFunctionArn}","${CleanseFunctionArn}:*""#),
        "{text}"
    );
    assert!(text.contains("arn:aws:sagemaker:eu-west-1:*:endpoint/${EndpointName}"));

    let (code, out, err) = policy(&["policy", f, "--cloudformation"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains(
        "arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}:endpoint/${EndpointName}"
    ));

    // --cloudformation sets the partition, region and account itself.
    for extra in [["--region", "us-east-1"], ["--partition", "aws-cn"]] {
        let mut args = vec!["policy", f, "--cloudformation"];
        args.extend(extra);
        let (code, _, err) = policy(&args);
        assert_eq!(code, Some(2), "{extra:?}: {err}");
        assert!(err.contains("cannot be used with"), "{err}");
    }
}
