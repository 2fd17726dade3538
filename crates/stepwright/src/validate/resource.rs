//! Task `Resource` ARNs (service integrations, Lambda functions, activities) and
//! DefinitionSubstitutions tokens in them.

use super::{has_broken_substitution, is_substitution, Ctx};
use crate::diagnostics::{pointer_push, Code, Diagnostic};
use crate::model::{Resource, State};

/// Runs the resource rules.
pub(crate) fn check(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    let subst = ctx.options.allow_substitutions;
    let check = ctx.options.check_resource_arns;
    for p in &ctx.states {
        match p.state {
            State::Task(t) => {
                if let Resource::Arn(arn) = &t.resource {
                    one(
                        arn,
                        pointer_push(&p.pointer, "Resource"),
                        subst,
                        check,
                        Kind::Task,
                        out,
                    );
                }
            }
            State::Map(m) => {
                if let Some(r) = &m.item_reader {
                    one(
                        &r.resource,
                        format!("{}/ItemReader/Resource", p.pointer),
                        subst,
                        check,
                        Kind::Reader,
                        out,
                    );
                }
                if let Some(w) = m.result_writer.as_ref().and_then(|w| w.resource.as_ref()) {
                    one(
                        w,
                        format!("{}/ResultWriter/Resource", p.pointer),
                        subst,
                        check,
                        Kind::Writer,
                        out,
                    );
                }
            }
            _ => {}
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Task,
    Reader,
    Writer,
}

fn one(arn: &str, ptr: String, subst: bool, check: bool, kind: Kind, out: &mut Vec<Diagnostic>) {
    if !check {
        return;
    }
    if arn.contains("${") {
        if has_broken_substitution(arn) {
            out.push(
                Diagnostic::error(
                    Code::InvalidSubstitution,
                    ptr,
                    format!("\"{arn}\" has a malformed DefinitionSubstitutions token"),
                )
                .with_help("a token is written ${Name} (letters, digits, _ . - :), closed with }"),
            );
            return;
        }
        if subst {
            if is_substitution(arn) {
                return;
            }
            // A token inside an ARN (arn:aws:lambda:${AWS::Region}:...): check the shape around it.
            let replaced = replace_tokens(arn);
            if let Err(msg) = shape(&replaced, kind) {
                out.push(invalid(ptr, arn, &msg, kind));
            }
            return;
        }
        out.push(
            Diagnostic::error(
                Code::InvalidSubstitution,
                ptr,
                format!("\"{arn}\" holds a DefinitionSubstitutions token, and substitutions are turned off"),
            )
            .with_help("substitute the token before validating, or allow substitutions"),
        );
        return;
    }
    if let Err(msg) = shape(arn, kind) {
        out.push(invalid(ptr, arn, &msg, kind));
    }
}

fn invalid(ptr: String, arn: &str, msg: &str, kind: Kind) -> Diagnostic {
    let help = match kind {
        Kind::Task => "a Resource is a service integration (arn:aws:states:::lambda:invoke, arn:aws:states:::sagemaker:createTrainingJob.sync), a Lambda function ARN (arn:aws:lambda:us-east-1:123456789012:function:name[:alias]) or an activity ARN (arn:aws:states:us-east-1:123456789012:activity:name)",
        Kind::Reader => "an ItemReader Resource is arn:aws:states:::s3:getObject or arn:aws:states:::s3:listObjectsV2",
        Kind::Writer => "a ResultWriter Resource is arn:aws:states:::s3:putObject",
    };
    Diagnostic::error(
        Code::InvalidResource,
        ptr,
        format!("\"{arn}\" is not a valid resource ARN: {msg}"),
    )
    .with_help(help)
}

/// Replaces each `${...}` token by a neutral placeholder.
fn replace_tokens(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        match rest[i..].find('}') {
            Some(j) => {
                out.push_str("token");
                rest = &rest[i + j + 1..];
            }
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

fn name_ok(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 256
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

/// Checks the shape of an ARN; the error says what is wrong.
fn shape(arn: &str, kind: Kind) -> Result<(), String> {
    let parts: Vec<&str> = arn.split(':').collect();
    if parts.len() < 6 || parts[0] != "arn" {
        return Err("an ARN has the form arn:partition:service:region:account:resource".into());
    }
    let (partition, service, region, account) = (parts[1], parts[2], parts[3], parts[4]);
    if partition.is_empty()
        || !partition
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c == b'-')
    {
        return Err(format!(
            "\"{partition}\" is not a partition (aws, aws-cn, aws-us-gov, ...)"
        ));
    }
    if service.is_empty()
        || !service
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
    {
        return Err(format!("\"{service}\" is not a service name"));
    }
    if !region.is_empty()
        && !region
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
    {
        return Err(format!("\"{region}\" is not a region"));
    }
    if !account.is_empty() && !account.bytes().all(|c| c.is_ascii_alphanumeric()) {
        return Err(format!("\"{account}\" is not an account id"));
    }
    let rest = &parts[5..];
    match (kind, service) {
        (Kind::Reader | Kind::Writer, "states") if region.is_empty() && account.is_empty() => {
            let api = rest.join(":");
            let allowed: &[&str] = if kind == Kind::Reader { &["s3:getObject", "s3:listObjectsV2"] } else { &["s3:putObject"] };
            if allowed.contains(&api.as_str()) {
                Ok(())
            } else {
                Err(format!("expected {}", allowed.iter().map(|a| format!("arn:{partition}:states:::{a}")).collect::<Vec<_>>().join(" or ")))
            }
        }
        (Kind::Reader | Kind::Writer, _) => Err("expected an arn:aws:states:::s3:... integration".into()),
        (Kind::Task, "states") if region.is_empty() && account.is_empty() => integration(rest),
        (Kind::Task, "states") => match rest {
            ["activity", name] if name_ok(name) => Ok(()),
            ["activity", _] => Err("the activity name is empty or has characters other than letters, digits, - _ .".into()),
            _ => Err("a states ARN with a region and account names an activity: arn:aws:states:region:account:activity:name".into()),
        },
        (Kind::Task, "lambda") => match rest {
            ["function", name] if name_ok(name) => Ok(()),
            ["function", name, q] if name_ok(name) => {
                if *q == "$LATEST" || (!q.is_empty() && q.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_'))) {
                    Ok(())
                } else {
                    Err(format!("\"{q}\" is not a version or alias (letters, digits, - and _, or $LATEST)"))
                }
            }
            ["function", ..] => Err("expected function:name or function:name:alias".into()),
            _ => Err("a Lambda ARN names a function: arn:aws:lambda:region:account:function:name".into()),
        },
        (Kind::Task, _) => {
            if rest.iter().all(|r| r.is_empty()) {
                Err("the resource part is empty".into())
            } else {
                Ok(())
            }
        }
    }
}

/// `service:api[.sync[:2]|.waitForTaskToken]`, or `aws-sdk:service:api[...]`.
fn integration(rest: &[&str]) -> Result<(), String> {
    let (service, api_parts): (String, &[&str]) = match rest {
        ["aws-sdk", svc, api @ ..] => (format!("aws-sdk:{svc}"), api),
        [svc, api @ ..] => (svc.to_string(), api),
        [] => return Err("the integration is missing: arn:aws:states:::service:api".into()),
    };
    let svc_name = service.trim_start_matches("aws-sdk:");
    if svc_name.is_empty()
        || !svc_name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.')
    {
        return Err(format!("\"{service}\" is not a service name"));
    }
    let api = api_parts.join(":");
    let (name, suffix) = match api.split_once('.') {
        Some((n, s)) => (n, Some(s)),
        None => (api.as_str(), None),
    };
    if name.is_empty() || !name.bytes().all(|c| c.is_ascii_alphanumeric()) {
        return Err(format!(
            "\"{api}\" is not an API action (expected something like {service}:invoke)"
        ));
    }
    match suffix {
        None | Some("sync") | Some("sync:2") | Some("waitForTaskToken") => Ok(()),
        Some(s) => Err(format!(
            "\".{s}\" is not an integration pattern (.sync, .sync:2 or .waitForTaskToken)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        for ok in [
            "arn:aws:states:::lambda:invoke",
            "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "arn:aws:states:::sagemaker:createTrainingJob.sync",
            "arn:aws:states:::states:startExecution.sync:2",
            "arn:aws:states:::aws-sdk:s3:listObjectsV2",
            "arn:aws:states:::http:invoke",
            "arn:aws:states:us-east-1:123456789012:activity:hello-world",
            "arn:aws:lambda:us-east-1:123456789012:function:foo",
            "arn:aws:lambda:region-1:1234567890:function:FUNCTION_NAME:$LATEST",
            "arn:aws:lambda:region-1:1234567890:function:FUNCTION_NAME:AZaz12-_",
            "arn:aws:swf:us-east-1:123456789012:task:X",
            "arn:aws-cn:states:::sqs:sendMessage",
        ] {
            assert_eq!(shape(ok, Kind::Task), Ok(()), "{ok}");
        }
        for bad in [
            "lambda:invoke",
            "arn:aws:states:::lambda",
            "arn:aws:states:::lambda:invoke.sink",
            "arn:aws:lambda:region-1:1234567890:function:FUNCTION_NAME:",
            "arn:aws:lambda:region-1:1234567890:function:FUNCTION_NAME:$*#$7485",
            "arn:aws:lambda:us-east-1:123:layer:x",
            "arn:AWS:states:::lambda:invoke",
            "arn:aws:states:us-east-1:1:stateMachine:x",
        ] {
            assert!(shape(bad, Kind::Task).is_err(), "{bad}");
        }
        assert_eq!(shape("arn:aws:states:::s3:getObject", Kind::Reader), Ok(()));
        assert!(shape("arn:aws:states:::s3:putObject", Kind::Reader).is_err());
        assert_eq!(shape("arn:aws:states:::s3:putObject", Kind::Writer), Ok(()));
    }
}
