//! `stepwright deploy FILE --name NAME`: validates a definition, then creates the state machine
//! or, when one with that name exists, updates it: idempotently (a second identical deploy
//! changes nothing and says `unchanged`).
//!
//! Steps: read the file, replace `${Name}` DefinitionSubstitutions tokens (`--substitutions`
//! file, then `--sub` flags), refuse tokens left unreplaced, run the validator (errors: exit 1,
//! no AWS call is made), then look the name up (`ListStateMachines`), compare with
//! `DescribeStateMachine` and call `CreateStateMachine`, `UpdateStateMachine` and `TagResource`
//! as needed. It prints the ARN and what happened (`created`, `updated`, `unchanged`).
//!
//! Exit codes: 0 deployed, 1 the definition is invalid or AWS refused a call, 2 usage, I/O,
//! configuration (region, credentials) or connection errors.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;

use aws_sdk_sfn::types::{
    CloudWatchLogsLogGroup, LogDestination, LogLevel, LoggingConfiguration, StateMachineType, Tag,
    TracingConfiguration,
};
use clap::ValueEnum;
use serde_json::{json, Value};
use stepwright::validate::{validate_str, Options};

use crate::aws::{self, Aws, AwsArgs, CliError};

/// Arguments of `stepwright deploy`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    stepwright deploy statemachines/training.asl.json --name training \\\n      \
    --role-arn arn:aws:iam::123456789012:role/stepwright-training --substitutions params.json\n  \
    stepwright deploy flow.asl.json --name flow --role-arn $ROLE --sub DataBucket=my-bucket --tag team=ml\n  \
    stepwright deploy flow.asl.json --name flow --create-role --sub DataBucket=my-bucket\n  \
    stepwright deploy flow.asl.json --name flow --role-arn $ROLE --type EXPRESS \\\n      \
    --logging ALL --log-group arn:aws:logs:us-east-1:123456789012:log-group:/sfn/flow\n  \
    stepwright deploy flow.asl.json --name flow --role-arn $ROLE --endpoint-url http://127.0.0.1:5000\n\n\
    Prints `created`, `updated` or `unchanged` and the state machine ARN (with --create-role, \
    the role's ARN and whether it was created or its policy updated go to standard error). Exit codes: 0 deployed, \
    1 invalid definition (nothing is sent) or AWS refused a call, 2 usage, I/O, configuration or \
    connection error.")]
pub struct Args {
    /// The state machine definition (Amazon States Language JSON); `-` reads standard input.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The state machine's name (created if absent, updated if present).
    #[arg(long, value_parser = parse_name)]
    pub name: String,
    /// The IAM role Step Functions assumes to run the machine (required to create one; an
    /// update keeps the current role when omitted).
    #[arg(long, value_name = "ARN", value_parser = parse_role_arn)]
    pub role_arn: Option<String>,
    /// Create the role instead (or update the one an earlier `--create-role` made): named NAME,
    /// default `stepwright-<name>`, trusting states.amazonaws.com, with the least-privilege
    /// policy generated from this definition (what `stepwright policy` prints) inline.
    #[arg(long, value_name = "NAME", num_args = 0..=1, default_missing_value = "",
          conflicts_with = "role_arn", value_parser = crate::role::parse_role_name)]
    pub create_role: Option<String>,
    /// STANDARD or EXPRESS (a machine's type cannot change after creation).
    #[arg(long = "type", value_enum, default_value_t = MachineType::Standard, ignore_case = true)]
    pub machine_type: MachineType,
    /// A JSON object of DefinitionSubstitutions values (`{"DataBucket": "my-bucket", ...}`);
    /// numbers and booleans are used as their JSON text.
    #[arg(long, value_name = "FILE")]
    pub substitutions: Option<PathBuf>,
    /// One substitution `NAME=VALUE` (repeatable; overrides --substitutions).
    #[arg(long = "sub", value_name = "NAME=VALUE", value_parser = parse_pair)]
    pub subs: Vec<(String, String)>,
    /// Execution logging level to CloudWatch Logs (needs --log-group unless OFF).
    #[arg(long, value_enum, ignore_case = true, value_name = "LEVEL")]
    pub logging: Option<Logging>,
    /// The CloudWatch Logs log group ARN for --logging (`:*` is appended when missing).
    #[arg(long, value_name = "ARN", requires = "logging")]
    pub log_group: Option<String>,
    /// Log execution input and output too (with --logging).
    #[arg(long, requires = "logging")]
    pub include_execution_data: bool,
    /// Turn AWS X-Ray tracing on (`--tracing=false` turns it off).
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub tracing: Option<bool>,
    /// A tag `KEY=VALUE` for the state machine (repeatable; existing tags are kept).
    #[arg(long = "tag", visible_alias = "tags", value_name = "KEY=VALUE", value_parser = parse_tag)]
    pub tags: Vec<(String, String)>,
    /// Output: a line for people, or a JSON object for scripts.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    #[command(flatten)]
    pub aws: AwsArgs,
}

