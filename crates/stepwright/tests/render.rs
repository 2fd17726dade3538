//! Graph rendering: representative machines rendered exactly (insta snapshots and exact
//! strings), label text, escaping, and every localstack corpus definition rendering with one
//! node per state.

use serde_json::json;
use stepwright::builder::*;
use stepwright::render::graph::{Graph, NodeKind};
use stepwright::render::{label, Format};
use testkit::{conformance_dir, json_files, read_json, Tally};

fn pipeline() -> StateMachine {
    let failed = Fail::new("PipelineFailed").error("Pipeline.Failed");
    StateMachine::builder()
        .comment("training")
        .start(
            Task::new("Cleanse", Task::resource("arn:aws:states:::lambda:invoke"))
                .catch(
                    Catch::on(["Cleanse.InvalidInput", "States.Timeout"]),
                    failed.clone(),
                )
                .next(
                    Choice::new("Data valid?")
                        .when(
                            Condition::boolean_equals("$.valid", true)
                                .and(Condition::numeric_greater_than_equals("$.rows", 100)),
                            Task::new(
                                "Train",
                                Task::resource("arn:aws:states:::sagemaker:createTrainingJob.sync"),
                            )
                            .catch(Catch::all(), failed.clone())
                            .next(Succeed::new("Done")),
                        )
                        .otherwise(failed),
                ),
        )
        .build()
        .unwrap()
}

fn nested() -> StateMachine {
    StateMachine::builder()
        .start(
            Map::new("Each file")
                .items_path("$.files")
                .processor(
                    Parallel::new("Checks")
                        .branch(Pass::new("Schema"))
                        .branch(
                            Map::new("Each column")
                                .distributed(ExecutionType::Express)
                                .processor(Wait::seconds("Nap", 1).next(Pass::new("Profile"))),
                        )
                        .catch(Catch::all(), Fail::new("Check failed")),
                )
                .next(Succeed::new("All done")),
        )
        .build()
        .unwrap()
}

#[test]
fn pipeline_mermaid() {
    insta::assert_snapshot!("pipeline_mermaid", pipeline().to_mermaid());
}

#[test]
fn pipeline_dot() {
    insta::assert_snapshot!("pipeline_dot", pipeline().to_dot());
}

#[test]
fn nested_mermaid() {
    insta::assert_snapshot!("nested_mermaid", nested().to_mermaid());
}

#[test]
fn nested_dot() {
    insta::assert_snapshot!("nested_dot", nested().to_dot());
}

#[test]
fn choice_and_catch_edges_exactly() {
    let m = pipeline();
    let mmd = m.to_mermaid();
    // ids: s0 Cleanse, s1 Data valid?, s2 Train, s3 Done, s4 PipelineFailed
    for line in [
        "    start0((\"Start\"))",
        "    s0[\"Cleanse<br/>lambda:invoke\"]",
        "    s1{\"Data valid?\"}",
        "    s3([\"Done\"])",
        "    s4>\"PipelineFailed\"]",
        "    stop0(((\"End\")))",
        "    start0 --> s0",
        "    s0 -.->|\"Cleanse.InvalidInput, States.Timeout\"| s4",
        "    s1 -->|\"$.valid == true and $.rows >= 100\"| s2",
        "    s1 -->|\"Default\"| s4",
        "    s2 -.->|\"States.ALL\"| s4",
        "    s3 --> stop0",
        "    s4 --> stop0",
    ] {
        assert!(mmd.lines().any(|l| l == line), "missing {line:?} in\n{mmd}");
    }
    let dot = m.to_dot();
    for line in [
        "  s0 -> s4 [label=\"Cleanse.InvalidInput, States.Timeout\", style=dashed, color=\"#c62828\"];",
        "  s1 -> s2 [label=\"$.valid == true and $.rows >= 100\"];",
        "  s1 -> s4 [label=\"Default\", style=bold];",
        "  s0 -> s1;",
    ] {
        assert!(dot.lines().any(|l| l == line), "missing {line:?} in\n{dot}");
    }
}

