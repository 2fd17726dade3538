//! The builder: what it emits for every state type and field, and what `build()` rejects.

use serde_json::{json, Value};
use stepwright::builder::*;
use stepwright::{Code, ProcessorMode};

fn build(b: MachineBuilder) -> StateMachine {
    match b.build() {
        Ok(m) => m,
        Err(e) => panic!("{e}"),
    }
}

fn codes(e: &BuildError) -> Vec<(Code, String)> {
    e.diagnostics()
        .iter()
        .map(|d| (d.code, d.pointer.clone()))
        .collect()
}

/// Parses the machine's JSON back and checks it is the same model, and that rendering is stable.
fn round_trips(m: &StateMachine) {
    let text = m.to_json_pretty();
    let back = StateMachine::from_json(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(&back, m);
    assert_eq!(back.to_json_pretty(), text);
}

#[test]
fn jsonpath_machine_with_every_state_type() {
    let failed = Fail::new("Failed")
        .error("Pipeline.Failed")
        .cause_path("$.error.Cause");
    let poll = Wait::seconds("Pause", 30)
        .input_path("$.job")
        .output_path("$")
        .comment("back off")
        .next(
            Task::new(
                "Status",
                Task::resource("arn:aws:states:::aws-sdk:sagemaker:describeTrainingJob"),
            )
            .parameters(json!({"TrainingJobName.$": "$.name"}))
            .result_selector(json!({"status.$": "$.TrainingJobStatus"}))
            .result_path("$.status")
            .timeout_seconds_path("$.timeout")
            .heartbeat_seconds(60)
            .role_arn("arn:aws:iam::123456789012:role/x")
            .retry(
                Retry::on(["States.Timeout"])
                    .interval(3)
                    .max_attempts(2)
                    .backoff_rate(1.5)
                    .max_delay(30)
                    .full_jitter()
                    .comment("slow"),
            )
            .retry(Retry::all())
            .catch(Catch::on(["States.Timeout"]).discard_error(), "Pause")
            .catch(
                Catch::all().result_path("$.error").comment("anything else"),
                failed.clone(),
            )
            .next(
                Choice::new("Done?")
                    .comment("poll until done")
                    .input_path("$")
                    .output_path("$")
                    .when(
                        Condition::string_equals("$.status.status", "Completed"),
                        Succeed::new("Trained").discard_output(),
                    )
                    .when(
                        Rule::new(
                            Condition::string_matches("$.status.status", "Fail*")
                                | !Condition::is_present("$.status", true),
                        )
                        .comment("gave up"),
                        failed.clone(),
                    )
                    .otherwise("Pause"),
            ),
        );
    let prep = Pass::new("Prepare")
        .comment("defaults")
        .result(json!({"epochs": 10}))
        .result_path("$.config")
        .assign("started.$", "$$.Execution.StartTime");
    let fan = Parallel::new("Profile")
        .branch(Pass::new("Stats").parameters(json!({"n.$": "States.ArrayLength($.rows)"})))
        .branch(Subflow::new(Pass::new("Schema").next(Pass::new("Drift"))).comment("schema"))
        .discard_input()
        .result_selector(json!({"stats.$": "$[0]"}))
        .result_path("$.profile")
        .retry(Retry::on(["States.BranchFailed"]))
        .catch(Catch::all().result_path("$.error"), failed.clone());
    let each = Map::new("PerFile")
        .items_path("$.files")
        .item_selector(json!({"file.$": "$$.Map.Item.Value"}))
        .max_concurrency(4)
        .processor(Pass::new("One"))
        .result_path("$.files_out")
        .inline();
    let m = build(
        StateMachine::builder()
            .comment("everything")
            .timeout_seconds(3600)
            .version("1.0")
            .start(prep.next(fan).next(each).next(poll)),
    );
    round_trips(&m);
    let expected = json!({
      "Comment": "everything",
      "StartAt": "Prepare",
      "TimeoutSeconds": 3600,
      "Version": "1.0",
      "States": {
        "Prepare": {"Type": "Pass", "Comment": "defaults", "Result": {"epochs": 10}, "ResultPath": "$.config",
                    "Assign": {"started.$": "$$.Execution.StartTime"}, "Next": "Profile"},
        "Profile": {"Type": "Parallel", "InputPath": null, "Branches": [
            {"StartAt": "Stats", "States": {"Stats": {"Type": "Pass", "Parameters": {"n.$": "States.ArrayLength($.rows)"}, "End": true}}},
            {"Comment": "schema", "StartAt": "Schema", "States": {
                "Schema": {"Type": "Pass", "Next": "Drift"}, "Drift": {"Type": "Pass", "End": true}}}
          ],
          "ResultSelector": {"stats.$": "$[0]"}, "ResultPath": "$.profile",
          "Retry": [{"ErrorEquals": ["States.BranchFailed"]}],
          "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Failed", "ResultPath": "$.error"}],
          "Next": "PerFile"},
        "PerFile": {"Type": "Map", "ItemsPath": "$.files", "ItemSelector": {"file.$": "$$.Map.Item.Value"},
          "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "One", "States": {"One": {"Type": "Pass", "End": true}}},
          "MaxConcurrency": 4, "ResultPath": "$.files_out", "Next": "Pause"},
        "Pause": {"Type": "Wait", "Comment": "back off", "InputPath": "$.job", "OutputPath": "$", "Seconds": 30, "Next": "Status"},
        "Status": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:sagemaker:describeTrainingJob",
          "Parameters": {"TrainingJobName.$": "$.name"}, "ResultSelector": {"status.$": "$.TrainingJobStatus"},
          "ResultPath": "$.status",
          "Retry": [
            {"Comment": "slow", "ErrorEquals": ["States.Timeout"], "IntervalSeconds": 3, "MaxAttempts": 2, "BackoffRate": 1.5, "MaxDelaySeconds": 30, "JitterStrategy": "FULL"},
            {"ErrorEquals": ["States.ALL"]}],
          "Catch": [
            {"ErrorEquals": ["States.Timeout"], "Next": "Pause", "ResultPath": null},
            {"Comment": "anything else", "ErrorEquals": ["States.ALL"], "Next": "Failed", "ResultPath": "$.error"}],
          "TimeoutSecondsPath": "$.timeout", "HeartbeatSeconds": 60,
          "Credentials": {"RoleArn": "arn:aws:iam::123456789012:role/x"},
          "Next": "Done?"},
        "Done?": {"Type": "Choice", "Comment": "poll until done", "InputPath": "$", "OutputPath": "$",
          "Choices": [
            {"Variable": "$.status.status", "StringEquals": "Completed", "Next": "Trained"},
            {"Comment": "gave up", "Or": [
                {"Variable": "$.status.status", "StringMatches": "Fail*"},
                {"Not": {"Variable": "$.status", "IsPresent": true}}], "Next": "Failed"}],
          "Default": "Pause"},
        "Trained": {"Type": "Succeed", "OutputPath": null},
        "Failed": {"Type": "Fail", "Error": "Pipeline.Failed", "CausePath": "$.error.Cause"}
      }
    });
    assert_eq!(m.to_value(), expected, "{}", m.to_json_pretty());
    // Field order is the model's, not the builder calls' order.
    let text = m.to_json_pretty();
    let pos = |s: &str| text.find(s).unwrap();
    assert!(pos("\"Comment\": \"everything\"") < pos("\"StartAt\""));
    assert!(pos("\"StartAt\"") < pos("\"TimeoutSeconds\": 3600"));
}

