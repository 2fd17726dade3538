//! Field rules per state type and query language: which fields may appear together, which belong
//! to JSONPath or JSONata, numeric ranges, Retry/Catch error names, Wait timestamps, Choice
//! operands, Map modes, Assign variable names.

use serde_json::Value;

use super::{is_jsonata_expr, is_substitution, Ctx};
use crate::diagnostics::{pointer_push, Code, Diagnostic};
use crate::model::*;

/// The largest number of seconds AWS accepts for timeouts, heartbeats, waits and retry intervals.
pub(crate) const MAX_SECONDS: u64 = 99_999_999;
/// `MaxAttempts` upper bound.
const MAX_ATTEMPTS: u64 = 99_999_999;
/// `MaxDelaySeconds` must be less than this.
const MAX_DELAY_LIMIT: u64 = 31_622_401;
/// Distributed Map: at most this many child executions at once.
const MAX_DISTRIBUTED_CONCURRENCY: u64 = 10_000;
/// `ItemBatcher.MaxInputBytesPerBatch` upper bound (256 KiB).
const MAX_BATCH_BYTES: u64 = 262_144;
/// `ReaderConfig.MaxItems` upper bound.
const MAX_READER_ITEMS: u64 = 100_000_000;
/// Distributed Map `Label`: at most this many characters.
const MAX_LABEL_CHARS: usize = 40;
/// Workflow variable names: at most this many characters.
const MAX_VARIABLE_CHARS: usize = 80;

/// The predefined error names (`States.` prefix) AWS documents.
pub(crate) const STATES_ERRORS: &[&str] = &[
    "States.ALL",
    "States.BranchFailed",
    "States.DataLimitExceeded",
    "States.ExceedToleratedFailureThreshold",
    "States.HeartbeatTimeout",
    "States.Http.Socket",
    "States.IntrinsicFailure",
    "States.ItemReaderFailed",
    "States.NoChoiceMatched",
    "States.ParameterPathFailure",
    "States.Permissions",
    "States.QueryEvaluationError",
    "States.ResultPathMatchFailure",
    "States.ResultWriterFailed",
    "States.Runtime",
    "States.TaskFailed",
    "States.Timeout",
];

struct S<'o> {
    ptr: &'o str,
    lang: QueryLanguage,
    out: &'o mut Vec<Diagnostic>,
    subst: bool,
}

impl S<'_> {
    fn at(&self, field: &str) -> String {
        pointer_push(self.ptr, field)
    }

    fn err(&mut self, code: Code, ptr: String, msg: impl Into<String>, help: &str) {
        self.out
            .push(Diagnostic::error(code, ptr, msg).with_help(help));
    }

    /// [`S::wrong_lang`] for a field of the state itself (its pointer built only when needed).
    fn wrong_field(&mut self, present: bool, field: &str) {
        if present {
            let ptr = self.at(field);
            self.wrong_lang(true, field, ptr);
        }
    }

    /// A field that only the other query language knows.
    fn wrong_lang(&mut self, present: bool, field: &str, ptr: String) {
        if !present {
            return;
        }
        let (help, lang) = match self.lang {
            QueryLanguage::Jsonata => (jsonata_replacement(field), "JSONata"),
            QueryLanguage::JsonPath => (jsonpath_replacement(field), "JSONPath"),
        };
        self.out.push(
            Diagnostic::error(
                Code::QueryLanguageMismatch,
                ptr,
                format!("{field} is not available in a {lang} state"),
            )
            .with_help(help),
        );
    }

    fn both(&mut self, a: bool, b: bool, fa: &str, fb: &str, code: Code) {
        if a && b {
            let ptr = self.at(fb);
            self.err(
                code,
                ptr,
                format!("{fa} and {fb} exclude each other"),
                &format!("keep only one of {fa} (a literal) and {fb} (read from the input)"),
            );
        }
    }

    /// An integer-or-expression field: literal bounds, and strings only where allowed.
    fn int_field(
        &mut self,
        v: Option<&IntOrExpr>,
        field: &str,
        ptr: String,
        min: u64,
        max: u64,
    ) -> Option<u64> {
        match v? {
            IntOrExpr::Int(n) => {
                if *n < min || *n > max {
                    self.out.push(
                        Diagnostic::error(
                            Code::OutOfRange,
                            ptr,
                            format!("{field} must be between {min} and {max}, found {n}"),
                        )
                        .with_help(format!("use a value from {min} to {max}")),
                    );
                    return None;
                }
                Some(*n)
            }
            IntOrExpr::Expr(s) => {
                self.expr_string(s, field, ptr, "an integer");
                None
            }
        }
    }

    /// A string where a literal number (or timestamp) was expected: a JSONata expression in
    /// JSONata states, or a `${Name}` substitution token.
    fn expr_string(&mut self, s: &str, field: &str, ptr: String, expected: &str) {
        if self.subst && is_substitution(s) {
            return;
        }
        match self.lang {
            QueryLanguage::Jsonata if is_jsonata_expr(s) || s.trim_start().starts_with("{%") => {}
            QueryLanguage::Jsonata => self.out.push(
                Diagnostic::error(
                    Code::SchemaValidationFailed,
                    ptr,
                    format!("{field} must be {expected} or a JSONata expression \"{{% ... %}}\", found the string \"{}\"", clip(s)),
                )
                .with_help(format!("write {field} as a number, or as \"{{% <expression> %}}\"")),
            ),
            QueryLanguage::JsonPath => {
                let help = if super::has_broken_substitution(s) {
                    "a DefinitionSubstitutions token is written ${Name}".to_string()
                } else {
                    format!("write {field} as a number, or use {field}Path to read it from the input")
                };
                self.out.push(
                    Diagnostic::error(
                        Code::SchemaValidationFailed,
                        ptr,
                        format!("{field} must be {expected}, found the string \"{}\"", clip(s)),
                    )
                    .with_help(help),
                );
            }
        }
    }
}