/// The state machine type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "UPPER")]
pub enum MachineType {
    /// Exactly-once, up to a year, full history.
    Standard,
    /// At-least-once, up to five minutes, high volume.
    Express,
}

impl MachineType {
    fn sdk(self) -> StateMachineType {
        match self {
            MachineType::Standard => StateMachineType::Standard,
            MachineType::Express => StateMachineType::Express,
        }
    }
}

/// The CloudWatch Logs level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "UPPER")]
pub enum Logging {
    /// Every event.
    All,
    /// Errors.
    Error,
    /// Execution failures only.
    Fatal,
    /// No logging.
    Off,
}

impl Logging {
    fn sdk(self) -> LogLevel {
        match self {
            Logging::All => LogLevel::All,
            Logging::Error => LogLevel::Error,
            Logging::Fatal => LogLevel::Fatal,
            Logging::Off => LogLevel::Off,
        }
    }
}

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// For people.
    Text,
    /// A JSON object.
    Json,
}

/// Checks a state machine or execution name as AWS does: 1 to 80 characters, none of white
/// space, `< > { } [ ] ? * " # % \ ^ | ~ ` $ & , ; : /` or control characters.
pub(crate) fn parse_name(s: &str) -> Result<String, String> {
    let n = s.chars().count();
    if n == 0 || n > 80 {
        return Err(format!("`{s}` is {n} characters long; a name has 1 to 80"));
    }
    if let Some(c) = s
        .chars()
        .find(|&c| c.is_whitespace() || c.is_control() || "<>{}[]?*\"#%\\^|~`$&,;:/".contains(c))
    {
        return Err(format!(
            "`{s}` contains {c:?}; a name may not contain white space, brackets, wildcards, \
             control characters or any of \" # % \\ ^ | ~ ` $ & , ; : /"
        ));
    }
    Ok(s.to_owned())
}

fn parse_role_arn(s: &str) -> Result<String, String> {
    if s.starts_with("arn:") && s.contains(":role/") {
        Ok(s.to_owned())
    } else {
        Err(format!(
            "`{s}` is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)"
        ))
    }
}