#[test]
fn jsonata_machine() {
    let m = build(
        StateMachine::builder().jsonata().start(
            Task::new("Score", Task::resource("arn:aws:states:::lambda:invoke"))
                .arguments(json!({"FunctionName": "score", "Payload": "{% $states.input %}"}))
                .output("{% $states.result.Payload %}")
                .assign("score", "{% $states.result.Payload.score %}")
                .timeout_seconds("{% $timeout %}")
                .catch(
                    Catch::all()
                        .output("{% $states.errorOutput %}")
                        .assign("failed", true),
                    Fail::new("Broken").error("{% 'Score.' & $states.input.kind %}"),
                )
                .next(
                    Choice::new("Good?")
                        .when(
                            Rule::new(Condition::jsonata("$score > 0.9"))
                                .output("{% {'ok': true} %}")
                                .assign("verdict", "good"),
                            Map::new("Fan")
                                .items("{% $states.input.items %}")
                                .item_selector(json!({"v": "{% $states.context.Map.Item.Value %}"}))
                                .max_concurrency("{% $n %}")
                                .processor(Wait::seconds("Nap", "{% $states.input.v %}"))
                                .next(Succeed::new("Good").output("{% $score %}")),
                        )
                        .otherwise(Fail::new("Bad").cause("{% 'score ' & $string($score) %}")),
                ),
        ),
    );
    round_trips(&m);
    assert_eq!(
        m.to_value()["States"]["Good?"],
        json!({"Type": "Choice", "Choices": [{"Condition": "{% $score > 0.9 %}", "Next": "Fan",
               "Output": "{% {'ok': true} %}", "Assign": {"verdict": "good"}}], "Default": "Bad"})
    );
    assert_eq!(m.to_value()["QueryLanguage"], json!("JSONata"));
    assert_eq!(
        m.to_value()["States"]["Score"]["Catch"][0],
        json!({"ErrorEquals": ["States.ALL"], "Next": "Broken", "Output": "{% $states.errorOutput %}", "Assign": {"failed": true}})
    );
}