#[test]
fn names_are_escaped_for_each_format() {
    let name = "Say \"hi\" <now> #1 & `x` | 100% \\ ünïcødé 🚀";
    let m = StateMachine::builder()
        .start(Pass::new(name).next(Succeed::new("fin")))
        .build()
        .unwrap();
    let mmd = m.to_mermaid();
    assert!(
        mmd.contains(
            "s0(\"Say #34;hi#34; #60;now> #35;1 #38; #96;x#96; #124; 100#37; #92; ünïcødé 🚀\")"
        ),
        "{mmd}"
    );
    let dot = m.to_dot();
    assert!(
        dot.contains(r#"s0 [label="Say \"hi\" <now> #1 & `x` | 100% \\ ünïcødé 🚀", "#),
        "{dot}"
    );
    // the Task detail line is escaped too
    let m = StateMachine::from_value(&json!({
        "StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "${Fn<\"x\">}", "End": true}}
    }))
    .unwrap();
    assert!(
        m.to_mermaid().contains("s0[\"T<br/>${Fn#60;#34;x#34;>}\"]"),
        "{}",
        m.to_mermaid()
    );
    assert!(
        m.to_dot().contains(r#"s0 [label="T\n${Fn<\"x\">}", "#),
        "{}",
        m.to_dot()
    );
    // a control character in a name cannot break a line of either format
    let m = StateMachine::from_value(&json!({
        "StartAt": "a\nb", "States": {"a\nb": {"Type": "Succeed"}}
    }))
    .unwrap();
    assert!(m.to_mermaid().contains("s0([\"a b\"])"));
    assert!(m.to_dot().contains("s0 [label=\"a b\""));
}

#[test]
fn condition_labels() {
    let cases = [
        (Condition::string_equals("$.s", "ok"), r#"$.s == "ok""#),
        (Condition::string_equals_path("$.s", "$.t"), "$.s == $.t"),
        (Condition::numeric_less_than("$.n", 3), "$.n < 3"),
        (
            Condition::numeric_greater_than_path("$.n", "$.m"),
            "$.n > $.m",
        ),
        (
            Condition::numeric_less_than_equals("$.n", 2.5),
            "$.n <= 2.5",
        ),
        (
            Condition::timestamp_greater_than_equals("$.t", "2020-01-01T00:00:00Z"),
            r#"$.t >= "2020-01-01T00:00:00Z""#,
        ),
        (Condition::boolean_equals("$.b", false), "$.b == false"),
        (
            Condition::string_matches("$.f", "*.csv"),
            r#"$.f matches "*.csv""#,
        ),
        (Condition::is_present("$.x", false), "$.x is not present"),
        (Condition::is_null("$.x", true), "$.x is null"),
        (Condition::is_timestamp("$.x", true), "$.x is a timestamp"),
        (!Condition::is_string("$.x", true), "not ($.x is a string)"),
        (
            Condition::is_present("$.a", true)
                .or(Condition::is_present("$.b", true))
                .and(Condition::is_null("$.c", false)),
            "($.a is present or $.b is present) and $.c is not null",
        ),
        (
            !(Condition::is_present("$.a", true) & Condition::is_present("$.b", true)),
            "not ($.a is present and $.b is present)",
        ),
        (
            Condition::jsonata("{%   $states.input.n > 1 %}"),
            "$states.input.n > 1",
        ),
    ];
    for (c, want) in cases {
        assert_eq!(label::condition(&c), want);
    }
    let long = Condition::string_equals(
        "$.a.very.long.path.into.the.input",
        "and a long value to compare with",
    );
    let l = label::condition(&long);
    assert_eq!(l.chars().count(), label::MAX_LABEL);
    assert!(l.ends_with('…'));
    assert!(l.starts_with("$.a.very.long.path.into.the.input == \"and a long"));
}

#[test]
fn missing_targets_are_drawn_not_panicked_on() {
    let m = StateMachine::from_value(&json!({
        "StartAt": "Nope",
        "States": {"A": {"Type": "Pass", "Next": "Gone"}}
    }))
    .unwrap();
    let g = Graph::of(&m);
    assert_eq!(g.state_nodes().len(), 1);
    let mmd = m.to_mermaid();
    assert!(mmd.contains("missing0_0[\"Nope (missing)\"]"), "{mmd}");
    assert!(mmd.contains("s0 --> missing0_1"), "{mmd}");
    assert!(m.to_dot().contains("label=\"Gone (missing)\""));
}

#[test]
fn format_names() {
    for f in Format::ALL {
        assert_eq!(f.as_str().parse::<Format>(), Ok(*f));
    }
    assert_eq!(
        "png".parse::<Format>().unwrap_err().to_string(),
        "unknown format \"png\" (expected one of: mermaid, dot)"
    );
}

/// Counts, in rendered text, the lines that declare node `id` (the id followed by a shape or
/// attribute opener, so that `s1` does not match `s10`).
fn declarations(text: &str, id: &str, openers: &[&str]) -> usize {
    text.lines()
        .map(str::trim_start)
        .filter(|l| {
            l.strip_prefix(id)
                .is_some_and(|rest| openers.iter().any(|o| rest.starts_with(o)))
        })
        .count()
}

#[test]
fn every_localstack_definition_renders_with_one_node_per_state() {
    let dir = conformance_dir().join("localstack");
    let mut tally = Tally::new();
    for path in json_files(&dir) {
        if path.file_name().is_some_and(|n| n == "index.json") {
            continue;
        }
        let case = read_json(&path);
        let Some(def) = case.get("definition") else {
            continue;
        };
        let area = path
            .parent()
            .and_then(|p| p.file_name())
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let Ok(m) = StateMachine::from_value(def) else {
            tally.fail(&area, format!("{}: does not parse", path.display()));
            continue;
        };
        let mut states = 0;
        m.walk(|_| states += 1);
        let g = Graph::of(&m);
        let nodes = g.state_nodes();
        let mmd = m.to_mermaid();
        let dot = m.to_dot();
        let ok = nodes.len() == states
            && nodes.iter().all(|n| matches!(n.kind, NodeKind::State(_)))
            && nodes.iter().all(|n| {
                declarations(&mmd, &n.id, &["[", "(", "{", ">"]) == 1
                    && declarations(&dot, &n.id, &[" ["]) == 1
            })
            && !mmd.contains("(missing)\"")
            && dot.ends_with("}\n");
        if ok {
            tally.record(&area, true);
        } else {
            tally.fail(
                &area,
                format!(
                    "{}: {} states, {} nodes",
                    path.display(),
                    states,
                    nodes.len()
                ),
            );
        }
    }
    tally.report("localstack definitions: render (one node per state)");
    let (p, t) = tally.totals();
    for f in tally.failures().iter().take(10) {
        eprintln!("{f}");
    }
    assert_eq!(p, t);
    assert!(t >= 733, "expected the localstack corpus, found {t}");
}

/// Graphviz accepts every DOT file we write (run with `cargo test -p stepwright --test render --
/// --ignored` after `apt-get install graphviz`; CI does not install Graphviz).
#[test]
#[ignore = "needs Graphviz's `dot` on PATH"]
fn graphviz_accepts_every_corpus_drawing() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let dir = conformance_dir().join("localstack");
    let mut machines = vec![pipeline(), nested()];
    for path in json_files(&dir) {
        if let Some(def) = read_json(&path).get("definition") {
            if let Ok(m) = StateMachine::from_value(def) {
                machines.push(m);
            }
        }
    }
    let mut tally = Tally::new();
    for m in &machines {
        let mut child = Command::new("dot")
            .arg("-Tsvg")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("Graphviz `dot` on PATH");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(m.to_dot().as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let ok = out.status.success() && out.stderr.is_empty();
        if ok {
            tally.record("dot -Tsvg", true);
        } else {
            tally.fail(
                "dot -Tsvg",
                String::from_utf8_lossy(&out.stderr).into_owned(),
            );
        }
    }
    tally.report("Graphviz on rendered DOT");
    let (p, t) = tally.totals();
    assert_eq!(p, t, "{:?}", tally.failures().first());
}