fn clip(s: &str) -> String {
    if s.chars().count() > 60 {
        let t: String = s.chars().take(57).collect();
        format!("{t}...")
    } else {
        s.to_string()
    }
}

fn jsonata_replacement(field: &str) -> String {
    let hint = match field {
        "InputPath" | "Parameters" => "use Arguments with {% $states.input... %} expressions",
        "ResultSelector" | "ResultPath" | "OutputPath" => {
            "use Output (with $states.result / $states.input) and Assign"
        }
        "ItemsPath" => "use Items: \"{% $states.input.items %}\"",
        "Iterator" => "use ItemProcessor",
        "Variable" => "use Condition: \"{% ... %}\"",
        f if f.ends_with("Path") => "write the field itself as \"{% <expression> %}\"",
        _ => "JSONata states use Arguments, Output, Assign and {% %} expressions",
    };
    format!("{hint}, or set \"QueryLanguage\": \"JSONPath\" on this state (not possible inside a JSONata machine)")
}

fn jsonpath_replacement(field: &str) -> String {
    let hint = match field {
        "Arguments" => "use Parameters (with .$ keys for paths)",
        "Output" => "use ResultSelector, ResultPath and OutputPath",
        "Items" => "use ItemsPath",
        "Condition" => "use Variable with a comparison operator",
        _ => "JSONPath states use InputPath, Parameters, ResultSelector, ResultPath and OutputPath",
    };
    format!("{hint}, or set \"QueryLanguage\": \"JSONata\" on this state")
}

/// Runs the field rules: the machine's own fields, then every state.
pub(crate) fn check(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    check_machine(ctx.machine, out);
    check_states(ctx, out);
}

/// The rules on the machine's own fields (`Version`, `TimeoutSeconds`).
pub(crate) fn check_machine(m: &StateMachine, out: &mut Vec<Diagnostic>) {
    if let Some(v) = &m.version {
        if v != "1.0" {
            out.push(
                Diagnostic::error(
                    Code::SchemaValidationFailed,
                    "/Version",
                    format!("Version must be \"1.0\", found \"{v}\""),
                )
                .with_help("remove Version or set it to \"1.0\""),
            );
        }
    }
    if let Some(t) = m.timeout_seconds {
        if t == 0 || t > MAX_SECONDS {
            out.push(
                Diagnostic::error(
                    Code::OutOfRange,
                    "/TimeoutSeconds",
                    format!("TimeoutSeconds must be between 1 and {MAX_SECONDS}, found {t}"),
                )
                .with_help("use a positive number of seconds"),
            );
        }
    }
}

/// The rules on every state of `ctx.states` (their query language default comes from
/// `ctx.machine`).
pub(crate) fn check_states(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    let machine_jsonata = ctx.machine.default_query_language() == QueryLanguage::Jsonata;
    for p in &ctx.states {
        let mut s = S {
            ptr: &p.pointer,
            lang: p.query_language,
            out,
            subst: ctx.options.allow_substitutions,
        };
        if machine_jsonata && p.query_language == QueryLanguage::JsonPath {
            let ptr = if p.state.common().query_language.is_some() {
                s.at("QueryLanguage")
            } else {
                s.ptr.to_string()
            };
            s.err(
                Code::QueryLanguageMismatch,
                ptr,
                "a JSONPath state is not allowed in a machine whose QueryLanguage is JSONata",
                "remove \"QueryLanguage\": \"JSONPath\" and convert the state to JSONata, or make the machine JSONPath and opt single states into JSONata",
            );
        }
        state_rules(&mut s, p.state, ctx);
    }
}