#[test]
fn per_state_query_language() {
    let m = build(
        StateMachine::builder().start(
            Pass::new("Old")
                .result_path("$.x")
                .next(Pass::new("New").jsonata().output("{% $states.input %}")),
        ),
    );
    assert_eq!(
        m.to_value()["States"]["New"]["QueryLanguage"],
        json!("JSONata")
    );
    round_trips(&m);
}

#[test]
fn distributed_map_fields() {
    let m = build(
        StateMachine::builder().start(
            Map::new("Shards")
                .distributed(ExecutionType::Standard)
                .item_reader(
                    ItemReader::get_object("CSV")
                        .parameters(json!({"Bucket": "b", "Key.$": "$.key"}))
                        .csv_headers(["id", "text"])
                        .csv_delimiter("SEMICOLON")
                        .max_items(1000),
                )
                .item_batcher(
                    ItemBatcher::max_items(50)
                        .and_max_bytes(65536)
                        .batch_input(json!({"run.$": "$$.Execution.Name"})),
                )
                .tolerated_failure_count(3)
                .tolerated_failure_percentage(2.5)
                .label("shard")
                .result_writer(
                    ResultWriter::put_object()
                        .parameters(json!({"Bucket": "b", "Prefix": "out"}))
                        .writer_config("JSONL", "FLATTEN"),
                )
                .max_concurrency_path("$.conc")
                .processor(Subflow::new(Pass::new("Batch")).comment("per batch"))
                .discard_result(),
        ),
    );
    round_trips(&m);
    let State::Map(map) = &m.states["Shards"] else {
        panic!()
    };
    assert!(map.is_distributed());
    assert_eq!(
        m.to_value()["States"]["Shards"],
        json!({
          "Type": "Map",
          "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
            "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "GIVEN", "CSVHeaders": ["id", "text"], "CSVDelimiter": "SEMICOLON", "MaxItems": 1000},
            "Parameters": {"Bucket": "b", "Key.$": "$.key"}},
          "ItemBatcher": {"MaxItemsPerBatch": 50, "MaxInputBytesPerBatch": 65536, "BatchInput": {"run.$": "$$.Execution.Name"}},
          "ItemProcessor": {"Comment": "per batch", "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
             "StartAt": "Batch", "States": {"Batch": {"Type": "Pass", "End": true}}},
          "MaxConcurrencyPath": "$.conc",
          "ToleratedFailureCount": 3,
          "ToleratedFailurePercentage": 2.5,
          "Label": "shard",
          "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "b", "Prefix": "out"},
             "WriterConfig": {"OutputType": "JSONL", "Transformation": "FLATTEN"}},
          "ResultPath": null,
          "End": true
        })
    );
}

