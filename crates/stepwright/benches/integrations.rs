//! Typed integrations and IAM generation: rendering typed SageMaker tasks, the integration
//! pattern checks and policy generation on machines of 100, 1,000 and 10,000 tasks.
//!
//! `cargo bench -p stepwright --bench integrations`

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use serde_json::json;
use std::hint::black_box;
use stepwright::iam::{policy_with, PolicyOptions};
use stepwright::integrations::patterns::{check_machine, CheckOptions};
use stepwright::integrations::sagemaker::*;
use stepwright::integrations::services::*;
use stepwright::integrations::{string_map, Input};
use stepwright::{State, StateMachine, TaskState};

fn training(i: usize) -> TrainingJob {
    TrainingJob::new(
        format!("train-{i}"),
        "arn:aws:iam::123456789012:role/SageMakerRole",
        AlgorithmSpecification::training_image("xgb:1").training_input_mode("File"),
        OutputDataConfig::new(format!("s3://models/{i}/")),
    )
    .input_data_config(vec![Channel::new(
        "train",
        DataSource::s3(S3DataSource::prefix(Input::path("$.data"))),
    )])
    .resource_config(ResourceConfig::new("ml.m5.xlarge", 1, 30))
    .stopping_condition(StoppingCondition::max_runtime(3600))
    .hyper_parameters(string_map([("eta", "0.1"), ("max_depth", "5")]))
}

/// A chain of `n` tasks cycling through training, model, endpoint, Lambda, SNS and DynamoDB.
fn machine(n: usize) -> StateMachine {
    let mut states = serde_json::Map::new();
    for i in 0..n {
        let t: TaskState = match i % 6 {
            0 => training(i).into(),
            1 => CreateModel::new(
                format!("model-{i}"),
                "arn:aws:iam::123456789012:role/SageMakerRole",
            )
            .into(),
            2 => CreateEndpoint::new(format!("ep-{}", i % 50), format!("cfg-{i}")).into(),
            3 => LambdaInvoke::new(format!("fn-{}", i % 100))
                .payload(Input::path("$"))
                .into(),
            4 => SnsPublish::topic(
                format!("arn:aws:sns:us-east-1:123456789012:t{}", i % 10),
                "m",
            )
            .into(),
            _ => DynamoPutItem::new(format!("table-{}", i % 20), json!({"pk": {"S": "x"}})).into(),
        };
        let mut v = serde_json::to_value(State::Task(Box::new(t))).unwrap();
        if i + 1 < n {
            v["Next"] = json!(format!("S{}", i + 1));
        } else {
            v["End"] = json!(true);
        }
        states.insert(format!("S{i}"), v);
    }
    StateMachine::from_value(&json!({"StartAt": "S0", "States": states})).unwrap()
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("render");
    g.throughput(Throughput::Elements(1));
    g.bench_function("training_job_into_task", |b| {
        let t = training(7);
        b.iter(|| black_box(t.try_into_task().unwrap()))
    });
    g.finish();

    let opts = PolicyOptions {
        region: Some("us-east-1".into()),
        account: Some("123456789012".into()),
        ..PolicyOptions::default()
    };
    let mut g = c.benchmark_group("iam_policy");
    for n in [100usize, 1_000, 10_000] {
        let m = machine(n);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::from_parameter(n), &m, |b, m| {
            b.iter(|| black_box(policy_with(m, &opts)))
        });
    }
    g.finish();

    let mut g = c.benchmark_group("pattern_checks");
    for n in [100usize, 1_000, 10_000] {
        let m = machine(n);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::from_parameter(n), &m, |b, m| {
            b.iter(|| black_box(check_machine(m, &CheckOptions::default())))
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