fn state_rules(s: &mut S<'_>, state: &State, ctx: &Ctx<'_>) {
    let jsonata = s.lang == QueryLanguage::Jsonata;
    let jp = !jsonata;
    match state {
        State::Pass(st) => {
            if jsonata {
                s.wrong_field(st.input_path.is_some(), "InputPath");
                s.wrong_field(st.parameters.is_some(), "Parameters");
                s.wrong_field(st.result_path.is_some(), "ResultPath");
                s.wrong_field(st.output_path.is_some(), "OutputPath");
            } else {
                s.wrong_field(st.output.is_some(), "Output");
            }
            if jp {
                if let Some(r) = &st.result {
                    pass_result_static(s, r);
                }
            }
            own_assign(s, st.assign.as_ref());
        }
        State::Task(st) => {
            if jsonata {
                s.wrong_field(st.input_path.is_some(), "InputPath");
                s.wrong_field(st.parameters.is_some(), "Parameters");
                s.wrong_field(st.result_selector.is_some(), "ResultSelector");
                s.wrong_field(st.result_path.is_some(), "ResultPath");
                s.wrong_field(st.output_path.is_some(), "OutputPath");
                s.wrong_field(st.timeout_seconds_path.is_some(), "TimeoutSecondsPath");
                s.wrong_field(st.heartbeat_seconds_path.is_some(), "HeartbeatSecondsPath");
            } else {
                s.wrong_field(st.arguments.is_some(), "Arguments");
                s.wrong_field(st.output.is_some(), "Output");
            }
            s.both(
                st.timeout_seconds.is_some(),
                st.timeout_seconds_path.is_some(),
                "TimeoutSeconds",
                "TimeoutSecondsPath",
                Code::InvalidTimeout,
            );
            s.both(
                st.heartbeat_seconds.is_some(),
                st.heartbeat_seconds_path.is_some(),
                "HeartbeatSeconds",
                "HeartbeatSecondsPath",
                Code::InvalidTimeout,
            );
            let t = s.int_field(
                st.timeout_seconds.as_ref(),
                "TimeoutSeconds",
                s.at("TimeoutSeconds"),
                1,
                MAX_SECONDS,
            );
            let h = s.int_field(
                st.heartbeat_seconds.as_ref(),
                "HeartbeatSeconds",
                s.at("HeartbeatSeconds"),
                1,
                MAX_SECONDS,
            );
            if let (Some(t), Some(h)) = (t, h) {
                if h >= t {
                    let ptr = s.at("HeartbeatSeconds");
                    s.err(
                        Code::InvalidTimeout,
                        ptr,
                        format!("HeartbeatSeconds ({h}) must be less than TimeoutSeconds ({t})"),
                        "lower HeartbeatSeconds or raise TimeoutSeconds",
                    );
                }
            }
            if let Some(c) = &st.credentials {
                if c.is_empty() {
                    let ptr = s.at("Credentials");
                    s.err(Code::SchemaValidationFailed, ptr, "Credentials must name the role to assume", "write \"Credentials\": {\"RoleArn\": \"arn:aws:iam::123456789012:role/Name\"}");
                }
            }
            retry_catch(s, state);
            own_assign(s, st.assign.as_ref());
        }
        State::Choice(st) => {
            if jsonata {
                s.wrong_field(st.input_path.is_some(), "InputPath");
                s.wrong_field(st.output_path.is_some(), "OutputPath");
            } else {
                s.wrong_field(st.output.is_some(), "Output");
            }
            if st.choices.is_empty() {
                let ptr = s.at("Choices");
                s.err(Code::SchemaValidationFailed, ptr, "a Choice state needs at least one rule in Choices", "add a rule: {\"Variable\": \"$.x\", \"StringEquals\": \"a\", \"Next\": \"...\"}");
            }
            for (i, r) in st.choices.iter().enumerate() {
                let rp = format!("{}/Choices/{i}", s.ptr);
                condition(s, &r.condition, &rp, 0);
                if jp {
                    s.wrong_lang(r.output.is_some(), "Output", pointer_push(&rp, "Output"));
                }
                assign(s, r.assign.as_ref(), pointer_push(&rp, "Assign"));
            }
            if st.default.is_none() && !ctx.single_state {
                s.out.push(
                    Diagnostic::warning(
                        Code::NoDefault,
                        s.ptr,
                        "this Choice state has no Default: when no rule matches, the execution fails with States.NoChoiceMatched",
                    )
                    .with_help("add \"Default\": \"<state>\" unless failing is intended"),
                );
            }
            own_assign(s, st.assign.as_ref());
        }
        State::Wait(st) => {
            if jsonata {
                s.wrong_field(st.input_path.is_some(), "InputPath");
                s.wrong_field(st.output_path.is_some(), "OutputPath");
                s.wrong_field(st.seconds_path.is_some(), "SecondsPath");
                s.wrong_field(st.timestamp_path.is_some(), "TimestampPath");
            } else {
                s.wrong_field(st.output.is_some(), "Output");
            }
            let given: Vec<&str> = [
                (st.seconds.is_some(), "Seconds"),
                (st.timestamp.is_some(), "Timestamp"),
                (st.seconds_path.is_some(), "SecondsPath"),
                (st.timestamp_path.is_some(), "TimestampPath"),
            ]
            .into_iter()
            .filter_map(|(b, n)| b.then_some(n))
            .collect();
            match given.as_slice() {
                [] => {
                    let ptr = s.ptr.to_string();
                    s.err(Code::SchemaValidationFailed, ptr, "a Wait state needs one of Seconds, Timestamp, SecondsPath or TimestampPath", "add \"Seconds\": 10 (or a Timestamp)");
                }
                [_] => {}
                [_, rest @ ..] => {
                    let ptr = s.at(rest[0]);
                    s.err(Code::SchemaValidationFailed, ptr, format!("a Wait state has exactly one of Seconds, Timestamp, SecondsPath or TimestampPath; this one has {}", given.join(", ")), "keep only one");
                }
            }
            s.int_field(
                st.seconds.as_ref(),
                "Seconds",
                s.at("Seconds"),
                0,
                MAX_SECONDS,
            );
            if let Some(ts) = &st.timestamp {
                if !(s.subst && is_substitution(ts)
                    || jsonata && ts.trim_start().starts_with("{%")
                    || is_rfc3339(ts))
                {
                    let ptr = s.at("Timestamp");
                    s.err(Code::SchemaValidationFailed, ptr, format!("Timestamp must be an RFC 3339 date-time such as 2026-01-31T12:00:00Z, found \"{}\"", clip(ts)), "write the time as YYYY-MM-DDThh:mm:ssZ (uppercase T and Z, or a +hh:mm offset)");
                }
            }
            own_assign(s, st.assign.as_ref());
        }
        State::Succeed(st) => {
            if jsonata {
                s.wrong_field(st.input_path.is_some(), "InputPath");
                s.wrong_field(st.output_path.is_some(), "OutputPath");
            } else {
                s.wrong_field(st.output.is_some(), "Output");
            }
        }
        State::Fail(st) => {
            if jsonata {
                s.wrong_field(st.error_path.is_some(), "ErrorPath");
                s.wrong_field(st.cause_path.is_some(), "CausePath");
            }
            s.both(
                st.error.is_some(),
                st.error_path.is_some(),
                "Error",
                "ErrorPath",
                Code::SchemaValidationFailed,
            );
            s.both(
                st.cause.is_some(),
                st.cause_path.is_some(),
                "Cause",
                "CausePath",
                Code::SchemaValidationFailed,
            );
        }
        State::Parallel(st) => {
            if jsonata {
                s.wrong_field(st.input_path.is_some(), "InputPath");
                s.wrong_field(st.parameters.is_some(), "Parameters");
                s.wrong_field(st.result_selector.is_some(), "ResultSelector");
                s.wrong_field(st.result_path.is_some(), "ResultPath");
                s.wrong_field(st.output_path.is_some(), "OutputPath");
            } else {
                s.wrong_field(st.arguments.is_some(), "Arguments");
                s.wrong_field(st.output.is_some(), "Output");
            }
            for (i, b) in st.branches.iter().enumerate() {
                branch_language(s, b, &format!("{}/Branches/{i}", s.ptr));
            }
            retry_catch(s, state);
            own_assign(s, st.assign.as_ref());
        }
        State::Map(st) => map_rules(s, st, state),
    }
}

