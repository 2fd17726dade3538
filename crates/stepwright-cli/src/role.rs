//! `stepwright deploy --create-role [NAME]`: the IAM role Step Functions assumes, made from the
//! least-privilege policy [`stepwright::iam`] generates for the definition being deployed.
//!
//! The role trusts `states.amazonaws.com` and carries one inline policy
//! ([`POLICY_NAME`]); it is tagged [`MANAGED_TAG`] so that a later deploy may update its policy
//! (a role that exists without the tag is refused rather than changed). The policy's ARNs use the
//! role's partition and account and the configured region.

use aws_sdk_iam::types::Tag;
use stepwright::iam::{policy_with, PolicyOptions, INLINE_POLICY_LIMIT};
use stepwright::StateMachine;

use crate::aws::{Aws, CliError};

/// The name of the inline policy the role carries.
pub(crate) const POLICY_NAME: &str = "stepwright-state-machine";

/// The tag key (value `true`) that marks a role as created and managed by `stepwright deploy`.
pub(crate) const MANAGED_TAG: &str = "stepwright:managed";

/// The trust policy: Step Functions may assume the role.
pub(crate) const TRUST_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"states.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

/// The role name used when `--create-role` has no value: `stepwright-<machine>` (IAM allows 64
/// characters; longer names are cut, and a machine name's characters are all allowed in a role
/// name except those replaced by `-`).
pub(crate) fn default_role_name(machine: &str) -> String {
    format!("stepwright-{machine}")
        .chars()
        .map(|c| if role_char(c) { c } else { '-' })
        .take(64)
        .collect()
}

fn role_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "+=,.@_-".contains(c)
}

/// Checks a `--create-role` value: empty (use the default name) or an IAM role name: 1 to 64 of
/// letters, digits and `+=,.@_-`.
pub(crate) fn parse_role_name(s: &str) -> Result<String, String> {
    if s.chars().count() > 64 {
        return Err(format!("role name `{s}` is longer than 64 characters"));
    }
    if let Some(c) = s.chars().find(|&c| !role_char(c)) {
        return Err(format!(
            "role name `{s}` contains {c:?}; IAM role names use letters, digits and + = , . @ _ -"
        ));
    }
    Ok(s.to_owned())
}

/// The role a deploy uses.
#[derive(Debug, Clone)]
pub(crate) struct Role {
    /// Its ARN.
    pub arn: String,
    /// Whether this deploy created it (IAM needs a few seconds before Step Functions can assume a
    /// new role).
    pub created: bool,
}

/// The generated policy for `machine` (already validated), with ARNs in `partition`,
/// `account` and the configured region; `None` when the machine calls no AWS service.
fn policy_document(
    aws: &Aws,
    machine: &StateMachine,
    machine_name: &str,
    partition: &str,
    account: &str,
) -> Result<Option<String>, CliError> {
    let options = PolicyOptions {
        partition: partition.to_owned(),
        region: Some(aws.region().to_owned()),
        account: Some(account.to_owned()),
        state_machine_name: Some(machine_name.to_owned()),
        keep_substitutions: false,
    };
    let policy = policy_with(machine, &options);
    if policy.document.statements.is_empty() {
        return Ok(None);
    }
    let size = policy.document.size();
    if size > INLINE_POLICY_LIMIT {
        return Err(CliError::failed(format!(
            "the generated policy is {size} bytes, over IAM's {INLINE_POLICY_LIMIT}-byte inline \
             role policy limit; no role was created or changed"
        ))
        .hint("create the role yourself with managed policies and pass --role-arn"));
    }
    Ok(Some(policy.document.to_value().to_string()))
}

/// IAM URL-encodes policy documents in its responses (`%7B%22Version...`).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b'+', ..) => {
                out.push(b' ');
                i += 1;
            }
            (b, ..) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Creates the role `role_name` (or finds the one an earlier deploy created) and puts the