#[test]
fn legacy_iterator_and_parameters() {
    let m = build(
        StateMachine::builder().start(
            Map::new("Old")
                .parameters(json!({"x.$": "$$.Map.Item.Value"}))
                .processor(Pass::new("P"))
                .legacy_iterator(),
        ),
    );
    let v = m.to_value();
    assert!(v["States"]["Old"].get("Iterator").is_some());
    assert!(v["States"]["Old"].get("ItemProcessor").is_none());
    round_trips(&m);
}

#[test]
fn wait_forms_and_fail_exclusivity() {
    let m = build(
        StateMachine::builder().start(
            Wait::until("A", "2030-01-01T00:00:00Z")
                .next(Wait::seconds_path("B", "$.s"))
                .next(Wait::timestamp_path("C", "$.t"))
                .next(
                    Fail::new("F")
                        .error("E")
                        .error_path("$.e")
                        .cause_path("$.c")
                        .cause("C"),
                ),
        ),
    );
    let v = m.to_value();
    assert_eq!(v["States"]["A"]["Timestamp"], json!("2030-01-01T00:00:00Z"));
    assert_eq!(v["States"]["B"]["SecondsPath"], json!("$.s"));
    assert_eq!(v["States"]["C"]["TimestampPath"], json!("$.t"));
    // the last of Error/ErrorPath and of Cause/CausePath wins
    assert_eq!(
        v["States"]["F"],
        json!({"Type": "Fail", "ErrorPath": "$.e", "Cause": "C"})
    );
}

/// A stand-in for a typed service integration: anything `Into<TaskState>` is a task body.
struct Notify {
    topic: String,
}

impl From<Notify> for TaskState {
    fn from(n: Notify) -> TaskState {
        let mut t = Task::resource("arn:aws:states:::sns:publish");
        t.parameters = Some(json!({"TopicArn": n.topic, "Message.$": "$"}));
        // an integration must not decide the transition; the builder replaces it
        t.transition.end = Some(true);
        t
    }
}

#[test]
fn task_body_from_integration_type() {
    let m = build(
        StateMachine::builder().start(
            Task::new(
                "Notify",
                Notify {
                    topic: "arn:aws:sns:us-east-1:1:t".into(),
                },
            )
            .result_path("$.sns")
            .next(Succeed::new("Done")),
        ),
    );
    assert_eq!(
        m.to_value()["States"]["Notify"],
        json!({"Type": "Task", "Resource": "arn:aws:states:::sns:publish",
               "Parameters": {"TopicArn": "arn:aws:sns:us-east-1:1:t", "Message.$": "$"},
               "ResultPath": "$.sns", "Next": "Done"})
    );
}

#[test]
fn loops_by_name_and_afterwards() {
    let m = build(
        StateMachine::builder().start(
            Pass::new("Start")
                .next(Wait::seconds("Wait", 5))
                .next(
                    Choice::new("Ready?")
                        .when(Condition::boolean_equals("$.ready", true), Pass::new("Go"))
                        .when(
                            Condition::numeric_greater_than_equals("$.tries", 10),
                            Pass::new("Skip"),
                        )
                        .otherwise("Wait")
                        .afterwards(),
                )
                .next(Succeed::new("End")),
        ),
    );
    assert_eq!(m.states["Go"].successors(), ["End"]);
    assert_eq!(m.states["Skip"].successors(), ["End"]);
    assert_eq!(m.states["Ready?"].successors(), ["Go", "Skip", "Wait"]);
    round_trips(&m);
}

#[test]
fn open_choice_branches_end_and_explicit_end() {
    let m = build(
        StateMachine::builder().start(
            Choice::new("C")
                .when(Condition::is_null("$.x", false), Pass::new("A"))
                .otherwise(Pass::new("B").end()),
        ),
    );
    assert!(m.states["A"].is_terminal());
    assert!(m.states["B"].is_terminal());
}

