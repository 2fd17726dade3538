//! JSON tree ([`super::json::J`]) → model, collecting every structural problem with its JSON pointer.
//!
//! The reader never stops at the first problem: it reads what it can, records a diagnostic for
//! each unknown field, wrong type or missing required field, and fills gaps with defaults. The
//! caller discards the result when any diagnostic was recorded.

use std::borrow::Cow;

use super::json::{
    parse_skipping_states, parse_state_slice, parse_streaming_states, same_key, split_states,
    to_map, Members, J,
};

use super::*;
use crate::diagnostics::{Code, Diagnostic, Ptr};

/// Every field name ASL knows, to tell "not valid here" from "unknown" and to suggest a fix.
const ALL_FIELDS: &[&str] = &[
    "Type",
    "Comment",
    "QueryLanguage",
    "Next",
    "End",
    "InputPath",
    "Parameters",
    "Arguments",
    "Result",
    "ResultSelector",
    "ResultPath",
    "OutputPath",
    "Output",
    "Assign",
    "Resource",
    "Retry",
    "Catch",
    "TimeoutSeconds",
    "TimeoutSecondsPath",
    "HeartbeatSeconds",
    "HeartbeatSecondsPath",
    "Credentials",
    "Choices",
    "Default",
    "Seconds",
    "Timestamp",
    "SecondsPath",
    "TimestampPath",
    "Error",
    "ErrorPath",
    "Cause",
    "CausePath",
    "Branches",
    "ItemsPath",
    "Items",
    "ItemReader",
    "ItemSelector",
    "ItemBatcher",
    "ItemProcessor",
    "Iterator",
    "MaxConcurrency",
    "MaxConcurrencyPath",
    "ToleratedFailureCount",
    "ToleratedFailureCountPath",
    "ToleratedFailurePercentage",
    "ToleratedFailurePercentagePath",
    "Label",
    "ResultWriter",
];

/// Reads a machine straight from its text: each top-level state is read as soon as it is parsed
/// and its tree dropped, so that a large machine never holds its whole parsed tree (a 10,000-state
/// machine's tree is several megabytes, past what the caches keep). `None` when the text is not
/// for the fast parser (see [`super::json::parse`]); the caller then takes the `serde_json` route.
pub(super) fn read_machine_text(
    text: &str,
    errs: &mut Vec<Diagnostic>,
) -> Option<Option<StateMachine>> {
    struct Keep(States);
    impl StateSink for Keep {
        fn has(&self, name: &str) -> bool {
            self.0.contains_key(name)
        }
        fn take(&mut self, _: &[(Cow<'_, str>, J<'_>)], name: Cow<'_, str>, state: State) {
            self.0.insert(name.into_owned(), state);
        }
    }
    let mut keep = Keep(States::default());
    let (machine, streamed) = read_machine_streaming(text, errs, &mut keep)?;
    Some(machine.map(|mut m| {
        if streamed {
            m.states = keep.0;
        }
        m
    }))
}