/// generated policy on it.
pub(crate) async fn ensure(
    aws: &Aws,
    role_name: &str,
    machine_name: &str,
    definition: &str,
) -> Result<Role, CliError> {
    // Check the policy's size before anything is created (the account's digits do not change it).
    let machine = StateMachine::from_json(definition)
        .map_err(|e| CliError::failed(format!("cannot read the definition for its policy: {e}")))?;
    policy_document(aws, &machine, machine_name, "aws", "123456789012")?;
    let iam = aws.iam();
    let (arn, created) = match iam.get_role().role_name(role_name).send().await {
        Ok(out) => {
            let Some(role) = out.role() else {
                return Err(CliError::failed(format!(
                    "GetRole {role_name}: the answer has no role"
                )));
            };
            let managed = role
                .tags()
                .iter()
                .any(|t| t.key() == MANAGED_TAG && t.value() == "true");
            if !managed {
                return Err(CliError::failed(format!(
                    "role `{role_name}` exists and was not created by `stepwright deploy` (it has no \
                     {MANAGED_TAG}=true tag); it was left unchanged"
                ))
                .hint(format!(
                    "pass --role-arn {} to use it as it is, or --create-role OTHER-NAME",
                    role.arn()
                )));
            }
            let trust = role
                .assume_role_policy_document()
                .map(percent_decode)
                .unwrap_or_default();
            if !trust.contains("states.amazonaws.com") {
                return Err(CliError::failed(format!(
                    "role `{role_name}` does not trust states.amazonaws.com, so Step Functions \
                     cannot assume it"
                ))
                .hint("add states.amazonaws.com to its trust policy, or use another role name"));
            }
            (role.arn().to_owned(), false)
        }
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_no_such_entity_exception()) =>
        {
            let out = iam
                .create_role()
                .role_name(role_name)
                .assume_role_policy_document(TRUST_POLICY)
                .description(format!(
                    "Step Functions state machine {machine_name} (stepwright deploy)"
                ))
                .tags(
                    Tag::builder()
                        .key(MANAGED_TAG)
                        .value("true")
                        .build()
                        .map_err(|e| CliError::failed(format!("CreateRole: {e}")))?,
                )
                .send()
                .await
                .map_err(|e| aws.error("CreateRole", &e))?;
            let Some(role) = out.role() else {
                return Err(CliError::failed(format!(
                    "CreateRole {role_name}: the answer has no role"
                )));
            };
            (role.arn().to_owned(), true)
        }
        Err(e) => return Err(aws.error("GetRole", &e)),
    };

    let mut parts = arn.split(':');
    let partition = parts.nth(1).unwrap_or("aws");
    let account = parts.nth(2).filter(|a| !a.is_empty()).unwrap_or("*");
    match policy_document(aws, &machine, machine_name, partition, account)? {
        Some(doc) => {
            iam.put_role_policy()
                .role_name(role_name)
                .policy_name(POLICY_NAME)
                .policy_document(doc)
                .send()
                .await
                .map_err(|e| aws.error("PutRolePolicy", &e))?;
        }
        None => {
            // nothing to allow: remove an earlier deploy's policy, if any
            if let Err(e) = iam
                .delete_role_policy()
                .role_name(role_name)
                .policy_name(POLICY_NAME)
                .send()
                .await
            {
                if !e
                    .as_service_error()
                    .is_some_and(|s| s.is_no_such_entity_exception())
                {
                    return Err(aws.error("DeleteRolePolicy", &e));
                }
            }
        }
    }
    Ok(Role { arn, created })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_names_fit_iam() {
        assert_eq!(default_role_name("training"), "stepwright-training");
        assert_eq!(default_role_name(&"a".repeat(80)).chars().count(), 64);
        assert_eq!(default_role_name("x(1)"), "stepwright-x-1-");
    }

    #[test]
    fn role_names_are_checked() {
        assert_eq!(parse_role_name("").unwrap(), "");
        assert!(parse_role_name("ok+=,.@_-1").is_ok());
        assert!(parse_role_name("no spaces").is_err());
        assert!(parse_role_name("a/b").is_err());
        assert!(parse_role_name(&"r".repeat(65)).is_err());
    }

    #[test]
    fn iam_documents_are_decoded() {
        assert_eq!(
            percent_decode("%7B%22Service%22%3A%22states.amazonaws.com%22%7D"),
            r#"{"Service":"states.amazonaws.com"}"#
        );
        assert_eq!(percent_decode("plain {} 100%"), "plain {} 100%");
    }
}
