//! Random machines through the builder (chains, Choices, Parallel, inline and distributed Maps,
//! Retry, Catch, jumps back, both query languages): each builds without error, its JSON parses
//! back to the same model, rendering is byte-identical twice, and it draws with one node per
//! state.

use proptest::prelude::*;
use serde_json::{json, Value};
use stepwright::builder::*;

#[derive(Debug, Clone)]
enum Step {
    Pass {
        fields: u8,
        value: Value,
        jsonata: bool,
    },
    Task {
        fields: u8,
        value: Value,
        retry: u8,
        catch: Option<bool>,
        jsonata: bool,
    },
    Wait {
        kind: u8,
        n: u64,
    },
    Parallel {
        branches: Vec<Vec<Step>>,
        catch: bool,
    },
    Map {
        body: Vec<Step>,
        distributed: bool,
        fields: u8,
    },
    Choice {
        rules: Vec<(u8, Value, Vec<Step>)>,
        otherwise: Option<Vec<Step>>,
        loop_back: bool,
        jsonata: bool,
    },
    Succeed,
    Fail {
        error: String,
    },
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i32>().prop_map(Value::from),
        (-1000.0f64..1000.0).prop_map(Value::from),
        "[a-zA-Z0-9 éß🚀\"\\\\]{0,8}".prop_map(Value::from),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::from),
            prop::collection::btree_map("[a-z]{1,4}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn simple_step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (any::<u8>(), json_value(), any::<bool>()).prop_map(|(fields, value, jsonata)| {
            Step::Pass {
                fields,
                value,
                jsonata,
            }
        }),
        (
            any::<u8>(),
            json_value(),
            0u8..4,
            prop::option::of(any::<bool>()),
            any::<bool>()
        )
            .prop_map(|(fields, value, retry, catch, jsonata)| Step::Task {
                fields,
                value,
                retry,
                catch,
                jsonata,
            }),
        (0u8..4, 0u64..100_000).prop_map(|(kind, n)| Step::Wait { kind, n }),
    ]
}