/// Where [`read_machine_streaming`] hands each top-level state it read.
pub(crate) trait StateSink {
    /// Whether a top-level state of this name was taken already (a duplicate key: the text then
    /// goes the `serde_json` route, which reports it).
    fn has(&self, name: &str) -> bool;
    /// Takes a state; `machine` holds the machine's members written before `States`.
    fn take(&mut self, machine: &[(Cow<'_, str>, J<'_>)], name: Cow<'_, str>, state: State);
}

impl<T: StateSink + ?Sized> StateSink for &mut T {
    fn has(&self, name: &str) -> bool {
        (**self).has(name)
    }
    fn take(&mut self, machine: &[(Cow<'_, str>, J<'_>)], name: Cow<'_, str>, state: State) {
        (**self).take(machine, name, state);
    }
}

/// [`read_machine_text`], handing each top-level state to `sink` instead of keeping it: the
/// machine returned has no states when the flag is true (they all went to the sink; when it is
/// false, `States` was not an object and was read as usual). States that could not be read do
/// not reach the sink; their diagnostics are in `errs`.
pub(crate) fn read_machine_streaming(
    text: &str,
    errs: &mut Vec<Diagnostic>,
    sink: &mut dyn StateSink,
) -> Option<(Option<StateMachine>, bool)> {
    let mut slice = Slice {
        sink,
        unread: Vec::new(),
        errs: Vec::new(),
    };
    let mut hook = |machine: &[(Cow<'_, str>, J<'_>)], name: Cow<'_, str>, v: J<'_>| -> bool {
        slice.read(machine, name, v)
    };
    let (tree, streamed) = parse_streaming_states(text, &mut hook)?;
    let pre = streamed.then_some((States::default(), slice.errs));
    Some((read_machine_with(&tree, errs, pre), streamed))
}

/// Top-level states read into one sink: all of them ([`read_machine_streaming`]) or a slice of
/// them ([`read_machine_parallel`]).
pub(crate) struct Slice<S> {
    /// The sink that took the states.
    pub(crate) sink: S,
    /// The names of the states that could not be read (their diagnostics are in `errs`): a later
    /// state of the same name is still a duplicate key, which the `serde_json` route reports.
    pub(crate) unread: Vec<String>,
    /// The diagnostics of the states that could not be read, in text order.
    errs: Vec<Diagnostic>,
}

impl<S: StateSink> Slice<S> {
    /// Reads the state `name` (its tree is `v`) into the sink; `false` for a name met before
    /// (a duplicate key).
    fn read(&mut self, machine: &[(Cow<'_, str>, J<'_>)], name: Cow<'_, str>, v: J<'_>) -> bool {
        if self.sink.has(name.as_ref()) || self.unread.iter().any(|u| *u == name) {
            return false;
        }
        let root = Ptr::Str("");
        let base = Ptr::Key(&root, "States");
        match read_state(&v, Ptr::Key(&base, &name), &mut self.errs) {
            Some(s) => {
                drop(v);
                self.sink.take(machine, name, s);
            }
            None => self.unread.push(name.into_owned()),
        }
        true
    }
}

/// The stack of each thread of [`read_machine_parallel`]: a main thread's (the parser and the
/// reader recurse once per level of nesting).
const SLICE_STACK_BYTES: usize = 8 << 20;

/// [`read_machine_streaming`] on up to `threads` threads: the top-level states are parsed and
/// read in consecutive slices of about `min_slice_bytes` of text or more, each on a thread of its
/// own and into a sink of its own (`new_sink(bytes)` makes one for a slice of about that many
/// bytes). The slices come back in text order, with the machine read without its states (their
/// diagnostics are in `errs`, after the machine's own, as [`read_machine_streaming`] orders them).
///
/// `None` when the text is not read this way: too small for two slices, not what the fast parser
/// accepts, a wrong guess of where a state starts (see [`split_states`]), or a name repeated
/// within a slice. The caller then reads it in one piece, which decides all of those. A name
/// repeated across slices is the caller's to find (see [`Slice::unread`] and its sink).
pub(crate) fn read_machine_parallel<S: StateSink + Send>(
    text: &str,
    threads: usize,
    min_slice_bytes: usize,
    errs: &mut Vec<Diagnostic>,
    new_sink: &(dyn Fn(usize) -> S + Sync),
) -> Option<(Option<StateMachine>, Vec<Slice<S>>)> {
    let split = split_states(text, threads, min_slice_bytes)?;
    let split = &split;
    let work = |k: usize| -> Option<(Slice<S>, (usize, usize))> {
        let start = split.starts[k];
        let guess = split.starts.get(k + 1).copied().unwrap_or(text.len()) - start;
        let mut slice = Slice {
            sink: new_sink(guess),
            unread: Vec::new(),
            errs: Vec::new(),
        };
        let end = parse_state_slice(text, split, k, &mut |name, v| {
            slice.read(&split.before, name, v)
        })?;
        Some((slice, end))
    };
    let mut parsed = std::thread::scope(|scope| {
        let work = &work;
        let spawned: Vec<_> = (1..split.starts.len())
            .map(|k| {
                std::thread::Builder::new()
                    .name("stepwright-read".into())
                    .stack_size(SLICE_STACK_BYTES)
                    .spawn_scoped(scope, move || work(k))
                    .map_err(|_| k)
            })
            .collect();
        let mut out = vec![work(0)];
        for h in spawned {
            out.push(match h {
                Ok(h) => h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
                // No thread to be had: this one reads the slice.
                Err(k) => work(k),
            });
        }
        out
    });
    // The slices reached from the first, each from the end of the one before (the others
    // started at a wrong guess; their findings are dropped).
    let (mut slices, mut k, mut close) = (Vec::new(), 0, 0);
    while k < split.starts.len() {
        let (slice, (next, end)) = parsed[k].take()?;
        slices.push(slice);
        (k, close) = (next, end);
    }
    let (tree, skipped) = parse_skipping_states(text, split.open, close + 1)?;
    if !skipped {
        return None;
    }
    let state_errs = slices
        .iter_mut()
        .flat_map(|s| std::mem::take(&mut s.errs))
        .collect();
    let machine = read_machine_with(&tree, errs, Some((States::default(), state_errs)));
    Some((machine, slices))
}

pub(super) fn read_machine(v: &J<'_>, errs: &mut Vec<Diagnostic>) -> Option<StateMachine> {
    read_machine_with(v, errs, None)
}

/// [`read_machine`]; `pre` holds the top-level states when they were read while parsing (with
/// their diagnostics, which keep their place in the order of the report).
fn read_machine_with(
    v: &J<'_>,
    errs: &mut Vec<Diagnostic>,
    pre: Option<(States, Vec<Diagnostic>)>,
) -> Option<StateMachine> {
    let Some(map) = v.as_object() else {
        errs.push(
            Diagnostic::error(
                Code::SchemaValidationFailed,
                "",
                format!("a state machine definition must be a JSON object, found {}", v.kind()),
            )
            .with_help(r#"start from {"StartAt": "First", "States": {"First": {"Type": "Pass", "End": true}}}"#),
        );
        return None;
    };
    let mut o = Obj::new(map, Ptr::Str(""), errs, "the state machine");
    let comment = o.string("Comment");
    let query_language = o.query_language("QueryLanguage");
    let start_at = o.req_string("StartAt");
    let timeout_seconds = o.u64("TimeoutSeconds");
    let version = o.string("Version");
    let states = match pre {
        Some((states, state_errs)) => {
            o.used.push("States");
            o.errs.extend(state_errs);
            states
        }
        None => o.states("States", true),
    };
    o.finish(&[]);
    Some(StateMachine {
        comment,
        query_language,
        start_at,
        timeout_seconds,
        version,
        states,
    })
}

fn read_branch(v: &J<'_>, ptr: Ptr<'_>, errs: &mut Vec<Diagnostic>, map_state: bool) -> Branch {
    let Some(map) = v.as_object() else {
        let what = if map_state {
            "a Map processor"
        } else {
            "a Parallel branch"
        };
        errs.push(Diagnostic::error(
            Code::SchemaValidationFailed,
            ptr.render(),
            format!(
                "{what} must be a JSON object with StartAt and States, found {}",
                v.kind()
            ),
        ));
        return Branch {
            comment: None,
            query_language: None,
            processor_config: None,
            start_at: String::new(),
            states: States::default(),
        };
    };
    let what = if map_state {
        "a Map processor"
    } else {
        "a Parallel branch"
    };
    let mut o = Obj::new(map, ptr, errs, what);
    let comment = o.string("Comment");
    let query_language = o.query_language("QueryLanguage");
    let processor_config = if map_state {
        o.object_with("ProcessorConfig", |o| ProcessorConfig {
            mode: o.enum_str(
                "Mode",
                &[
                    ("INLINE", ProcessorMode::Inline),
                    ("DISTRIBUTED", ProcessorMode::Distributed),
                ],
            ),
            execution_type: o.enum_str(
                "ExecutionType",
                &[
                    ("STANDARD", ExecutionType::Standard),
                    ("EXPRESS", ExecutionType::Express),
                ],
            ),
        })
    } else {
        None
    };
    let start_at = o.req_string("StartAt");
    let states = o.states("States", true);
    o.finish(&[]);
    Branch {
        comment,
        query_language,
        processor_config,
        start_at,
        states,
    }
}

fn read_state(v: &J<'_>, ptr: Ptr<'_>, errs: &mut Vec<Diagnostic>) -> Option<State> {
    let Some(map) = v.as_object() else {
        errs.push(Diagnostic::error(
            Code::SchemaValidationFailed,
            ptr.render(),
            format!("a state must be a JSON object, found {}", v.kind()),
        ));
        return None;
    };
    let ty = match map.iter().find(|(k, _)| k == "Type").map(|(_, v)| v) {
        Some(J::String(t)) => t.as_ref(),
        Some(other) => {
            errs.push(
                Diagnostic::error(
                    Code::SchemaValidationFailed,
                    Ptr::Key(&ptr, "Type").render(),
                    format!("Type must be a string, found {}", other.kind()),
                )
                .with_help(TYPES_HELP),
            );
            return None;
        }
        None => {
            errs.push(
                Diagnostic::error(
                    Code::SchemaValidationFailed,
                    ptr.render(),
                    "the state has no Type",
                )
                .with_help(TYPES_HELP),
            );
            return None;
        }
    };
    let mut o = Obj::new(map, ptr, errs, "");
    o.get("Type");
    let state = match ty {
        "Pass" => {
            o.what = "a Pass state";
            State::Pass(Box::new(PassState {
                common: o.common(),
                input_path: o.nullable_path("InputPath"),
                parameters: o.value("Parameters"),
                result: o.value("Result"),
                result_path: o.nullable_path("ResultPath"),
                output_path: o.nullable_path("OutputPath"),
                output: o.value("Output"),
                assign: o.object("Assign"),
                transition: o.transition(),
            }))
        }
        "Task" => {
            o.what = "a Task state";
            State::Task(Box::new(TaskState {
                common: o.common(),
                resource: o.resource(),
                input_path: o.nullable_path("InputPath"),
                parameters: o.value("Parameters"),
                arguments: o.value("Arguments"),
                result_selector: o.value("ResultSelector"),
                result_path: o.nullable_path("ResultPath"),
                output_path: o.nullable_path("OutputPath"),
                output: o.value("Output"),
                assign: o.object("Assign"),
                retry: o.retry(),
                catch: o.catch(),
                timeout_seconds: o.int_or_expr("TimeoutSeconds"),
                timeout_seconds_path: o.string("TimeoutSecondsPath"),
                heartbeat_seconds: o.int_or_expr("HeartbeatSeconds"),
                heartbeat_seconds_path: o.string("HeartbeatSecondsPath"),
                credentials: o.object("Credentials"),
                transition: o.transition(),
            }))
        }
        "Choice" => {
            o.what = "a Choice state";
            let common = o.common();
            let input_path = o.nullable_path("InputPath");
            let output_path = o.nullable_path("OutputPath");
            let choices = o.choices();
            State::Choice(Box::new(ChoiceState {
                common,
                input_path,
                output_path,
                choices,
                default: o.string("Default"),
                output: o.value("Output"),
                assign: o.object("Assign"),
            }))
        }
        "Wait" => {
            o.what = "a Wait state";
            State::Wait(Box::new(WaitState {
                common: o.common(),
                input_path: o.nullable_path("InputPath"),
                output_path: o.nullable_path("OutputPath"),
                seconds: o.int_or_expr("Seconds"),
                timestamp: o.string("Timestamp"),
                seconds_path: o.string("SecondsPath"),
                timestamp_path: o.string("TimestampPath"),
                output: o.value("Output"),
                assign: o.object("Assign"),
                transition: o.transition(),
            }))
        }
        "Succeed" => {
            o.what = "a Succeed state";
            State::Succeed(Box::new(SucceedState {
                common: o.common(),
                input_path: o.nullable_path("InputPath"),
                output_path: o.nullable_path("OutputPath"),
                output: o.value("Output"),
            }))
        }
        "Fail" => {
            o.what = "a Fail state";
            State::Fail(Box::new(FailState {
                common: o.common(),
                error: o.string("Error"),
                error_path: o.string("ErrorPath"),
                cause: o.string("Cause"),
                cause_path: o.string("CausePath"),
            }))
        }
        "Parallel" => {
            o.what = "a Parallel state";
            let common = o.common();
            let input_path = o.nullable_path("InputPath");
            let parameters = o.value("Parameters");
            let arguments = o.value("Arguments");
            let branches = o.branches();
            State::Parallel(Box::new(ParallelState {
                common,
                input_path,
                parameters,
                arguments,
                branches,
                result_selector: o.value("ResultSelector"),
                result_path: o.nullable_path("ResultPath"),
                output_path: o.nullable_path("OutputPath"),
                output: o.value("Output"),
                assign: o.object("Assign"),
                retry: o.retry(),
                catch: o.catch(),
                transition: o.transition(),
            }))
        }
        "Map" => {
            o.what = "a Map state";
            State::Map(Box::new(MapState {
                common: o.common(),
                input_path: o.nullable_path("InputPath"),
                items_path: o.string("ItemsPath"),
                items: o.value("Items"),
                item_reader: o.item_reader(),
                item_selector: o.value("ItemSelector"),
                parameters: o.value("Parameters"),
                item_batcher: o.object_with("ItemBatcher", |o| ItemBatcher {
                    max_items_per_batch: o.int_or_expr("MaxItemsPerBatch"),
                    max_items_per_batch_path: o.string("MaxItemsPerBatchPath"),
                    max_input_bytes_per_batch: o.int_or_expr("MaxInputBytesPerBatch"),
                    max_input_bytes_per_batch_path: o.string("MaxInputBytesPerBatchPath"),
                    batch_input: o.value("BatchInput"),
                }),
                item_processor: o.processor("ItemProcessor"),
                iterator: o.processor("Iterator"),
                max_concurrency: o.int_or_expr("MaxConcurrency"),
                max_concurrency_path: o.string("MaxConcurrencyPath"),
                tolerated_failure_count: o.int_or_expr("ToleratedFailureCount"),
                tolerated_failure_count_path: o.string("ToleratedFailureCountPath"),
                tolerated_failure_percentage: o.number_or_expr("ToleratedFailurePercentage"),
                tolerated_failure_percentage_path: o.string("ToleratedFailurePercentagePath"),
                label: o.string("Label"),
                result_writer: o.object_with("ResultWriter", |o| ResultWriter {
                    resource: o.string("Resource"),
                    parameters: o.value("Parameters"),
                    arguments: o.value("Arguments"),
                    writer_config: o.object_with("WriterConfig", |o| WriterConfig {
                        output_type: o.string("OutputType"),
                        transformation: o.string("Transformation"),
                    }),
                }),
                result_selector: o.value("ResultSelector"),
                result_path: o.nullable_path("ResultPath"),
                output_path: o.nullable_path("OutputPath"),
                output: o.value("Output"),
                assign: o.object("Assign"),
                retry: o.retry(),
                catch: o.catch(),
                transition: o.transition(),
            }))
        }
        other => {
            let ptr = o.at("Type");
            let mut d = Diagnostic::error(
                Code::SchemaValidationFailed,
                ptr,
                format!("unknown state Type \"{other}\""),
            );
            d = match suggest(other, TYPES) {
                Some(s) => d.with_help(format!("did you mean \"{s}\"? {TYPES_HELP}")),
                None => d.with_help(TYPES_HELP),
            };
            o.errs.push(d);
            return None;
        }
    };
    o.finish(&[]);
    Some(state)
}

const TYPES: &[&str] = &[
    "Pass", "Task", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map",
];
const TYPES_HELP: &str = "Type is one of Pass, Task, Choice, Wait, Succeed, Fail, Parallel, Map";

/// The field names an object was asked for, present or not (the help lists them): a Map state
/// asks for about 30, so they usually fit inline, without an allocation per object.
struct Used {
    inline: [&'static str; USED_INLINE],
    len: usize,
    spill: Vec<&'static str>,
}

const USED_INLINE: usize = 40;

impl Default for Used {
    fn default() -> Self {
        Used {
            inline: [""; USED_INLINE],
            len: 0,
            spill: Vec::new(),
        }
    }
}

impl Used {
    fn push(&mut self, key: &'static str) {
        if self.len < USED_INLINE {
            self.inline[self.len] = key;
            self.len += 1;
        } else {
            self.spill.push(key);
        }
    }

    fn iter(&self) -> impl Iterator<Item = &&'static str> {
        self.inline[..self.len].iter().chain(&self.spill)
    }

    /// Whether `key` was asked for (two plain slice scans: a chained iterator costs several
    /// times more per item here).
    fn contains(&self, key: &str) -> bool {
        self.inline[..self.len].iter().any(|u| same_key(u, key))
            || self.spill.iter().any(|u| same_key(u, key))
    }
}

/// The bit of [`Obj::lens`] for a key of this length.
#[inline]
fn key_len_bit(key: &str) -> u64 {
    1 << key.len().min(63)
}

/// A JSON object being read: tracks which keys were consumed so that the rest are reported.
struct Obj<'a, 'e, 'p> {
    map: &'a Members<'a>,
    ptr: Ptr<'p>,
    errs: &'e mut Vec<Diagnostic>,
    used: Used,
    /// Members found by [`Obj::get`], by index (the first 64): `finish` skips them without
    /// scanning `used`.
    found: u64,
    /// Bit `n` (at most 63) is set when some key is `n` bytes long: most fields the reader asks
    /// for are absent, and most of those are told apart by length alone.
    lens: u64,
    what: &'static str,
}

impl<'a, 'e, 'p> Obj<'a, 'e, 'p> {
    fn new(
        map: &'a Members<'a>,
        ptr: Ptr<'p>,
        errs: &'e mut Vec<Diagnostic>,
        what: &'static str,
    ) -> Self {
        Obj {
            map,
            ptr,
            errs,
            used: Used::default(),
            found: 0,
            lens: map.iter().fold(0, |m, (k, _)| m | key_len_bit(k)),
            what,
        }
    }