#[test]
fn identical_copies_merge_but_different_states_with_one_name_do_not() {
    let h = Fail::new("Oops").error("X");
    let ok = build(
        StateMachine::builder().start(
            Task::new(
                "A",
                Task::resource("arn:aws:states:us-east-1:123456789012:activity:a"),
            )
            .catch(Catch::all(), h.clone())
            .next(
                Task::new(
                    "B",
                    Task::resource("arn:aws:states:us-east-1:123456789012:activity:b"),
                )
                .catch(Catch::all(), h.clone()),
            ),
        ),
    );
    assert_eq!(ok.states.keys().collect::<Vec<_>>(), ["A", "B", "Oops"]);

    let err = StateMachine::builder()
        .start(Pass::new("A").next(Pass::new("B").next(Pass::new("A").result(1))))
        .build()
        .unwrap_err();
    assert_eq!(
        codes(&err)[0],
        (Code::DuplicateStateName, "/States/A".into())
    );
    assert!(err
        .to_string()
        .contains("two different states are named \"A\""));
}

#[test]
fn names_are_unique_across_branches() {
    let err = StateMachine::builder()
        .start(
            Pass::new("X").next(
                Parallel::new("P")
                    .branch(Pass::new("Y"))
                    .branch(Pass::new("X")),
            ),
        )
        .build()
        .unwrap_err();
    assert_eq!(
        codes(&err),
        [(
            Code::DuplicateStateName,
            "/States/P/Branches/1/States/X".into()
        )]
    );
    assert!(err.diagnostics()[0]
        .message
        .contains("already used at /States/X"));
}

#[test]
fn dangling_and_out_of_branch_targets() {
    let err = StateMachine::builder()
        .start(
            Parallel::new("P")
                .branch(Pass::new("In").next("Outside"))
                .next(Pass::new("Outside").next("Nowhere")),
        )
        .build()
        .unwrap_err();
    let c = codes(&err);
    assert!(c.contains(&(
        Code::InvalidBranchTransition,
        "/States/P/Branches/0/States/In".into()
    )));
    assert!(c.contains(&(Code::MissingTransitionTarget, "/States/Outside".into())));
    let missing = err
        .diagnostics()
        .iter()
        .find(|d| d.code == Code::MissingTransitionTarget)
        .unwrap();
    assert!(missing
        .message
        .contains("state \"Outside\" goes to \"Nowhere\""));
}

#[test]
fn start_jump_to_nothing() {
    let err = StateMachine::builder().start("Ghost").build().unwrap_err();
    assert_eq!(
        codes(&err),
        [(Code::MissingTransitionTarget, "/StartAt".into())]
    );
}

#[test]
fn unreachable_and_endless() {
    let err = StateMachine::builder()
        .start(Pass::new("A").next(Pass::new("B")).next("A"))
        .also(Succeed::new("Island"))
        .build()
        .unwrap_err();
    assert_eq!(
        codes(&err),
        [
            (Code::UnreachableState, "/States/Island".into()),
            (Code::NoTerminalState, "/States/A".into()),
            (Code::NoTerminalState, "/States/B".into()),
        ]
    );
    // a loop with an exit is fine
    build(
        StateMachine::builder().start(
            Pass::new("A").next(
                Choice::new("Again?")
                    .when(Condition::numeric_less_than("$.i", 3), "A")
                    .otherwise(Succeed::new("Out")),
            ),
        ),
    );
}