/// A chain: chainable steps, then optionally a terminal step or a Choice.
fn chain() -> impl Strategy<Value = Vec<Step>> {
    let leaf = (
        prop::collection::vec(simple_step(), 1..3),
        prop_oneof![
            Just(None),
            Just(Some(Step::Succeed)),
            "[A-Za-z.]{1,12}".prop_map(|error| Some(Step::Fail { error })),
        ],
    )
        .prop_map(|(mut v, t)| {
            v.extend(t);
            v
        });
    leaf.prop_recursive(3, 32, 4, |inner| {
        let compound = prop_oneof![
            3 => simple_step(),
            1 => (prop::collection::vec(inner.clone(), 1..3), any::<bool>())
                .prop_map(|(branches, catch)| Step::Parallel { branches, catch }),
            1 => (inner.clone(), any::<bool>(), any::<u8>())
                .prop_map(|(body, distributed, fields)| Step::Map { body, distributed, fields }),
        ];
        let choice = (
            prop::collection::vec((any::<u8>(), json_value(), inner.clone()), 1..3),
            prop::option::of(inner),
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(|(rules, otherwise, loop_back, jsonata)| Step::Choice {
                rules,
                otherwise,
                loop_back,
                jsonata,
            });
        (
            prop::collection::vec(compound, 1..4),
            prop::option::of(choice),
        )
            .prop_map(|(mut v, c)| {
                v.extend(c);
                v
            })
    })
}

enum Any {
    Open(Chain<Open>),
    Closed(Chain<Closed>),
}

struct Gen {
    counter: usize,
    machine_jsonata: bool,
}

impl Gen {
    fn name(&mut self, kind: &str) -> String {
        self.counter += 1;
        // names with spaces, quotes and unicode, unique by their number
        format!("{kind} \"{}\" ü{}", self.counter % 3, self.counter)
    }

    fn lang(&self, state_jsonata: bool) -> bool {
        self.machine_jsonata || state_jsonata
    }

    /// Builds a chain; `scope_start` is the first state of the enclosing scope (jump target).
    fn chain(&mut self, steps: &[Step], scope_start: &str) -> Any {
        let (last, init) = steps.split_last().expect("chains are not empty");
        let mut tail = self.step(last, scope_start);
        for s in init.iter().rev() {
            let head = match self.step(s, scope_start) {
                Any::Open(c) => c,
                Any::Closed(_) => unreachable!("only the last step of a chain closes it"),
            };
            tail = match tail {
                Any::Open(t) => Any::Open(head.next(t)),
                Any::Closed(t) => Any::Closed(head.next(t)),
            };
        }
        tail
    }

    fn sub(&mut self, steps: &[Step]) -> Subflow {
        match self.chain_with_own_start(steps) {
            Any::Open(c) => Subflow::new(c),
            Any::Closed(c) => Subflow::new(c),
        }
    }

    /// A chain whose jumps go to its own first state.
    fn chain_with_own_start(&mut self, steps: &[Step]) -> Any {
        // Names are numbered in build order from the tail, so the first state of the chain is
        // the last one named: predict it by building with a placeholder, then rebuilding.
        let saved = self.counter;
        let placeholder = self.chain(steps, "\u{0}");
        let start = match &placeholder {
            Any::Open(c) => c.start_name().to_string(),
            Any::Closed(c) => c.start_name().to_string(),
        };
        self.counter = saved;
        self.chain(steps, &start)
    }

    fn step(&mut self, s: &Step, scope_start: &str) -> Any {
        match s {
            Step::Pass {
                fields,
                value,
                jsonata,
            } => {
                let name = self.name("Pass");
                let ja = self.lang(*jsonata);
                let mut p = Pass::new(name);
                if *jsonata && !self.machine_jsonata {
                    p = p.jsonata();
                }
                if fields & 1 != 0 {
                    p = p.comment("a pass");
                }
                if ja {
                    if fields & 2 != 0 {
                        p = p.output(value.clone());
                    }
                    if fields & 4 != 0 {
                        p = p.assign("v", "{% $states.input %}");
                    }
                } else {
                    if fields & 2 != 0 {
                        p = p.result(value.clone());
                    }
                    if fields & 4 != 0 {
                        p = p.result_path("$.r");
                    }
                    if fields & 8 != 0 {
                        p = p.input_path("$");
                    }
                    if fields & 16 != 0 {
                        p = p.discard_output();
                    }
                    if fields & 32 != 0 {
                        p = p.parameters(json!({"x.$": "$.x", "lit": value.clone()}));
                    }
                }
                Any::Open(p.into_chain())
            }
            Step::Task {
                fields,
                value,
                retry,
                catch,
                jsonata,
            } => {
                let name = self.name("Task");
                let ja = self.lang(*jsonata);
                let mut t = Task::new(name, Task::resource("arn:aws:states:::lambda:invoke"));
                if *jsonata && !self.machine_jsonata {
                    t = t.jsonata();
                }
                if ja {
                    t = t.arguments(json!({"FunctionName": "f", "Payload": value.clone()}));
                    if fields & 1 != 0 {
                        t = t.output("{% $states.result.Payload %}");
                    }
                    if fields & 2 != 0 {
                        t = t.timeout_seconds("{% 30 %}");
                    }
                } else {
                    t = t.parameters(json!({"FunctionName": "f", "Payload.$": "$"}));
                    if fields & 1 != 0 {
                        t = t.result_selector(json!({"p.$": "$.Payload"}));
                    }
                    if fields & 2 != 0 {
                        t = t.timeout_seconds(30).heartbeat_seconds(10);
                    }
                    if fields & 4 != 0 {
                        t = t.discard_result();
                    }
                }
                if fields & 8 != 0 {
                    t = t.role_arn("arn:aws:iam::123456789012:role/r");
                }
                for i in 0..*retry {
                    t = t.retry(match i {
                        0 => Retry::lambda_transient(),
                        1 => Retry::on(["States.Timeout"]).max_attempts(0),
                        _ => Retry::all().backoff_rate(1.5).full_jitter(),
                    });
                }
                if let Some(fail) = catch {
                    let handler: Any = if *fail {
                        Any::Closed(Fail::new(self.name("Handler")).error("Caught").into_chain())
                    } else {
                        Any::Open(Pass::new(self.name("Recover")).into_chain())
                    };
                    let c = if ja {
                        Catch::all().output("{% $states.errorOutput %}")
                    } else {
                        Catch::all().result_path("$.error")
                    };
                    t = match handler {
                        Any::Open(h) => t.catch(c, h),
                        Any::Closed(h) => t.catch(c, h),
                    };
                }
                Any::Open(t.into_chain())
            }
            Step::Wait { kind, n } => {
                let name = self.name("Wait");
                let w = if self.machine_jsonata {
                    match kind {
                        0 => Wait::seconds(name, *n),
                        1 => Wait::seconds(name, "{% 1 + 1 %}"),
                        _ => Wait::until(name, "2030-01-01T00:00:00Z"),
                    }
                } else {
                    match kind {
                        0 => Wait::seconds(name, *n),
                        1 => Wait::seconds_path(name, "$.s"),
                        2 => Wait::timestamp_path(name, "$.t"),
                        _ => Wait::until(name, "2030-01-01T00:00:00Z"),
                    }
                };
                Any::Open(w.into_chain())
            }
            Step::Succeed => Any::Closed(Succeed::new(self.name("Succeed")).into_chain()),
            Step::Fail { error } => Any::Closed(
                Fail::new(self.name("Fail"))
                    .error(error.clone())
                    .cause("because")
                    .into_chain(),
            ),
            Step::Parallel { branches, catch } => {
                let name = self.name("Parallel");
                let mut subs = branches.iter().map(|b| self.sub(b));
                let first = subs.next().expect("at least one branch");
                let rest: Vec<Subflow> = subs.collect();
                let mut p = Parallel::new(name).branch(first);
                for s in rest {
                    p = p.branch(s);
                }
                if *catch {
                    p = p
                        .retry(Retry::on(["States.BranchFailed"]))
                        .catch(Catch::all(), Succeed::new(self.name("Absorb")));
                }
                if !self.machine_jsonata {
                    p = p.result_path("$.branches");
                }
                Any::Open(p.into_chain())
            }
            Step::Map {
                body,
                distributed,
                fields,
            } => {
                let name = self.name("Map");
                let sub = self.sub(body);
                let mut m = Map::new(name);
                if self.machine_jsonata {
                    m = m.items("{% $states.input.items %}");
                    if fields & 1 != 0 {
                        m = m.max_concurrency("{% 2 %}");
                    }
                } else {
                    m = m.items_path("$.items");
                    if fields & 1 != 0 {
                        m = m.max_concurrency(2);
                    }
                    if fields & 2 != 0 {
                        m = m.item_selector(json!({"item.$": "$$.Map.Item.Value"}));
                    }
                }
                if *distributed {
                    m = m
                        .distributed(if fields & 4 != 0 {
                            ExecutionType::Express
                        } else {
                            ExecutionType::Standard
                        })
                        .item_batcher(ItemBatcher::max_items(10))
                        .tolerated_failure_percentage(5)
                        .label("lbl");
                    if !self.machine_jsonata {
                        m = m.item_reader(
                            ItemReader::list_objects_v2()
                                .parameters(json!({"Bucket": "b", "Prefix": "p/"})),
                        );
                    }
                } else if fields & 8 != 0 {
                    m = m.inline();
                }
                Any::Open(m.processor(sub).into_chain())
            }
            Step::Choice {
                rules,
                otherwise,
                loop_back,
                jsonata,
            } => {
                let name = self.name("Choice");
                let ja = self.lang(*jsonata);
                let mut built = Vec::new();
                for (kind, value, target) in rules {
                    let cond = if ja {
                        Condition::jsonata(format!("$states.input.n > {kind}"))
                    } else {
                        match kind % 6 {
                            0 => Condition::string_equals("$.s", value.to_string()),
                            1 => Condition::numeric_greater_than_equals("$.n", *kind),
                            2 => Condition::is_present("$.p", kind & 8 != 0)
                                .and(Condition::boolean_equals_path("$.b", "$.c")),
                            3 => !Condition::timestamp_less_than("$.t", "2020-01-01T00:00:00Z"),
                            4 => Condition::any([
                                Condition::string_matches("$.f", "*.csv"),
                                Condition::is_null("$.z", false),
                            ]),
                            _ => Condition::compare("$.v", Operator::NumericEquals, json!(1.5)),
                        }
                    };
                    built.push((cond, self.chain(target, scope_start)));
                }
                let other = otherwise.as_ref().map(|o| self.chain(o, scope_start));
                let mut it = built.into_iter();
                let (c0, t0) = it.next().expect("a rule");
                let mut c = Choice::new(name);
                if *jsonata && !self.machine_jsonata {
                    c = c.jsonata();
                }
                let mut c = match t0 {
                    Any::Open(t) => c.when(c0, t),
                    Any::Closed(t) => c.when(c0, t),
                };
                for (cond, t) in it {
                    c = match t {
                        Any::Open(t) => c.when(cond, t),
                        Any::Closed(t) => c.when(cond, t),
                    };
                }
                c = match other {
                    Some(Any::Open(t)) => c.otherwise(t),
                    Some(Any::Closed(t)) => c.otherwise(t),
                    None if *loop_back && scope_start != "\u{0}" => c.otherwise(scope_start),
                    None => c,
                };
                Any::Closed(c.into_chain())
            }
        }
    }
}

fn build_machine(steps: &[Step], jsonata: bool) -> Result<StateMachine, BuildError> {
    let mut g = Gen {
        counter: 0,
        machine_jsonata: jsonata,
    };
    let chain = g.chain_with_own_start(steps);
    let b = StateMachine::builder().comment("generated");
    let b = if jsonata { b.jsonata() } else { b };
    match chain {
        Any::Open(c) => b.start(c).build(),
        Any::Closed(c) => b.start(c).build(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn builder_json_parse_round_trip(steps in chain(), jsonata in any::<bool>()) {
        let m = match build_machine(&steps, jsonata) {
            Ok(m) => m,
            Err(e) => return Err(TestCaseError::fail(format!("generated machine did not build: {e}"))),
        };
        let text = m.to_json_pretty();
        let back = StateMachine::from_json(&text)
            .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(&back, &m);
        prop_assert_eq!(back.to_json_pretty(), text.clone());
        prop_assert_eq!(m.to_json_pretty(), text);

        let mut states = 0;
        m.walk(|_| states += 1);
        prop_assert_eq!(stepwright::render::graph::Graph::of(&m).state_nodes().len(), states);
        prop_assert_eq!(m.to_mermaid(), back.to_mermaid());
        prop_assert_eq!(m.to_dot(), back.to_dot());
    }
}