    fn at(&self, key: &str) -> String {
        Ptr::Key(&self.ptr, key).render()
    }

    #[inline]
    fn get(&mut self, key: &'static str) -> Option<&'a J<'a>> {
        self.used.push(key);
        if self.lens & key_len_bit(key) == 0 {
            return None;
        }
        let map: &'a Members<'a> = self.map;
        let i = map.iter().position(|(k, _)| same_key(k, key))?;
        if i < 64 {
            self.found |= 1 << i;
        }
        Some(&map[i].1)
    }

    /// The value of `key`. State objects have a handful of keys: a scan of the members is cheaper
    /// than hashing each of the ~20 names the reader asks for (keys are unique: see
    /// [`super::json::parse`]).
    fn lookup(&self, key: &str) -> Option<&'a J<'a>> {
        if self.lens & key_len_bit(key) == 0 {
            return None;
        }
        let map: &'a Members<'a> = self.map;
        map.iter().find(|(k, _)| same_key(k, key)).map(|(_, v)| v)
    }

    fn has(&self, key: &str) -> bool {
        self.lookup(key).is_some()
    }

    fn type_error(&mut self, key: &str, expected: &str, found: &J<'_>) {
        let d = Diagnostic::error(
            Code::SchemaValidationFailed,
            self.at(key),
            format!("{key} must be {expected}, found {}", found.kind()),
        );
        self.errs.push(d);
    }