/// A branch that switches a JSONata state's children back to JSONPath.
fn branch_language(s: &mut S<'_>, b: &Branch, ptr: &str) {
    if s.lang == QueryLanguage::Jsonata && b.query_language == Some(QueryLanguage::JsonPath) {
        s.err(
            Code::QueryLanguageMismatch,
            pointer_push(ptr, "QueryLanguage"),
            "a branch of a JSONata state cannot switch back to JSONPath",
            "remove the branch's QueryLanguage, or make the enclosing state JSONPath",
        );
    }
}

fn map_rules(s: &mut S<'_>, st: &MapState, state: &State) {
    let jsonata = s.lang == QueryLanguage::Jsonata;
    if jsonata {
        s.wrong_field(st.input_path.is_some(), "InputPath");
        s.wrong_field(st.items_path.is_some(), "ItemsPath");
        s.wrong_field(st.parameters.is_some(), "Parameters");
        s.wrong_field(st.iterator.is_some(), "Iterator");
        s.wrong_field(st.result_selector.is_some(), "ResultSelector");
        s.wrong_field(st.result_path.is_some(), "ResultPath");
        s.wrong_field(st.output_path.is_some(), "OutputPath");
        s.wrong_field(st.max_concurrency_path.is_some(), "MaxConcurrencyPath");
        s.wrong_field(
            st.tolerated_failure_count_path.is_some(),
            "ToleratedFailureCountPath",
        );
        s.wrong_field(
            st.tolerated_failure_percentage_path.is_some(),
            "ToleratedFailurePercentagePath",
        );
        if let Some(r) = &st.item_reader {
            let rp = s.at("ItemReader");
            s.wrong_lang(
                r.parameters.is_some(),
                "Parameters",
                pointer_push(&rp, "Parameters"),
            );
            if let Some(c) = &r.reader_config {
                s.wrong_lang(
                    c.max_items_path.is_some(),
                    "MaxItemsPath",
                    format!("{rp}/ReaderConfig/MaxItemsPath"),
                );
            }
        }
        if let Some(b) = &st.item_batcher {
            let bp = s.at("ItemBatcher");
            s.wrong_lang(
                b.max_items_per_batch_path.is_some(),
                "MaxItemsPerBatchPath",
                pointer_push(&bp, "MaxItemsPerBatchPath"),
            );
            s.wrong_lang(
                b.max_input_bytes_per_batch_path.is_some(),
                "MaxInputBytesPerBatchPath",
                pointer_push(&bp, "MaxInputBytesPerBatchPath"),
            );
        }
        if let Some(w) = &st.result_writer {
            s.wrong_lang(
                w.parameters.is_some(),
                "Parameters",
                format!("{}/ResultWriter/Parameters", s.ptr),
            );
        }
    } else {
        s.wrong_field(st.items.is_some(), "Items");
        s.wrong_field(st.output.is_some(), "Output");
        if let Some(r) = &st.item_reader {
            s.wrong_lang(
                r.arguments.is_some(),
                "Arguments",
                format!("{}/ItemReader/Arguments", s.ptr),
            );
        }
        if let Some(w) = &st.result_writer {
            s.wrong_lang(
                w.arguments.is_some(),
                "Arguments",
                format!("{}/ResultWriter/Arguments", s.ptr),
            );
        }
    }
    match (&st.item_processor, &st.iterator) {
        (None, None) => {
            let ptr = s.ptr.to_string();
            s.err(
                Code::SchemaValidationFailed,
                ptr,
                "a Map state needs an ItemProcessor",
                "add \"ItemProcessor\": {\"StartAt\": ..., \"States\": {...}}",
            );
        }
        (Some(_), Some(_)) => {
            let ptr = s.at("Iterator");
            s.err(
                Code::SchemaValidationFailed,
                ptr,
                "ItemProcessor and Iterator exclude each other",
                "Iterator is the legacy name of ItemProcessor: keep ItemProcessor",
            );
        }
        _ => {}
    }
    if let Some(p) = st.processor() {
        let field = if st.item_processor.is_some() {
            "ItemProcessor"
        } else {
            "Iterator"
        };
        branch_language(s, p, &s.at(field));
    }
    s.both(
        st.items_path.is_some(),
        st.items.is_some(),
        "ItemsPath",
        "Items",
        Code::SchemaValidationFailed,
    );
    if st.item_selector.is_some() && st.parameters.is_some() {
        let ptr = s.at("Parameters");
        s.err(
            Code::SchemaValidationFailed,
            ptr,
            "ItemSelector and Parameters exclude each other",
            "Parameters is the legacy name of ItemSelector in a Map state: keep ItemSelector",
        );
    }
    s.both(
        st.max_concurrency.is_some(),
        st.max_concurrency_path.is_some(),
        "MaxConcurrency",
        "MaxConcurrencyPath",
        Code::SchemaValidationFailed,
    );
    s.both(
        st.tolerated_failure_count.is_some(),
        st.tolerated_failure_count_path.is_some(),
        "ToleratedFailureCount",
        "ToleratedFailureCountPath",
        Code::SchemaValidationFailed,
    );
    s.both(
        st.tolerated_failure_percentage.is_some(),
        st.tolerated_failure_percentage_path.is_some(),
        "ToleratedFailurePercentage",
        "ToleratedFailurePercentagePath",
        Code::SchemaValidationFailed,
    );

    let distributed = st.is_distributed();
    let max_conc = if distributed {
        MAX_DISTRIBUTED_CONCURRENCY
    } else {
        u64::MAX
    };
    s.int_field(
        st.max_concurrency.as_ref(),
        "MaxConcurrency",
        s.at("MaxConcurrency"),
        0,
        max_conc,
    );
    s.int_field(
        st.tolerated_failure_count.as_ref(),
        "ToleratedFailureCount",
        s.at("ToleratedFailureCount"),
        0,
        u64::MAX,
    );
    match &st.tolerated_failure_percentage {
        Some(NumberOrExpr::Number(n)) => {
            let v = n.as_f64().unwrap_or(f64::NAN);
            if !(0.0..=100.0).contains(&v) {
                let ptr = s.at("ToleratedFailurePercentage");
                s.err(
                    Code::OutOfRange,
                    ptr,
                    format!("ToleratedFailurePercentage must be between 0 and 100, found {n}"),
                    "use a percentage from 0 to 100",
                );
            }
        }
        Some(NumberOrExpr::Expr(e)) => {
            let ptr = s.at("ToleratedFailurePercentage");
            s.expr_string(e, "ToleratedFailurePercentage", ptr, "a number");
        }
        None => {}
    }
    // Distributed-only fields. ItemReader, ItemBatcher and ResultWriter change what the Map does
    // and need child executions: an error in an inline Map. AWS accepts the tolerated-failure
    // fields and Label in an inline Map (the localstack corpus has such a machine) and ignores
    // them: a warning.
    if !distributed {
        for (present, f) in [
            (st.item_reader.is_some(), "ItemReader"),
            (st.item_batcher.is_some(), "ItemBatcher"),
            (st.result_writer.is_some(), "ResultWriter"),
        ] {
            if present {
                let ptr = s.at(f);
                s.err(
                    Code::SchemaValidationFailed,
                    ptr,
                    format!("{f} is only available in a Distributed Map"),
                    DISTRIBUTED_HELP,
                );
            }
        }
        for (present, f) in [
            (
                st.tolerated_failure_count.is_some(),
                "ToleratedFailureCount",
            ),
            (
                st.tolerated_failure_count_path.is_some(),
                "ToleratedFailureCountPath",
            ),
            (
                st.tolerated_failure_percentage.is_some(),
                "ToleratedFailurePercentage",
            ),
            (
                st.tolerated_failure_percentage_path.is_some(),
                "ToleratedFailurePercentagePath",
            ),
            (st.label.is_some(), "Label"),
        ] {
            if present {
                s.out.push(
                    Diagnostic::warning(
                        Code::SchemaValidationFailed,
                        s.at(f),
                        format!("{f} has no effect outside a Distributed Map"),
                    )
                    .with_help(DISTRIBUTED_HELP),
                );
            }
        }
    }
    if let Some(pc) = st.processor().and_then(|p| p.processor_config.as_ref()) {
        let field = if st.item_processor.is_some() {
            "ItemProcessor"
        } else {
            "Iterator"
        };
        let pcp = format!("{}/{field}/ProcessorConfig", s.ptr);
        if distributed && pc.execution_type.is_none() {
            s.err(
                Code::SchemaValidationFailed,
                pcp.clone(),
                "a Distributed Map needs ProcessorConfig.ExecutionType",
                "add \"ExecutionType\": \"STANDARD\" or \"EXPRESS\"",
            );
        }
        if !distributed && pc.execution_type.is_some() {
            s.err(
                Code::SchemaValidationFailed,
                pointer_push(&pcp, "ExecutionType"),
                "ExecutionType is only available with Mode DISTRIBUTED",
                "set \"Mode\": \"DISTRIBUTED\", or remove ExecutionType",
            );
        }
    }
    if let Some(l) = &st.label {
        let n = l.chars().count();
        let bad = l.chars().find(|c| {
            c.is_whitespace() || c.is_control() || "<>{}[]?*\"#%\\^|~`$&,;:/".contains(*c)
        });
        if n == 0 || n > MAX_LABEL_CHARS || bad.is_some() {
            let ptr = s.at("Label");
            s.err(Code::SchemaValidationFailed, ptr, format!("Label must be 1 to {MAX_LABEL_CHARS} characters without whitespace or any of <>{{}}[]?*\"#%\\^|~`$&,;:/, found \"{}\"", clip(l)), "use letters, digits, - and _");
        }
    }
    if let Some(r) = &st.item_reader {
        let rp = s.at("ItemReader");
        if let Some(c) = &r.reader_config {
            let cp = pointer_push(&rp, "ReaderConfig");
            s.both(
                c.max_items.is_some(),
                c.max_items_path.is_some(),
                "MaxItems",
                "MaxItemsPath",
                Code::SchemaValidationFailed,
            );
            if c.max_items.is_some() && c.max_items_path.is_some() {
                // `both` pointed at the state; point at the reader config instead.
                if let Some(d) = s.out.last_mut() {
                    d.pointer = pointer_push(&cp, "MaxItemsPath");
                }
            }
            s.int_field(
                c.max_items.as_ref(),
                "MaxItems",
                pointer_push(&cp, "MaxItems"),
                1,
                MAX_READER_ITEMS,
            );
            if let Some(t) = &c.input_type {
                if !["CSV", "JSON", "JSONL", "MANIFEST", "PARQUET"].contains(&t.as_str()) {
                    s.err(Code::SchemaValidationFailed, pointer_push(&cp, "InputType"), format!("InputType must be CSV, JSON, JSONL, MANIFEST or PARQUET, found \"{t}\""), "pick the format of the object the Map reads");
                }
            }
            if let Some(h) = &c.csv_header_location {
                if h != "FIRST_ROW" && h != "GIVEN" {
                    s.err(
                        Code::SchemaValidationFailed,
                        pointer_push(&cp, "CSVHeaderLocation"),
                        format!("CSVHeaderLocation must be FIRST_ROW or GIVEN, found \"{h}\""),
                        "use FIRST_ROW, or GIVEN with CSVHeaders",
                    );
                } else if h == "GIVEN" && c.csv_headers.is_none() {
                    s.err(
                        Code::SchemaValidationFailed,
                        cp.clone(),
                        "CSVHeaderLocation GIVEN needs CSVHeaders",
                        "add \"CSVHeaders\": [\"col1\", \"col2\"]",
                    );
                }
            }
        }
    }
    if let Some(b) = &st.item_batcher {
        let bp = s.at("ItemBatcher");
        for (a, ap, an, apn) in [
            (
                b.max_items_per_batch.is_some(),
                b.max_items_per_batch_path.is_some(),
                "MaxItemsPerBatch",
                "MaxItemsPerBatchPath",
            ),
            (
                b.max_input_bytes_per_batch.is_some(),
                b.max_input_bytes_per_batch_path.is_some(),
                "MaxInputBytesPerBatch",
                "MaxInputBytesPerBatchPath",
            ),
        ] {
            if a && ap {
                s.err(
                    Code::SchemaValidationFailed,
                    pointer_push(&bp, apn),
                    format!("{an} and {apn} exclude each other"),
                    &format!("keep only one of {an} and {apn}"),
                );
            }
        }
        if b.max_items_per_batch.is_none()
            && b.max_items_per_batch_path.is_none()
            && b.max_input_bytes_per_batch.is_none()
            && b.max_input_bytes_per_batch_path.is_none()
        {
            s.err(Code::SchemaValidationFailed, bp.clone(), "an ItemBatcher needs MaxItemsPerBatch or MaxInputBytesPerBatch (or their Path forms)", "add \"MaxItemsPerBatch\": 100");
        }
        s.int_field(
            b.max_items_per_batch.as_ref(),
            "MaxItemsPerBatch",
            pointer_push(&bp, "MaxItemsPerBatch"),
            1,
            u64::MAX,
        );
        s.int_field(
            b.max_input_bytes_per_batch.as_ref(),
            "MaxInputBytesPerBatch",
            pointer_push(&bp, "MaxInputBytesPerBatch"),
            1,
            MAX_BATCH_BYTES,
        );
        if let Some(bi) = &b.batch_input {
            if !(bi.is_object() || jsonata && bi.as_str().is_some_and(|x| x.starts_with("{%"))) {
                s.err(
                    Code::SchemaValidationFailed,
                    pointer_push(&bp, "BatchInput"),
                    "BatchInput must be a JSON object",
                    "write BatchInput as {\"key\": value, ...}",
                );
            }
        }
    }
    if let Some(w) = &st.result_writer {
        if w.resource.is_none() && w.writer_config.is_none() {
            let ptr = s.at("ResultWriter");
            s.err(
                Code::SchemaValidationFailed,
                ptr,
                "a ResultWriter needs Resource (and Parameters/Arguments) or WriterConfig",
                "add \"Resource\": \"arn:aws:states:::s3:putObject\" with the Bucket and Prefix",
            );
        }
        if let Some(c) = &w.writer_config {
            let cp = format!("{}/ResultWriter/WriterConfig", s.ptr);
            if let Some(t) = &c.output_type {
                if t != "JSON" && t != "JSONL" {
                    s.err(
                        Code::SchemaValidationFailed,
                        pointer_push(&cp, "OutputType"),
                        format!("OutputType must be JSON or JSONL, found \"{t}\""),
                        "use JSON or JSONL",
                    );
                }
            }
            if let Some(t) = &c.transformation {
                if !["NONE", "COMPACT", "FLATTEN"].contains(&t.as_str()) {
                    s.err(
                        Code::SchemaValidationFailed,
                        pointer_push(&cp, "Transformation"),
                        format!("Transformation must be NONE, COMPACT or FLATTEN, found \"{t}\""),
                        "use NONE, COMPACT or FLATTEN",
                    );
                }
            }
        }
    }
    retry_catch(s, state);
    own_assign(s, st.assign.as_ref());
}