#[test]
fn wrong_query_language_fields() {
    let err = StateMachine::builder()
        .jsonata()
        .start(
            Task::new(
                "T",
                Task::resource("arn:aws:states:us-east-1:123456789012:activity:t"),
            )
            .result_path("$.x")
            .catch(Catch::all().result_path("$.e"), Fail::new("F"))
            .next(Pass::new("P").jsonpath())
            .next(
                Choice::new("C")
                    .when(Condition::string_equals("$.a", "b"), Succeed::new("S"))
                    .otherwise(Wait::seconds_path("W", "$.w")),
            ),
        )
        .build()
        .unwrap_err();
    let c = codes(&err);
    for (code, ptr) in [
        (Code::QueryLanguageMismatch, "/States/T/ResultPath"),
        (Code::QueryLanguageMismatch, "/States/T/Catch/0"),
        (Code::QueryLanguageMismatch, "/States/P/QueryLanguage"),
        (Code::QueryLanguageMismatch, "/States/C/Choices/0"),
        (Code::QueryLanguageMismatch, "/States/W/SecondsPath"),
    ] {
        assert!(
            c.contains(&(code, ptr.to_string())),
            "{ptr} missing in {c:?}"
        );
    }
    assert!(err
        .to_string()
        .contains("state \"T\" is a JSONata state: ResultPath is a JSONPath field"));

    let err = StateMachine::builder()
        .start(
            Task::new(
                "T",
                Task::resource("arn:aws:states:us-east-1:123456789012:activity:t"),
            )
            .arguments(json!({}))
            .timeout_seconds("{% $t %}")
            .next(
                Choice::new("C")
                    .when(Condition::jsonata("true"), Succeed::new("S"))
                    .otherwise(Map::new("M").items(json!([1])).processor(Pass::new("I"))),
            ),
        )
        .build()
        .unwrap_err();
    let c = codes(&err);
    for ptr in [
        "/States/T/Arguments",
        "/States/T/TimeoutSeconds",
        "/States/C/Choices/0",
        "/States/M/Items",
    ] {
        assert!(
            c.contains(&(Code::QueryLanguageMismatch, ptr.to_string())),
            "{ptr} missing in {c:?}"
        );
    }
    // `${Name}` substitution tokens are fine in JSONPath integer fields
    build(
        StateMachine::builder().start(
            Task::new(
                "T",
                Task::resource("arn:aws:states:us-east-1:123456789012:activity:t"),
            )
            .timeout_seconds("${Timeout}"),
        ),
    );
}

#[test]
fn non_finite_numbers_are_reported() {
    let err = StateMachine::builder()
        .start(
            Task::new(
                "T",
                Task::resource("arn:aws:states:us-east-1:123456789012:activity:t"),
            )
            .retry(Retry::all().backoff_rate(f64::NAN))
            .next(
                Choice::new("C")
                    .when(
                        Condition::numeric_equals("$.x", f64::INFINITY),
                        Succeed::new("S"),
                    )
                    .otherwise(
                        Map::new("M")
                            .tolerated_failure_percentage(f64::NAN)
                            .processor(Pass::new("I")),
                    ),
            ),
        )
        .build()
        .unwrap_err();
    assert_eq!(
        codes(&err),
        [
            (Code::OutOfRange, "/States/T".into()),
            (Code::OutOfRange, "/States/M".into()),
            (
                Code::SchemaValidationFailed,
                "/States/C/Choices/0/NumericEquals".into()
            ),
        ]
    );
}