    fn string(&mut self, key: &'static str) -> Option<String> {
        match self.get(key)? {
            J::String(s) => Some(s.to_string()),
            other => {
                self.type_error(key, "a string", other);
                None
            }
        }
    }

    fn req_string(&mut self, key: &'static str) -> String {
        if !self.has(key) {
            self.used.push(key);
            let what = if self.what.is_empty() {
                "this object"
            } else {
                self.what
            };
            self.errs.push(
                Diagnostic::error(
                    Code::SchemaValidationFailed,
                    self.ptr.render(),
                    format!("{what} has no {key}, which is required"),
                )
                .with_help(format!("add \"{key}\"")),
            );
            return String::new();
        }
        self.string(key).unwrap_or_default()
    }

    /// A Task `Resource`: a string, or a CloudFormation intrinsic object (`Ref`, `Fn::*`).
    fn resource(&mut self) -> Resource {
        match self.lookup("Resource") {
            Some(J::Object(m))
                if m.len() == 1 && m.iter().all(|(k, _)| k == "Ref" || k.starts_with("Fn::")) =>
            {
                self.used.push("Resource");
                Resource::Cfn(to_map(m))
            }
            Some(J::Object(_)) => {
                self.used.push("Resource");
                self.errs.push(
                    Diagnostic::error(
                        Code::SchemaValidationFailed,
                        self.at("Resource"),
                        "Resource must be an ARN string (or a CloudFormation Ref / Fn:: intrinsic)",
                    )
                    .with_help("for example \"arn:aws:states:::lambda:invoke\""),
                );
                Resource::default()
            }
            _ => Resource::Arn(self.req_string("Resource")),
        }
    }