const DISTRIBUTED_HELP: &str = "set \"ProcessorConfig\": {\"Mode\": \"DISTRIBUTED\", \"ExecutionType\": \"STANDARD\"} in ItemProcessor, or remove the field";

fn retry_catch(s: &mut S<'_>, state: &State) {
    let jsonata = s.lang == QueryLanguage::Jsonata;
    let retriers = state.retriers();
    for (i, r) in retriers.iter().enumerate() {
        let rp = format!("{}/Retry/{i}", s.ptr);
        error_equals(s, &r.error_equals, &rp, i + 1 == retriers.len(), "retrier");
        for e in &r.error_equals {
            if e == "States.DataLimitExceeded" || e == "States.Runtime" {
                s.out.push(
                    Diagnostic::warning(
                        Code::InvalidErrorName,
                        pointer_push(&rp, "ErrorEquals"),
                        format!("{e} is a terminal error: retrying it has no effect"),
                    )
                    .with_help(
                        "remove it from the retrier; handle it with a Catch or fix its cause",
                    ),
                );
            }
        }
        if let Some(n) = r.interval_seconds {
            if n == 0 || n > MAX_SECONDS {
                s.err(
                    Code::OutOfRange,
                    pointer_push(&rp, "IntervalSeconds"),
                    format!("IntervalSeconds must be between 1 and {MAX_SECONDS}, found {n}"),
                    "use a positive number of seconds",
                );
            }
        }
        if let Some(n) = r.max_attempts {
            if n > MAX_ATTEMPTS {
                s.err(
                    Code::OutOfRange,
                    pointer_push(&rp, "MaxAttempts"),
                    format!("MaxAttempts must be between 0 and {MAX_ATTEMPTS}, found {n}"),
                    "use a smaller number of attempts",
                );
            }
        }
        if let Some(b) = &r.backoff_rate {
            let v = b.as_f64().unwrap_or(f64::NAN);
            if v.is_nan() || v < 1.0 {
                s.err(
                    Code::OutOfRange,
                    pointer_push(&rp, "BackoffRate"),
                    format!("BackoffRate must be at least 1.0, found {b}"),
                    "use 1.0 for a constant interval, or more to back off",
                );
            }
        }
        if let Some(n) = r.max_delay_seconds {
            if n == 0 || n >= MAX_DELAY_LIMIT {
                s.err(
                    Code::OutOfRange,
                    pointer_push(&rp, "MaxDelaySeconds"),
                    format!(
                        "MaxDelaySeconds must be between 1 and {}, found {n}",
                        MAX_DELAY_LIMIT - 1
                    ),
                    "use a positive number of seconds under a year",
                );
            }
        }
    }
    let catchers = state.catchers();
    for (i, c) in catchers.iter().enumerate() {
        let cp = format!("{}/Catch/{i}", s.ptr);
        error_equals(s, &c.error_equals, &cp, i + 1 == catchers.len(), "catcher");
        if jsonata {
            s.wrong_lang(
                c.result_path.is_some(),
                "ResultPath",
                pointer_push(&cp, "ResultPath"),
            );
        } else {
            s.wrong_lang(c.output.is_some(), "Output", pointer_push(&cp, "Output"));
        }
        assign(s, c.assign.as_ref(), pointer_push(&cp, "Assign"));
    }
}

