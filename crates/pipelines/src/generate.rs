//! What `make statemachines` writes: the definitions, their IAM policies, and the generated
//! blocks of docs/pipelines.md (token table, Mermaid diagrams).

use std::fmt::Write as _;

use crate::tokens::{self, TOKENS};
use crate::{machines, PipelineError};

/// One generated file: its name inside the output directory and its contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    /// `training.asl.json`, `training.policy.json`, ...
    pub name: String,
    /// The text, ending with a newline.
    pub contents: String,
}

fn with_newline(mut s: String) -> String {
    if !s.ends_with('\n') {
        s.push('\n');
    }
    s
}

/// The generated policy of a machine: least privilege, with the `${Name}` tokens kept in the
/// resources (`${CleanseFunctionArn}`, `arn:aws:sagemaker:*:*:endpoint/${EndpointName}`), so that
/// a template can scope them with the values it substitutes into the definition.
pub fn policy(machine: &stepwright::StateMachine) -> stepwright::iam::Policy {
    machine.iam_policy_with(&stepwright::iam::PolicyOptions {
        keep_substitutions: true,
        ..Default::default()
    })
}

/// Every file of statemachines/: `<name>.asl.json` (pretty, stable field order) and
/// `<name>.policy.json` (the least-privilege policy from [`stepwright::iam`]).
///
/// ```
/// let files = pipelines::generate::files()?;
/// assert!(files.iter().any(|f| f.name == "training.asl.json"));
/// assert!(files.iter().any(|f| f.name == "scale-out.policy.json"));
/// # Ok::<(), pipelines::PipelineError>(())
/// ```
pub fn files() -> Result<Vec<File>, PipelineError> {
    let mut out = Vec::new();
    for (name, machine) in machines()? {
        out.push(File {
            name: format!("{name}.asl.json"),
            contents: with_newline(machine.to_json_pretty()),
        });
        out.push(File {
            name: format!("{name}.policy.json"),
            contents: with_newline(policy(&machine).document.to_json_pretty()),
        });
    }
    Ok(out)
}

/// The generated blocks of docs/pipelines.md, by marker name: `tokens` (the substitution
/// tokens table) and `mermaid:<name>` (each machine's diagram).
pub fn doc_blocks() -> Result<Vec<(String, String)>, PipelineError> {
    let built = machines()?;
    let mut blocks = Vec::new();
    let mut table = String::from("| Token | Used by | What it is | Example |\n|---|---|---|---|\n");
    for t in TOKENS {
        let users: Vec<String> = built
            .iter()
            .filter(|(_, m)| tokens::find(&m.to_json()).iter().any(|n| n == t.name))
            .map(|(n, _)| format!("`{n}`"))
            .collect();
        let _ = writeln!(
            table,
            "| `${{{}}}` | {} | {} | `{}` |",
            t.name,
            users.join(", "),
            t.description.replace('|', "\\|"),
            t.example
        );
    }
    blocks.push(("tokens".to_string(), table));
    for (name, machine) in &built {
        blocks.push((
            format!("mermaid:{name}"),
            format!("```mermaid\n{}```\n", with_newline(machine.to_mermaid())),
        ));
    }
    Ok(blocks)
}

fn markers(name: &str) -> (String, String) {
    (
        format!("<!-- generated:{name} (make statemachines) -->\n"),
        format!("<!-- /generated:{name} -->"),
    )
}

/// Replaces each generated block of `doc` (between `<!-- generated:NAME (make statemachines) -->`
/// and `<!-- /generated:NAME -->`) with its current contents. Every block must be present.
///
/// ```
/// let doc = "# Tokens\n<!-- generated:tokens (make statemachines) -->\nold\n<!-- /generated:tokens -->\n";
/// let blocks = vec![("tokens".to_string(), "new\n".to_string())];
/// let out = pipelines::generate::update_blocks(doc, &blocks).unwrap();
/// assert!(out.contains("-->\nnew\n<!-- /generated:tokens -->"));
/// assert!(pipelines::generate::update_blocks("no markers", &blocks).is_err());
/// ```
pub fn update_blocks(doc: &str, blocks: &[(String, String)]) -> Result<String, String> {
    let mut out = doc.to_string();
    for (name, contents) in blocks {
        let (open, close) = markers(name);
        let start = out
            .find(&open)
            .ok_or_else(|| format!("the marker `{}` is missing", open.trim_end()))?;
        let body = start + open.len();
        let end = out[body..].find(&close).map(|i| body + i).ok_or_else(|| {
            format!(
                "the marker `{close}` is missing (after `{}`)",
                open.trim_end()
            )
        })?;
        out.replace_range(body..end, contents);
    }
    Ok(out)
}