    fn bool(&mut self, key: &'static str) -> Option<bool> {
        match self.get(key)? {
            J::Bool(b) => Some(*b),
            other => {
                self.type_error(key, "true or false", other);
                None
            }
        }
    }

    fn u64(&mut self, key: &'static str) -> Option<u64> {
        let v = self.get(key)?;
        match v {
            J::Number(n) => {
                if let Some(u) = n.as_u64() {
                    Some(u)
                } else if n.as_i64().is_some() {
                    self.errs.push(Diagnostic::error(
                        Code::OutOfRange,
                        self.at(key),
                        format!("{key} must not be negative, found {n}"),
                    ));
                    None
                } else {
                    self.type_error(key, "an integer", v);
                    None
                }
            }
            other => {
                self.type_error(key, "an integer", other);
                None
            }
        }
    }

    fn number(&mut self, key: &'static str) -> Option<serde_json::Number> {
        match self.get(key)? {
            J::Number(n) => Some(n.clone()),
            other => {
                self.type_error(key, "a number", other);
                None
            }
        }
    }

    fn int_or_expr(&mut self, key: &'static str) -> Option<IntOrExpr> {
        let v = self.get(key)?;
        match v {
            J::String(s) => Some(IntOrExpr::Expr(s.to_string())),
            J::Number(n) => {
                if let Some(u) = n.as_u64() {
                    Some(IntOrExpr::Int(u))
                } else if n.as_i64().is_some() {
                    self.errs.push(Diagnostic::error(
                        Code::OutOfRange,
                        self.at(key),
                        format!("{key} must not be negative, found {n}"),
                    ));
                    None
                } else {
                    self.type_error(key, "an integer", v);
                    None
                }
            }
            other => {
                self.type_error(key, "an integer (or a JSONata expression)", other);
                None
            }
        }
    }

    fn number_or_expr(&mut self, key: &'static str) -> Option<NumberOrExpr> {
        match self.get(key)? {
            J::String(s) => Some(NumberOrExpr::Expr(s.to_string())),
            J::Number(n) => Some(NumberOrExpr::Number(n.clone())),
            other => {
                self.type_error(key, "a number (or a JSONata expression)", other);
                None
            }
        }
    }

    fn value(&mut self, key: &'static str) -> Option<serde_json::Value> {
        self.get(key).map(J::to_value)
    }

    fn object(&mut self, key: &'static str) -> Option<Object> {
        match self.get(key)? {
            J::Object(m) => Some(to_map(m)),
            other => {
                self.type_error(key, "a JSON object", other);
                None
            }
        }
    }

    fn nullable_path(&mut self, key: &'static str) -> NullablePath {
        match self.get(key)? {
            J::Null => Some(None),
            J::String(s) => Some(Some(s.to_string())),
            other => {
                self.type_error(key, "a path string or null", other);
                None
            }
        }
    }