#[test]
fn every_operator_has_a_constructor() {
    let made = [
        Condition::string_equals("$.v", "s"),
        Condition::string_equals_path("$.v", "$.p"),
        Condition::string_less_than("$.v", "s"),
        Condition::string_less_than_path("$.v", "$.p"),
        Condition::string_greater_than("$.v", "s"),
        Condition::string_greater_than_path("$.v", "$.p"),
        Condition::string_less_than_equals("$.v", "s"),
        Condition::string_less_than_equals_path("$.v", "$.p"),
        Condition::string_greater_than_equals("$.v", "s"),
        Condition::string_greater_than_equals_path("$.v", "$.p"),
        Condition::string_matches("$.v", "a*"),
        Condition::numeric_equals("$.v", 1),
        Condition::numeric_equals_path("$.v", "$.p"),
        Condition::numeric_less_than("$.v", 1),
        Condition::numeric_less_than_path("$.v", "$.p"),
        Condition::numeric_greater_than("$.v", 1),
        Condition::numeric_greater_than_path("$.v", "$.p"),
        Condition::numeric_less_than_equals("$.v", 1),
        Condition::numeric_less_than_equals_path("$.v", "$.p"),
        Condition::numeric_greater_than_equals("$.v", 1),
        Condition::numeric_greater_than_equals_path("$.v", "$.p"),
        Condition::boolean_equals("$.v", true),
        Condition::boolean_equals_path("$.v", "$.p"),
        Condition::timestamp_equals("$.v", "2020-01-01T00:00:00Z"),
        Condition::timestamp_equals_path("$.v", "$.p"),
        Condition::timestamp_less_than("$.v", "2020-01-01T00:00:00Z"),
        Condition::timestamp_less_than_path("$.v", "$.p"),
        Condition::timestamp_greater_than("$.v", "2020-01-01T00:00:00Z"),
        Condition::timestamp_greater_than_path("$.v", "$.p"),
        Condition::timestamp_less_than_equals("$.v", "2020-01-01T00:00:00Z"),
        Condition::timestamp_less_than_equals_path("$.v", "$.p"),
        Condition::timestamp_greater_than_equals("$.v", "2020-01-01T00:00:00Z"),
        Condition::timestamp_greater_than_equals_path("$.v", "$.p"),
        Condition::is_null("$.v", true),
        Condition::is_present("$.v", true),
        Condition::is_numeric("$.v", true),
        Condition::is_string("$.v", true),
        Condition::is_boolean("$.v", true),
        Condition::is_timestamp("$.v", true),
    ];
    let ops: Vec<Operator> = made
        .iter()
        .map(|c| match c {
            Condition::Compare { operator, .. } => *operator,
            other => panic!("not a comparison: {other:?}"),
        })
        .collect();
    assert_eq!(ops, Operator::ALL);
    // and each builds into a valid machine whose JSON parses back
    let mut choice = Choice::new("C").when(made[0].clone(), "S");
    for c in made.into_iter().skip(1) {
        choice = choice.when(c, "S");
    }
    let m = build(StateMachine::builder().start(choice.otherwise(Succeed::new("S"))));
    round_trips(&m);
}

#[test]
fn condition_combinators() {
    let a = Condition::is_present("$.a", true);
    let b = Condition::is_present("$.b", true);
    let c = Condition::is_present("$.c", true);
    assert_eq!(a.clone() & b.clone(), a.clone().and(b.clone()));
    assert_eq!(
        serde_json::to_value((a.clone() & b.clone()) & c.clone()).unwrap(),
        json!({"And": [
            {"Variable": "$.a", "IsPresent": true},
            {"Variable": "$.b", "IsPresent": true},
            {"Variable": "$.c", "IsPresent": true}]})
    );
    assert_eq!(
        serde_json::to_value(Condition::any([a.clone(), !b.clone()])).unwrap(),
        json!({"Or": [{"Variable": "$.a", "IsPresent": true}, {"Not": {"Variable": "$.b", "IsPresent": true}}]})
    );
    assert_eq!(
        serde_json::to_value(Condition::all([a.clone()])).unwrap(),
        json!({"And": [{"Variable": "$.a", "IsPresent": true}]})
    );
    assert_eq!(
        serde_json::to_value(Condition::numeric_equals("$.x", 0.5f32)).unwrap(),
        json!({"Variable": "$.x", "NumericEquals": 0.5})
    );
    assert_eq!(
        serde_json::to_value(Condition::numeric_equals("$.x", -3i64)).unwrap(),
        json!({"Variable": "$.x", "NumericEquals": -3})
    );
    let v: Value = serde_json::to_value(a.with_comment("why")).unwrap();
    assert_eq!(
        v,
        json!({"Comment": "why", "Variable": "$.a", "IsPresent": true})
    );
    let empty = StateMachine::builder()
        .start(
            Choice::new("C")
                .when(Condition::any([]), Succeed::new("S"))
                .otherwise("S"),
        )
        .build()
        .unwrap_err();
    assert_eq!(
        codes(&empty),
        [(
            Code::SchemaValidationFailed,
            "/States/C/Choices/0/Or".into()
        )]
    );
}