fn parse_pair(s: &str) -> Result<(String, String), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}` is not NAME=VALUE"))?;
    if k.is_empty() {
        return Err(format!("`{s}` has an empty name"));
    }
    Ok((k.to_owned(), v.to_owned()))
}

fn parse_tag(s: &str) -> Result<(String, String), String> {
    let (k, v) = parse_pair(s)?;
    if k.chars().count() > 128 {
        return Err(format!("tag key `{k}` is longer than 128 characters"));
    }
    if v.chars().count() > 256 {
        return Err(format!("tag `{k}` has a value longer than 256 characters"));
    }
    if k.starts_with("aws:") {
        return Err(format!("tag key `{k}`: the `aws:` prefix is reserved"));
    }
    Ok((k, v))
}

/// Replaces `${Name}` tokens in every string (object keys included) of `definition` by their
/// values, as SAM and CloudFormation `DefinitionSubstitutions` do; returns the tokens left
/// unreplaced with the JSON pointer of each: `{"Key": "${B}/x/${K}"}` with `B=raw` becomes
/// `{"Key": "raw/x/${K}"}` and reports `("/Key", "K")`.
pub(crate) fn substitute(
    definition: &mut Value,
    values: &BTreeMap<String, String>,
) -> Vec<(String, String)> {
    let mut left = Vec::new();
    walk_strings(definition, "", values, &mut left);
    left
}

fn walk_strings(
    v: &mut Value,
    pointer: &str,
    values: &BTreeMap<String, String>,
    left: &mut Vec<(String, String)>,
) {
    match v {
        Value::String(s) => {
            let (out, missing) = replace_tokens(s, values);
            *s = out;
            left.extend(missing.into_iter().map(|m| (pointer.to_owned(), m)));
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                walk_strings(item, &format!("{pointer}/{i}"), values, left);
            }
        }
        Value::Object(map) => {
            let entries = std::mem::take(map);
            for (k, mut item) in entries {
                let (key, missing) = replace_tokens(&k, values);
                let child = format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1"));
                left.extend(missing.into_iter().map(|m| (child.clone(), m)));
                walk_strings(&mut item, &child, values, left);
                map.insert(key, item);
            }
        }
        _ => {}
    }
}

/// Replaces the `${Name}` tokens of `s` (Name: letters, digits, `_`, `.`, `-`, `:`) whose name
/// has a value; returns the text and the names that had none.
fn replace_tokens(s: &str, values: &BTreeMap<String, String>) -> (String, Vec<String>) {
    let mut out = String::with_capacity(s.len());
    let mut missing = Vec::new();
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find('}').filter(|&e| {
            e > 0
                && after[..e]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_.-:".contains(c))
        });
        match end {
            Some(e) => {
                let name = &after[..e];
                match values.get(name) {
                    Some(v) => out.push_str(v),
                    None => {
                        out.push_str(&rest[start..start + 3 + e]);
                        missing.push(name.to_owned());
                    }
                }
                rest = &after[e + 1..];
            }
            None => {
                out.push_str("${");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    (out, missing)
}

/// Reads the `--substitutions` file: a JSON object whose values are strings, numbers or
/// booleans.
fn read_substitutions(path: &PathBuf) -> Result<BTreeMap<String, String>, CliError> {
    let shown = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::usage(format!("cannot read {shown}: {e}")))?;
    let value: Value = serde_json::from_str(&text).map_err(|e| {
        CliError::usage(format!(
            "{shown}:{}:{}: not valid JSON: {e}",
            e.line(),
            e.column()
        ))
    })?;
    let Value::Object(map) = value else {
        return Err(CliError::usage(format!(
            "{shown}: expected a JSON object of NAME: VALUE substitutions"
        ))
        .hint(r#"e.g. {"DataBucket": "my-bucket", "MinValidationAuc": 0.8}"#));
    };
    map.into_iter()
        .map(|(k, v)| {
            let text = match v {
                Value::String(s) => s,
                Value::Number(_) | Value::Bool(_) => v.to_string(),
                other => {
                    return Err(CliError::usage(format!(
                        "{shown}: substitution `{k}` is {}, not a string, number or boolean",
                        kind(&other)
                    )))
                }
            };
            Ok((k, text))
        })
        .collect()
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The definition to deploy: substituted, checked for leftover tokens and validated.
struct Prepared {
    text: String,
}

fn prepare(args: &Args) -> Result<Prepared, CliError> {
    let shown = args.file.display().to_string();
    let mut bytes = Vec::new();
    let read = if args.file.as_os_str() == "-" {
        std::io::stdin().read_to_end(&mut bytes)
    } else {
        std::fs::File::open(&args.file).and_then(|mut f| f.read_to_end(&mut bytes))
    };
    read.map_err(|e| CliError::usage(format!("cannot read {shown}: {e}")))?;
    let original = String::from_utf8(bytes).map_err(|e| {
        CliError::failed(format!(
            "{shown}: not valid JSON: the file is not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ))
    })?;
    let mut values = match &args.substitutions {
        Some(p) => read_substitutions(p)?,
        None => BTreeMap::new(),
    };
    values.extend(args.subs.iter().cloned());

    let mut text = original;
    if !values.is_empty() || text.contains("${") {
        // Parse errors are left to the validator below (it reports line and column).
        if let Ok(mut value) = serde_json::from_str::<Value>(&text) {
            let before = value.clone();
            let left = substitute(&mut value, &values);
            if !left.is_empty() {
                let mut names: Vec<&str> = left.iter().map(|(_, n)| n.as_str()).collect();
                names.sort_unstable();
                names.dedup();
                let first = &left[0];
                return Err(CliError::failed(format!(
                    "{shown}: {} substitution token(s) have no value: {} (first at {})",
                    names.len(),
                    names
                        .iter()
                        .map(|n| format!("${{{n}}}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    if first.0.is_empty() { "/" } else { &first.0 }
                ))
                .hint(format!(
                    "pass --sub {}=VALUE (one per token) or --substitutions FILE",
                    names[0]
                )));
            }
            if value != before {
                text = serde_json::to_string_pretty(&value).unwrap_or(text);
                text.push('\n');
            }
        }
    }

    let mut opts = match args.machine_type {
        MachineType::Express => Options::express(),
        MachineType::Standard => Options::default(),
    };
    opts.allow_substitutions = false;
    let report = validate_str(&text, &opts);
    if !report.is_empty() {
        eprint!("{}", report.render(&shown, &text));
    }
    if !report.is_valid() {
        return Err(CliError::failed(format!(
            "{shown} is not a valid state machine definition ({} error(s)); nothing was deployed",
            report.error_count()
        )));
    }
    Ok(Prepared { text })
}

/// What a deploy did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    Created,
    Updated,
    Unchanged,
}

impl Change {
    fn as_str(self) -> &'static str {
        match self {
            Change::Created => "created",
            Change::Updated => "updated",
            Change::Unchanged => "unchanged",
        }
    }
}

/// Runs the subcommand; returns the exit code.
pub fn run(args: &Args) -> u8 {
    let result = prepare(args).and_then(|prepared| {
        aws::block_on(async {
            let aws = aws::load(&args.aws).await?;
            deploy(&aws, args, &prepared).await
        })?
    });
    match result {
        Ok((change, arn, role)) => {
            match args.format {
                OutputFormat::Text => println!("{} {arn}", change.as_str()),
                OutputFormat::Json => {
                    let mut out = json!({"status": change.as_str(), "name": args.name, "stateMachineArn": arn});
                    if let Some(role) = role {
                        out["roleArn"] = json!(role.arn);
                        out["roleCreated"] = json!(role.created);
                    }
                    println!("{out}");
                }
            }
            crate::exit::OK
        }
        Err(e) => e.report("deploy"),
    }
}

/// The ARN of the state machine called `name`, if any (`ListStateMachines`, all pages).
pub(crate) async fn find_state_machine(aws: &Aws, name: &str) -> Result<Option<String>, CliError> {
    let sfn = aws.sfn();
    let mut pages = sfn.list_state_machines().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| aws.error("ListStateMachines", &e))?;
        if let Some(m) = page.state_machines().iter().find(|m| m.name() == name) {
            return Ok(Some(m.state_machine_arn().to_owned()));
        }
    }
    Ok(None)
}

fn logging_config(args: &Args) -> Result<Option<LoggingConfiguration>, CliError> {
    let Some(level) = args.logging else {
        return Ok(None);
    };
    let mut b = LoggingConfiguration::builder()
        .level(level.sdk())
        .include_execution_data(args.include_execution_data);
    match (&args.log_group, level) {
        (None, Logging::Off) => {}
        (None, _) => {
            return Err(CliError::usage("--logging other than OFF needs --log-group ARN")
                .hint("e.g. --log-group arn:aws:logs:us-east-1:123456789012:log-group:/aws/vendedlogs/states/NAME"))
        }
        (Some(group), _) => {
            if !group.starts_with("arn:") || !group.contains(":log-group:") {
                return Err(CliError::usage(format!(
                    "--log-group `{group}` is not a log group ARN (arn:aws:logs:REGION:ACCOUNT:log-group:NAME)"
                )));
            }
            let arn = if group.ends_with(":*") {
                group.clone()
            } else {
                format!("{group}:*")
            };
            b = b.destinations(
                LogDestination::builder()
                    .cloud_watch_logs_log_group(
                        CloudWatchLogsLogGroup::builder().log_group_arn(arn).build(),
                    )
                    .build(),
            );
        }
    }
    Ok(Some(b.build()))
}

/// Whether two definitions are the same JSON (numbers compared by value).
pub(crate) fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            x == y || matches!((x.as_f64(), y.as_f64()), (Some(p), Some(q)) if p == q)
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_json(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}

fn same_logging(want: &LoggingConfiguration, have: Option<&LoggingConfiguration>) -> bool {
    let Some(have) = have else {
        return want.level() == Some(&LogLevel::Off);
    };
    let groups = |c: &LoggingConfiguration| -> Vec<String> {
        c.destinations()
            .iter()
            .filter_map(|d| d.cloud_watch_logs_log_group())
            .filter_map(|g| g.log_group_arn())
            .map(str::to_owned)
            .collect()
    };
    want.level().unwrap_or(&LogLevel::Off) == have.level().unwrap_or(&LogLevel::Off)
        && want.include_execution_data() == have.include_execution_data()
        && (want.level() == Some(&LogLevel::Off) || groups(want) == groups(have))
}

/// Deploys; returns what changed, the state machine ARN and the role `--create-role` made or
/// updated.
async fn deploy(
    aws: &Aws,
    args: &Args,
    prepared: &Prepared,
) -> Result<(Change, String, Option<crate::role::Role>), CliError> {
    let sfn = aws.sfn();
    let logging = logging_config(args)?;
    let tracing = args
        .tracing
        .map(|on| TracingConfiguration::builder().enabled(on).build());
    let tags: Vec<Tag> = args
        .tags
        .iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect();

    let created_role = match &args.create_role {
        Some(name) => {
            let name = if name.is_empty() {
                crate::role::default_role_name(&args.name)
            } else {
                name.clone()
            };
            let role = crate::role::ensure(aws, &name, &args.name, &prepared.text).await?;
            eprintln!(
                "role {} {}",
                if role.created {
                    "created"
                } else {
                    "policy updated"
                },
                role.arn
            );
            Some(role)
        }
        None => None,
    };
    let role_arn = args
        .role_arn
        .clone()
        .or_else(|| created_role.as_ref().map(|r| r.arn.clone()));

    let Some(arn) = find_state_machine(aws, &args.name).await? else {
        let Some(role) = &role_arn else {
            return Err(CliError::usage(format!(
                "there is no state machine `{}` in {} to update, and creating one needs a role",
                args.name,
                aws.region()
            ))
            .hint(
                "pass --role-arn ARN (the role Step Functions assumes to run the machine), or \
                   --create-role to make one from the generated policy",
            ));
        };
        let create = sfn
            .create_state_machine()
            .name(&args.name)
            .definition(&prepared.text)
            .role_arn(role)
            .r#type(args.machine_type.sdk())
            .set_logging_configuration(logging)
            .set_tracing_configuration(tracing)
            .set_tags((!tags.is_empty()).then_some(tags));
        // A role IAM has just created takes seconds to become assumable: Step Functions answers
        // AccessDeniedException meanwhile. Retry for up to a minute in that case only.
        let fresh_role = created_role.as_ref().is_some_and(|r| r.created);
        let mut attempt = 0;
        let out = loop {
            match create.clone().send().await {
                Ok(out) => break out,
                Err(e)
                    if fresh_role
                        && attempt < 12
                        && e.as_service_error()
                            .and_then(|s| aws_sdk_sfn::error::ProvideErrorMetadata::code(s))
                            == Some("AccessDeniedException") =>
                {
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
                }
                Err(e) => return Err(aws.error("CreateStateMachine", &e)),
            }
        };
        return Ok((
            Change::Created,
            out.state_machine_arn().to_owned(),
            created_role,
        ));
    };

    let current = sfn
        .describe_state_machine()
        .state_machine_arn(&arn)
        .send()
        .await
        .map_err(|e| aws.error("DescribeStateMachine", &e))?;
    let have_type = current.r#type();
    if have_type != &args.machine_type.sdk() {
        return Err(CliError::failed(format!(
            "state machine `{}` is {}, not {}: the type of a state machine cannot change",
            args.name,
            have_type.as_str(),
            args.machine_type.sdk().as_str()
        ))
        .hint("deploy under another --name, or delete the old machine first"));
    }
    let same_definition = match (
        serde_json::from_str::<Value>(current.definition()),
        serde_json::from_str::<Value>(&prepared.text),
    ) {
        (Ok(a), Ok(b)) => same_json(&a, &b),
        _ => current.definition() == prepared.text,
    };
    let same_role = role_arn.as_deref().is_none_or(|r| r == current.role_arn());
    let same_log = logging
        .as_ref()
        .is_none_or(|l| same_logging(l, current.logging_configuration()));
    let same_tracing = tracing.as_ref().is_none_or(|t| {
        current
            .tracing_configuration()
            .map_or(!t.enabled(), |c| c.enabled() == t.enabled())
    });
    let mut change = Change::Unchanged;
    if !(same_definition && same_role && same_log && same_tracing) {
        sfn.update_state_machine()
            .state_machine_arn(&arn)
            .definition(&prepared.text)
            .set_role_arn(role_arn.clone())
            .set_logging_configuration(if same_log { None } else { logging })
            .set_tracing_configuration(if same_tracing { None } else { tracing })
            .send()
            .await
            .map_err(|e| aws.error("UpdateStateMachine", &e))?;
        change = Change::Updated;
    }
    if !tags.is_empty() {
        let have = sfn
            .list_tags_for_resource()
            .resource_arn(&arn)
            .send()
            .await
            .map_err(|e| aws.error("ListTagsForResource", &e))?;
        let missing: Vec<Tag> = tags
            .into_iter()
            .filter(|t| {
                !have
                    .tags()
                    .iter()
                    .any(|h| h.key() == t.key() && h.value() == t.value())
            })
            .collect();
        if !missing.is_empty() {
            sfn.tag_resource()
                .resource_arn(&arn)
                .set_tags(Some(missing))
                .send()
                .await
                .map_err(|e| aws.error("TagResource", &e))?;
            change = Change::Updated;
        }
    }
    Ok((change, arn, created_role))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn tokens_are_replaced_everywhere_and_leftovers_reported() {
        let mut d = json!({
            "States": {"A": {"Parameters": {"Bucket": "${B}", "Key": "${B}/x/${K}", "${B}": 1,
                                            "List": ["${K}", "plain $ {x} ${", "${not valid}"]}}}
        });
        let left = substitute(&mut d, &values(&[("B", "raw")]));
        assert_eq!(
            d,
            json!({
                "States": {"A": {"Parameters": {"Bucket": "raw", "Key": "raw/x/${K}", "raw": 1,
                                                "List": ["${K}", "plain $ {x} ${", "${not valid}"]}}}
            })
        );
        assert_eq!(
            left,
            [
                ("/States/A/Parameters/Key".to_owned(), "K".to_owned()),
                ("/States/A/Parameters/List/0".to_owned(), "K".to_owned())
            ]
        );
    }

    #[test]
    fn replacement_values_are_inserted_literally() {
        let (s, missing) = replace_tokens("${A}${A}-${B}", &values(&[("A", "${B}"), ("B", "\"")]));
        assert_eq!(s, "${B}${B}-\"");
        assert!(missing.is_empty());
    }

    #[test]
    fn names_follow_aws_rules() {
        assert!(parse_name("training-v2_x").is_ok());
        assert!(parse_name("").is_err());
        assert!(parse_name(&"a".repeat(81)).is_err());
        assert!(parse_name(&"a".repeat(80)).is_ok());
        for bad in ["a b", "a/b", "a:b", "a$b", "a{b", "a\tb"] {
            assert!(parse_name(bad).is_err(), "{bad}");
        }
        assert!(parse_role_arn("arn:aws:iam::123456789012:role/x").is_ok());
        assert!(parse_role_arn("role/x").is_err());
        assert_eq!(parse_pair("a=b=c").unwrap(), ("a".into(), "b=c".into()));
        assert!(parse_pair("=b").is_err());
        assert!(parse_tag("aws:x=1").is_err());
    }

    #[test]
    fn json_compares_numbers_by_value() {
        assert!(same_json(&json!({"a": [1, 2.0]}), &json!({"a": [1.0, 2]})));
        assert!(!same_json(&json!({"a": 1}), &json!({"a": 2})));
        assert!(!same_json(&json!({"a": 1}), &json!({"a": 1, "b": 1})));
        assert!(!same_json(&json!("1"), &json!(1)));
    }
}