fn error_equals(s: &mut S<'_>, names: &[String], ptr: &str, last: bool, what: &str) {
    let ep = pointer_push(ptr, "ErrorEquals");
    if names.is_empty() {
        s.err(
            Code::SchemaValidationFailed,
            ep.clone(),
            "ErrorEquals must name at least one error",
            "add the error names to match, or \"States.ALL\"",
        );
    }
    for (j, e) in names.iter().enumerate() {
        let p = format!("{ep}/{j}");
        if e == "States.ALL" {
            if names.len() > 1 {
                s.err(Code::InvalidErrorName, p.clone(), "States.ALL must be the only error name in its ErrorEquals", "States.ALL already matches every error: remove the other names, or move them to an earlier entry");
            }
            if !last {
                s.err(
                    Code::InvalidErrorName,
                    p.clone(),
                    format!("a {what} with States.ALL must be the last one"),
                    &format!("move this {what} to the end: the ones after it can never match"),
                );
            }
        } else if e.is_empty() {
            s.err(
                Code::InvalidErrorName,
                p.clone(),
                "an error name must not be empty",
                "write the error name, e.g. \"Lambda.ServiceException\"",
            );
        } else if e.starts_with("States.") && !STATES_ERRORS.contains(&e.as_str()) {
            let mut d = Diagnostic::warning(
                Code::InvalidErrorName,
                p.clone(),
                format!("\"{e}\" is not a predefined States error; no error has this name"),
            );
            d = match super::suggest(e, STATES_ERRORS) {
                Some(sug) => d.with_help(format!("did you mean \"{sug}\"?")),
                None => d.with_help("the States. prefix is reserved for the predefined errors"),
            };
            s.out.push(d);
        }
    }
}