#[test]
fn processor_mode_is_written_only_when_asked() {
    let m = build(StateMachine::builder().start(Map::new("M").processor(Pass::new("P"))));
    let State::Map(map) = &m.states["M"] else {
        panic!()
    };
    assert_eq!(map.item_processor.as_ref().unwrap().processor_config, None);
    let m = build(
        StateMachine::builder().start(
            Map::new("M")
                .distributed(ExecutionType::Express)
                .processor(Pass::new("P")),
        ),
    );
    let State::Map(map) = &m.states["M"] else {
        panic!()
    };
    let cfg = map
        .item_processor
        .as_ref()
        .unwrap()
        .processor_config
        .clone()
        .unwrap();
    assert_eq!(cfg.mode, Some(ProcessorMode::Distributed));
}

#[test]
fn build_error_display_lists_every_problem() {
    let err = StateMachine::builder()
        .start(Pass::new("A").next("B"))
        .build()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot build the state machine (1 problem):\n  error[MISSING_TRANSITION_TARGET] at /States/A: state \"A\" goes to \"B\", which does not exist (help: define a state with that name in the same branch)"
    );
    assert!(err.has(Code::MissingTransitionTarget));
    assert!(!err.has(Code::UnreachableState));
}

#[test]
fn typed_integrations_are_task_bodies() {
    use stepwright::integrations::{sagemaker::CreateEndpoint, Input};
    let m = build(
        StateMachine::builder().start(
            Task::new(
                "Deploy",
                CreateEndpoint::new("churn", Input::path("$.config")),
            )
            .result_path("$.endpoint")
            .next(Succeed::new("Done")),
        ),
    );
    let v = m.to_value();
    assert_eq!(
        v["States"]["Deploy"]["Resource"],
        json!("arn:aws:states:::sagemaker:createEndpoint")
    );
    assert_eq!(v["States"]["Deploy"]["Next"], json!("Done"));
    round_trips(&m);
}

/// The README's builder example is the doc test "The README example" of `stepwright::builder`
/// (which compiles and runs it); this keeps the two texts identical.
#[test]
fn readme_example_matches_the_doc_test() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let docs = std::fs::read_to_string(root.join("crates/stepwright/src/builder/mod.rs")).unwrap();
    let start = readme
        .find("## The builder in 30 seconds\n\n```rust\n")
        .expect("README has the builder section");
    let code = &readme[start..];
    let code = &code[code.find("```rust\n").unwrap() + 8..];
    let code = &code[..code.find("```").unwrap()];
    let doc_lines: Vec<&str> = docs
        .lines()
        .skip_while(|l| *l != "//! # The README example")
        .skip_while(|l| *l != "//! ```")
        .skip(1)
        .take_while(|l| !l.starts_with("//! # Ok::"))
        .map(|l| {
            l.strip_prefix("//! ")
                .unwrap_or(l.strip_prefix("//!").unwrap_or(l))
        })
        .collect();
    assert_eq!(code.lines().collect::<Vec<_>>(), doc_lines);
}

#[test]
fn build_runs_the_validator_after_the_builders_own_checks() {
    // a bad path and a bad Resource: only the validator knows these
    let err = StateMachine::builder()
        .start(
            Pass::new("P")
                .result_path("$.a[")
                .next(Task::new("T", Task::resource("not an arn"))),
        )
        .build()
        .unwrap_err();
    let c = codes(&err);
    assert!(
        c.iter().any(
            |(code, p)| *code == Code::InvalidJsonPath && p.starts_with("/States/P/ResultPath")
        ),
        "{c:?}"
    );
    assert!(
        c.iter()
            .any(|(code, p)| *code == Code::InvalidResource && p == "/States/T/Resource"),
        "{c:?}"
    );
    // when the builder's own checks fail, their messages come alone (no duplicates from the
    // validator's graph rules)
    let err = StateMachine::builder()
        .start(Pass::new("A").next("Missing"))
        .build()
        .unwrap_err();
    assert_eq!(err.diagnostics().len(), 1);
}