    fn query_language(&mut self, key: &'static str) -> Option<QueryLanguage> {
        self.enum_str(
            key,
            &[
                ("JSONPath", QueryLanguage::JsonPath),
                ("JSONata", QueryLanguage::Jsonata),
            ],
        )
    }

    fn enum_str<T: Copy>(&mut self, key: &'static str, allowed: &[(&str, T)]) -> Option<T> {
        let v = self.get(key)?;
        let names: Vec<&str> = allowed.iter().map(|(n, _)| *n).collect();
        match v {
            J::String(s) => {
                if let Some((_, t)) = allowed.iter().find(|(n, _)| n == s) {
                    return Some(*t);
                }
                let mut d = Diagnostic::error(
                    Code::SchemaValidationFailed,
                    self.at(key),
                    format!("{key} must be one of {}, found \"{s}\"", names.join(", ")),
                );
                if let Some(sug) = suggest(s, &names) {
                    d = d.with_help(format!("did you mean \"{sug}\"?"));
                }
                self.errs.push(d);
                None
            }
            other => {
                self.type_error(key, &format!("one of {}", names.join(", ")), other);
                None
            }
        }
    }

    fn common(&mut self) -> Common {
        Common {
            comment: self.string("Comment"),
            query_language: self.query_language("QueryLanguage"),
        }
    }

    fn transition(&mut self) -> Transition {
        Transition {
            next: self.string("Next"),
            end: self.bool("End"),
        }
    }