fn condition(s: &mut S<'_>, c: &Condition, ptr: &str, depth: usize) {
    // Nested rules come from JSON (bounded by the parser) or from code; bound our recursion too.
    if depth > 64 {
        s.err(
            Code::LimitExceeded,
            ptr.to_string(),
            "choice rules are nested more than 64 levels deep",
            "flatten the rule with And/Or",
        );
        return;
    }
    let jsonata = s.lang == QueryLanguage::Jsonata;
    match c {
        Condition::And(v) | Condition::Or(v) => {
            let key = if matches!(c, Condition::And(_)) {
                "And"
            } else {
                "Or"
            };
            if jsonata && depth == 0 {
                s.wrong_lang(true, key, pointer_push(ptr, key));
            }
            for (i, n) in v.iter().enumerate() {
                condition(s, &n.condition, &format!("{ptr}/{key}/{i}"), depth + 1);
            }
        }
        Condition::Not(n) => {
            if jsonata && depth == 0 {
                s.wrong_lang(true, "Not", pointer_push(ptr, "Not"));
            }
            condition(s, &n.condition, &pointer_push(ptr, "Not"), depth + 1);
        }
        Condition::Compare {
            operator, value, ..
        } => {
            if jsonata && depth == 0 {
                s.wrong_lang(true, "Variable", pointer_push(ptr, "Variable"));
            }
            let op = operator.as_str();
            match (operator.operand(), value) {
                (OperandKind::Timestamp, Value::String(t)) if !is_rfc3339(t) => {
                    // AWS accepts the definition; the comparison is simply never true.
                    s.out.push(
                        Diagnostic::warning(Code::SchemaValidationFailed, pointer_push(ptr, op), format!("{op} compares with \"{}\", which is not an RFC 3339 timestamp: the rule can never match", clip(t)))
                            .with_help("write the time as YYYY-MM-DDThh:mm:ssZ"),
                    );
                }
                (OperandKind::Pattern, Value::String(p)) => {
                    if let Some(bad) = bad_pattern_escape(p) {
                        s.err(Code::SchemaValidationFailed, pointer_push(ptr, op), format!("StringMatches pattern has an invalid escape \"\\{bad}\""), "only \\* (a literal star) and \\\\ (a backslash) are escapes in StringMatches");
                    }
                }
                _ => {}
            }
        }
        Condition::Jsonata(v) => {
            if !jsonata {
                s.wrong_lang(true, "Condition", pointer_push(ptr, "Condition"));
            } else if depth > 0 {
                s.err(
                    Code::SchemaValidationFailed,
                    pointer_push(ptr, "Condition"),
                    "Condition is only valid at the top of a choice rule",
                    "write the whole test as one JSONata expression",
                );
            } else if let Value::String(e) = v {
                if !(is_jsonata_expr(e)
                    || e.trim_start().starts_with("{%")
                    || s.subst && is_substitution(e))
                {
                    s.err(Code::InvalidJsonata, pointer_push(ptr, "Condition"), format!("Condition must be a JSONata expression \"{{% ... %}}\" or a boolean, found \"{}\"", clip(e)), "write Condition as \"{% <boolean expression> %}\"");
                }
            }
        }
    }
}

fn bad_pattern_escape(p: &str) -> Option<char> {
    let mut it = p.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            match it.next() {
                Some('*') | Some('\\') => {}
                Some(o) => return Some(o),
                None => return Some(' '),
            }
        }
    }
    None
}