    fn object_with<T>(
        &mut self,
        key: &'static str,
        f: impl FnOnce(&mut Obj<'a, '_, '_>) -> T,
    ) -> Option<T> {
        let v = self.get(key)?;
        let J::Object(m) = v else {
            self.type_error(key, "a JSON object", v);
            return None;
        };
        let mut inner = Obj::new(m, Ptr::Key(&self.ptr, key), self.errs, "");
        let t = f(&mut inner);
        inner.finish(&[]);
        Some(t)
    }

    fn states(&mut self, key: &'static str, required: bool) -> States {
        let mut out = States::default();
        let Some(v) = self.get(key) else {
            if required {
                let what = if self.what.is_empty() {
                    "this object"
                } else {
                    self.what
                };
                self.errs.push(
                    Diagnostic::error(
                        Code::SchemaValidationFailed,
                        self.ptr.render(),
                        format!("{what} has no {key}, which is required"),
                    )
                    .with_help("add \"States\": { \"Name\": { \"Type\": ... } }"),
                );
            }
            return out;
        };
        let J::Object(m) = v else {
            self.type_error(key, "a JSON object of states by name", v);
            return out;
        };
        let base = Ptr::Key(&self.ptr, key);
        out.reserve(m.len());
        for (name, sv) in m {
            if let Some(s) = read_state(sv, Ptr::Key(&base, name), self.errs) {
                out.insert(name.to_string(), s);
            }
        }
        out
    }

    fn branches(&mut self) -> Vec<Branch> {
        let Some(v) = self.get("Branches") else {
            self.errs.push(
                Diagnostic::error(
                    Code::SchemaValidationFailed,
                    self.ptr.render(),
                    "a Parallel state has no Branches, which is required",
                )
                .with_help("add \"Branches\": [ { \"StartAt\": ..., \"States\": { ... } } ]"),
            );
            return Vec::new();
        };
        let J::Array(items) = v else {
            self.type_error("Branches", "an array of branches", v);
            return Vec::new();
        };
        let base = Ptr::Key(&self.ptr, "Branches");
        items
            .iter()
            .enumerate()
            .map(|(i, b)| read_branch(b, Ptr::Index(&base, i), self.errs, false))
            .collect()
    }

    fn processor(&mut self, key: &'static str) -> Option<Branch> {
        let v = self.get(key)?;
        Some(read_branch(v, Ptr::Key(&self.ptr, key), self.errs, true))
    }

    fn item_reader(&mut self) -> Option<ItemReader> {
        self.object_with("ItemReader", |o| ItemReader {
            resource: o.req_string("Resource"),
            reader_config: o.object_with("ReaderConfig", |o| ReaderConfig {
                input_type: o.string("InputType"),
                csv_header_location: o.string("CSVHeaderLocation"),
                csv_headers: o.string_array("CSVHeaders"),
                csv_delimiter: o.string("CSVDelimiter"),
                manifest_type: o.string("ManifestType"),
                max_items: o.int_or_expr("MaxItems"),
                max_items_path: o.string("MaxItemsPath"),
            }),
            parameters: o.value("Parameters"),
            arguments: o.value("Arguments"),
        })
    }

    fn string_array(&mut self, key: &'static str) -> Option<Vec<String>> {
        let v = self.get(key)?;
        let J::Array(items) = v else {
            self.type_error(key, "an array of strings", v);
            return None;
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, it) in items.iter().enumerate() {
            match it {
                J::String(s) => out.push(s.to_string()),
                other => self.errs.push(Diagnostic::error(
                    Code::SchemaValidationFailed,
                    format!("{}/{i}", self.at(key)),
                    format!("{key} must hold strings only, found {}", other.kind()),
                )),
            }
        }
        Some(out)
    }

    fn error_equals(&mut self) -> Vec<String> {
        if !self.has("ErrorEquals") {
            self.used.push("ErrorEquals");
            self.errs.push(
                Diagnostic::error(
                    Code::SchemaValidationFailed,
                    self.ptr.render(),
                    format!("{} has no ErrorEquals, which is required", self.what),
                )
                .with_help("add \"ErrorEquals\": [\"States.ALL\"] or the error names to match"),
            );
            return Vec::new();
        }
        self.string_array("ErrorEquals").unwrap_or_default()
    }

    fn list<T>(
        &mut self,
        key: &'static str,
        what: &'static str,
        f: impl Fn(&mut Obj<'a, '_, '_>) -> T,
    ) -> Option<Vec<T>> {
        let v = self.get(key)?;
        let J::Array(items) = v else {
            self.type_error(key, "an array", v);
            return None;
        };
        let base = Ptr::Key(&self.ptr, key);
        let mut out = Vec::with_capacity(items.len());
        for (i, it) in items.iter().enumerate() {
            let ptr = Ptr::Index(&base, i);
            let J::Object(m) = it else {
                self.errs.push(Diagnostic::error(
                    Code::SchemaValidationFailed,
                    ptr.render(),
                    format!("each {what} must be a JSON object, found {}", it.kind()),
                ));
                continue;
            };
            let mut o = Obj::new(m, ptr, self.errs, what);
            out.push(f(&mut o));
            o.finish(&[]);
        }
        Some(out)
    }

    fn retry(&mut self) -> Option<Vec<Retrier>> {
        self.list("Retry", "a retrier", |o| Retrier {
            comment: o.string("Comment"),
            error_equals: o.error_equals(),
            interval_seconds: o.u64("IntervalSeconds"),
            max_attempts: o.u64("MaxAttempts"),
            backoff_rate: o.number("BackoffRate"),
            max_delay_seconds: o.u64("MaxDelaySeconds"),
            jitter_strategy: o.enum_str(
                "JitterStrategy",
                &[
                    ("FULL", JitterStrategy::Full),
                    ("NONE", JitterStrategy::None),
                ],
            ),
        })
    }

    fn catch(&mut self) -> Option<Vec<Catcher>> {
        self.list("Catch", "a catcher", |o| Catcher {
            comment: o.string("Comment"),
            error_equals: o.error_equals(),
            next: o.req_string("Next"),
            result_path: o.nullable_path("ResultPath"),
            output: o.value("Output"),
            assign: o.object("Assign"),
        })
    }

    fn choices(&mut self) -> Vec<ChoiceRule> {
        if !self.has("Choices") {
            self.used.push("Choices");
            self.errs.push(
                Diagnostic::error(
                    Code::SchemaValidationFailed,
                    self.ptr.render(),
                    "a Choice state has no Choices, which is required",
                )
                .with_help("add \"Choices\": [ { <condition>, \"Next\": ... } ]"),
            );
            return Vec::new();
        }
        self.list("Choices", "a choice rule", |o| {
            let comment = o.string("Comment");
            let condition = o.condition(true);
            ChoiceRule {
                comment,
                condition,
                next: o.req_string("Next"),
                output: o.value("Output"),
                assign: o.object("Assign"),
            }
        })
        .unwrap_or_default()
    }

    fn nested(errs: &mut Vec<Diagnostic>, v: &'a J<'a>, ptr: Ptr<'_>) -> NestedCondition {
        let J::Object(m) = v else {
            errs.push(Diagnostic::error(
                Code::SchemaValidationFailed,
                ptr.render(),
                format!(
                    "a nested choice rule must be a JSON object, found {}",
                    v.kind()
                ),
            ));
            return NestedCondition {
                comment: None,
                condition: Condition::And(Vec::new()),
            };
        };
        let mut o = Obj::new(m, ptr, errs, "a nested choice rule");
        let comment = o.string("Comment");
        let condition = o.condition(false);
        o.finish(&[]);
        NestedCondition { comment, condition }
    }

    /// Reads the boolean expression of a choice rule (And/Or/Not, Variable + operator, Condition).
    fn condition(&mut self, top: bool) -> Condition {
        let keys: Vec<&str> = ["And", "Or", "Not", "Variable", "Condition"]
            .into_iter()
            .filter(|k| self.has(k))
            .collect();
        let ops: Vec<(&'a str, Operator)> = self
            .map
            .iter()
            .filter_map(|(k, _)| Operator::from_name(k).map(|op| (k.as_ref(), op)))
            .collect();
        for (k, _) in &ops {
            // Mark operator keys as used; they are checked below.
            if let Some(op) = Operator::from_name(k) {
                self.used.push(op.as_str());
            }
        }
        if keys.len() > 1 {
            self.errs.push(
                Diagnostic::error(
                    Code::SchemaValidationFailed,
                    self.ptr.render(),
                    format!(
                        "a choice rule has exactly one of And, Or, Not, Variable or Condition; this one has {}",
                        keys.join(" and ")
                    ),
                )
                .with_help("split it into separate rules, or combine them with And/Or"),
            );
        }
        let first = keys.first().copied();
        let dummy = Condition::And(Vec::new());
        match first {
            Some("And") | Some("Or") => {
                let key = if first == Some("And") { "And" } else { "Or" };
                let v = self.get(key).expect("checked");
                if let Some(op) = ops.first() {
                    self.stray_operator(op.0);
                }
                let J::Array(items) = v else {
                    self.type_error(key, "an array of choice rules", v);
                    return dummy;
                };
                if items.is_empty() {
                    self.errs.push(Diagnostic::error(
                        Code::SchemaValidationFailed,
                        self.at(key),
                        format!("{key} must hold at least one rule"),
                    ));
                }
                let base = Ptr::Key(&self.ptr, key);
                let errs = &mut *self.errs;
                let rules = items
                    .iter()
                    .enumerate()
                    .map(|(i, it)| Self::nested(errs, it, Ptr::Index(&base, i)))
                    .collect();
                if key == "And" {
                    Condition::And(rules)
                } else {
                    Condition::Or(rules)
                }
            }
            Some("Not") => {
                let v = self.get("Not").expect("checked");
                if let Some(op) = ops.first() {
                    self.stray_operator(op.0);
                }
                Condition::Not(Box::new(Self::nested(
                    self.errs,
                    v,
                    Ptr::Key(&self.ptr, "Not"),
                )))
            }
            Some("Variable") => {
                let variable = self.string("Variable").unwrap_or_default();
                match ops.as_slice() {
                    [] => {
                        self.errs.push(
                            Diagnostic::error(
                                Code::SchemaValidationFailed,
                                self.ptr.render(),
                                "a choice rule with Variable needs a comparison operator",
                            )
                            .with_help(
                                "add one of StringEquals, NumericGreaterThan, BooleanEquals, IsPresent, ... ",
                            ),
                        );
                        dummy
                    }
                    [(name, op)] => {
                        let raw = self.lookup(name).unwrap_or(&J::Null);
                        self.check_operand(name, *op, raw);
                        let value = raw.to_value();
                        Condition::Compare {
                            variable,
                            operator: *op,
                            value,
                        }
                    }
                    many => {
                        let names: Vec<&str> = many.iter().map(|(n, _)| *n).collect();
                        self.errs.push(
                            Diagnostic::error(
                                Code::SchemaValidationFailed,
                                self.ptr.render(),
                                format!(
                                    "a choice rule has exactly one comparison operator; this one has {}",
                                    names.join(", ")
                                ),
                            )
                            .with_help("combine several comparisons with And"),
                        );
                        dummy
                    }
                }
            }
            Some("Condition") => {
                let v = self.get("Condition").expect("checked");
                if let Some(op) = ops.first() {
                    self.stray_operator(op.0);
                }
                match v {
                    J::String(_) | J::Bool(_) => Condition::Jsonata(v.to_value()),
                    other => {
                        self.type_error(
                            "Condition",
                            "a JSONata expression string or a boolean",
                            other,
                        );
                        dummy
                    }
                }
            }
            _ => {
                let help = if top {
                    "a rule is {\"Variable\": \"$.x\", \"StringEquals\": \"a\", \"Next\": ...} (JSONPath) or {\"Condition\": \"{% ... %}\", \"Next\": ...} (JSONata)"
                } else {
                    "a nested rule is {\"Variable\": \"$.x\", \"NumericLessThan\": 1} or And/Or/Not"
                };
                let msg = match ops.first() {
                    Some((name, _)) => format!("{name} needs a Variable to compare"),
                    None => {
                        "the choice rule has no condition (And, Or, Not, Variable or Condition)"
                            .to_string()
                    }
                };
                self.errs.push(
                    Diagnostic::error(Code::SchemaValidationFailed, self.ptr.render(), msg)
                        .with_help(help),
                );
                dummy
            }
        }
    }

    fn stray_operator(&mut self, name: &str) {
        self.errs.push(Diagnostic::error(
            Code::SchemaValidationFailed,
            self.at(name),
            format!("{name} is only valid next to a Variable"),
        ));
    }

    fn check_operand(&mut self, name: &str, op: Operator, v: &J<'_>) {
        let ok = match op.operand() {
            OperandKind::String
            | OperandKind::Pattern
            | OperandKind::Timestamp
            | OperandKind::Path => matches!(v, J::String(_)),
            OperandKind::Number => matches!(v, J::Number(_)),
            OperandKind::Boolean => matches!(v, J::Bool(_)),
        };
        if !ok {
            let expected = match op.operand() {
                OperandKind::String => "a string",
                OperandKind::Pattern => "a string pattern",
                OperandKind::Timestamp => "an ISO 8601 timestamp string",
                OperandKind::Path => "a path string",
                OperandKind::Number => "a number",
                OperandKind::Boolean => "true or false",
            };
            let d = Diagnostic::error(
                Code::SchemaValidationFailed,
                self.at(name),
                format!("{name} must be {expected}, found {}", v.kind()),
            );
            self.errs.push(d);
        }
    }

    /// Reports every key that was not read. `extra` are keys that are allowed but ignored.
    fn finish(self, extra: &[&str]) {
        for (i, (key, _)) in self.map.iter().enumerate() {
            let found = i < 64 && self.found & (1 << i) != 0;
            if found || self.used.contains(key) || extra.contains(&key.as_ref()) {
                continue;
            }
            let what = if self.what.is_empty() {
                "this object"
            } else {
                self.what
            };
            let mut d = Diagnostic::error(
                Code::SchemaValidationFailed,
                self.at(key),
                if ALL_FIELDS.contains(&key.as_ref()) {
                    format!("{key} is not a field of {what}")
                } else {
                    format!("unknown field {key} in {what}")
                },
            );
            let known: Vec<&str> = self.used.iter().copied().collect();
            if let Some(s) = suggest(key, &known) {
                d = d.with_help(format!("did you mean \"{s}\"?"));
            } else {
                d = d.with_help(format!("{what} has the fields {}", known.join(", ")));
            }
            self.errs.push(d);
        }
    }
}

/// The candidate closest to `word` by edit distance, when it is close enough to be a likely typo.
pub(crate) fn suggest<'c>(word: &str, candidates: &[&'c str]) -> Option<&'c str> {
    let lw = word.to_ascii_lowercase();
    let mut best: Option<(usize, &str)> = None;
    for &c in candidates {
        let d = levenshtein(&lw, &c.to_ascii_lowercase());
        if best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    let (d, c) = best?;
    let limit = (word.chars().count().max(3) / 3).max(1);
    (d <= limit).then_some(c)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggest_finds_typos() {
        assert_eq!(suggest("Nxt", &["Next", "End"]), Some("Next"));
        assert_eq!(
            suggest("ResultPth", &["ResultPath", "OutputPath"]),
            Some("ResultPath")
        );
        assert_eq!(suggest("Banana", &["Next", "End"]), None);
    }
}