/// A Pass state's `Result` is data, not a template: `"x.$": "$.y"` is not evaluated.
fn pass_result_static(s: &mut S<'_>, r: &Value) {
    if let Value::Object(m) = r {
        for (k, v) in m {
            if k.ends_with(".$")
                && v.as_str()
                    .is_some_and(|x| x.starts_with('$') || x.starts_with("States."))
            {
                s.out.push(
                    Diagnostic::warning(
                        Code::PassResultIsStatic,
                        format!(
                            "{}/{}",
                            s.at("Result"),
                            crate::diagnostics::pointer_push("", k).trim_start_matches('/')
                        ),
                        format!("Result is static data: \"{k}\" is not evaluated as a path"),
                    )
                    .with_help("use Parameters to build the output from paths"),
                );
            }
        }
    }
}

/// `Assign`: variable names and the reserved `states`.
/// The state's own `Assign` (its pointer built only when there is one).
fn own_assign(s: &mut S<'_>, a: Option<&Object>) {
    if a.is_some() {
        let ptr = s.at("Assign");
        assign(s, a, ptr);
    }
}

fn assign(s: &mut S<'_>, a: Option<&Object>, ptr: String) {
    let Some(a) = a else { return };
    let jsonpath = s.lang == QueryLanguage::JsonPath;
    for k in a.keys() {
        let name = if jsonpath {
            k.strip_suffix(".$").unwrap_or(k)
        } else {
            k.as_str()
        };
        let kp = pointer_push(&ptr, k);
        if name == "states" {
            s.err(
                Code::InvalidVariableName,
                kp,
                "\"states\" is reserved ($states holds the state's input, result and context)",
                "choose another variable name",
            );
            continue;
        }
        if !s.lang.eq(&QueryLanguage::JsonPath) && k.ends_with(".$") {
            s.err(Code::QueryLanguageMismatch, kp, format!("\"{k}\": keys ending in .$ are JSONPath; in a JSONata state the value is the expression"), "drop the .$ and write the value as \"{% <expression> %}\"");
            continue;
        }
        if let Some(problem) = variable_name_problem(name) {
            s.err(Code::InvalidVariableName, kp, format!("\"{name}\" is not a valid variable name: {problem}"), "variable names start with a letter or _ and continue with letters, digits, _ or - (at most 80 characters); $states is reserved");
        }
    }
}

/// Why a workflow variable name is invalid, if it is.
pub(crate) fn variable_name_problem(name: &str) -> Option<&'static str> {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return Some("it is empty");
    };
    if name.chars().count() > MAX_VARIABLE_CHARS {
        return Some("it is longer than 80 characters");
    }
    if !(first.is_alphabetic() || first == '_') {
        return Some("it must start with a letter or _");
    }
    if chars.any(|c| !(c.is_alphanumeric() || c == '_' || c == '-')) {
        return Some("it may only hold letters, digits, _ and -");
    }
    None
}

/// RFC 3339 date-time (as AWS requires for Wait `Timestamp` and `Timestamp*` operators):
/// `YYYY-MM-DDThh:mm:ss[.fraction](Z|+hh:mm|-hh:mm)`, uppercase `T` and `Z`.
pub(crate) fn is_rfc3339(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| {
        b.get(r.clone())
            .is_some_and(|x| x.iter().all(u8::is_ascii_digit))
    };
    let num = |r: std::ops::Range<usize>| -> u32 { s[r].parse().unwrap_or(99) };
    if b.len() < 20
        || !digits(0..4)
        || b[4] != b'-'
        || !digits(5..7)
        || b[7] != b'-'
        || !digits(8..10)
        || b[10] != b'T'
        || !digits(11..13)
        || b[13] != b':'
        || !digits(14..16)
        || b[16] != b':'
        || !digits(17..19)
    {
        return false;
    }
    let (month, day, hour, min, sec) =
        (num(5..7), num(8..10), num(11..13), num(14..16), num(17..19));
    let year: u32 = num(0..4);
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let dim = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    if day == 0 || day > dim || hour > 23 || min > 59 || sec > 60 {
        return false;
    }
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let st = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == st {
            return false;
        }
    }
    match &b[i..] {
        [b'Z'] => true,
        [sign, h1, h2, b':', m1, m2] if (*sign == b'+' || *sign == b'-') => {
            [h1, h2, m1, m2].iter().all(|c| c.is_ascii_digit())
                && num(i + 1..i + 3) <= 23
                && num(i + 4..i + 6) <= 59
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339() {
        for ok in [
            "2016-03-14T01:59:00Z",
            "2016-03-14T01:59:00.123Z",
            "2024-02-29T23:59:59+05:30",
            "2016-03-14T01:59:00-00:00",
        ] {
            assert!(is_rfc3339(ok), "{ok}");
        }
        for bad in [
            "2016-03-14",
            "2016-03-14T01:59:00",
            "2016-13-14T01:59:00Z",
            "2023-02-29T00:00:00Z",
            "2016-03-14t01:59:00z",
            "2016-03-14T01:59:00.Z",
            "2016-03-14T25:00:00Z",
            "x",
        ] {
            assert!(!is_rfc3339(bad), "{bad}");
        }
    }

    #[test]
    fn variable_names() {
        assert_eq!(variable_name_problem("x_1"), None);
        assert_eq!(variable_name_problem("é"), None);
        assert!(variable_name_problem("1x").is_some());
        assert!(variable_name_problem("").is_some());
        assert!(variable_name_problem("a b").is_some());
        assert!(variable_name_problem(&"a".repeat(81)).is_some());
    }

    #[test]
    fn pattern_escapes() {
        assert_eq!(bad_pattern_escape(r"log-*.txt"), None);
        assert_eq!(bad_pattern_escape(r"a\*b\\c"), None);
        assert_eq!(bad_pattern_escape(r"a\nb"), Some('n'));
    }
}
