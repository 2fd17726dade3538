//! `${Name}` substitution tokens, as SAM's `DefinitionSubstitutions` replaces them:
//! `--sub Name=value` (repeatable) and `--substitutions FILE` (a JSON object of names to values).
//!
//! Replacement is textual, like SAM's, but a value is JSON-escaped where it lands inside a JSON
//! string (a quote or backslash in a value cannot break the definition). A token left without a
//! value is an error naming it: a definition with `"FunctionName": "${CleanseFunctionArn}"` would
//! otherwise run with a function that does not exist.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

/// Token values, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Substitutions {
    values: BTreeMap<String, String>,
}

/// Token names as `stepwright deploy` reads them: letters, digits, `_`, `.`, `-`, `:` (so that
/// `${AWS::Region}` is a token to fill in, never text passed through).
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-:".contains(c))
}

impl Substitutions {
    /// Reads the files (in order), then the `Name=value` pairs (later ones win).
    pub fn load(files: &[impl AsRef<Path>], pairs: &[String]) -> Result<Substitutions, String> {
        let mut s = Substitutions::default();
        for f in files {
            let f = f.as_ref();
            let text = std::fs::read_to_string(f)
                .map_err(|e| format!("cannot read the substitutions file {}: {e}", f.display()))?;
            s.add_json(&text)
                .map_err(|e| format!("{}: {e}", f.display()))?;
        }
        for p in pairs {
            let (k, v) = p
                .split_once('=')
                .ok_or_else(|| format!("--sub `{p}` is not Name=value"))?;
            s.insert(k.trim(), v)?;
        }
        Ok(s)
    }

    /// Adds the names of a JSON object (`{"Name": "value", "Count": 3}`; numbers and booleans
    /// are written as their JSON text).
    pub fn add_json(&mut self, text: &str) -> Result<(), String> {
        let v: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        let Value::Object(o) = v else {
            return Err("expected a JSON object of names to values".into());
        };
        for (k, v) in o {
            let text = match v {
                Value::String(s) => s,
                Value::Number(_) | Value::Bool(_) => v.to_string(),
                other => {
                    return Err(format!(
                        "the value of `{k}` is {other}: give a string, number or boolean"
                    ))
                }
            };
            self.insert(&k, &text)?;
        }
        Ok(())
    }

    /// Sets one value.
    pub fn insert(&mut self, name: &str, value: &str) -> Result<(), String> {
        if !valid_name(name) {
            return Err(format!(
                "`{name}` is not a token name (letters, digits, _ . - :)"
            ));
        }
        self.values.insert(name.to_string(), value.to_string());
        Ok(())
    }

    /// Replaces every `${Name}` in `text`; the names without a value are the error.
    pub fn apply(&self, text: &str) -> Result<String, Vec<String>> {
        let mut out = String::with_capacity(text.len());
        let mut missing: Vec<String> = Vec::new();
        let mut rest = text;
        while let Some(i) = rest.find("${") {
            out.push_str(&rest[..i]);
            let after = &rest[i + 2..];
            match after.find('}').map(|j| (&after[..j], j)) {
                Some((name, j)) if valid_name(name) => {
                    match self.values.get(name) {
                        Some(v) => {
                            // escaped as the inside of a JSON string
                            let quoted = Value::String(v.clone()).to_string();
                            out.push_str(&quoted[1..quoted.len() - 1]);
                        }
                        None => {
                            if !missing.iter().any(|m| m == name) {
                                missing.push(name.to_string());
                            }
                            out.push_str(&rest[i..i + 2 + j + 1]);
                        }
                    }
                    rest = &after[j + 1..];
                }
                _ => {
                    out.push_str("${");
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        if missing.is_empty() {
            Ok(out)
        } else {
            Err(missing)
        }
    }
}

/// The error text for tokens without a value.
pub fn missing_message(file: &str, missing: &[String]) -> String {
    let list: Vec<String> = missing.iter().map(|m| format!("${{{m}}}")).collect();
    format!(
        "{file} has substitution tokens without a value: {} (give --sub {}=VALUE or --substitutions FILE)",
        list.join(", "),
        missing[0]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_escapes_and_reports_missing() {
        let mut s = Substitutions::default();
        s.insert("Fn", "arn:aws:lambda:us-east-1:1:function:f")
            .unwrap();
        s.insert("Q", "say \"hi\"\\").unwrap();
        assert_eq!(
            s.apply(r#"{"a": "${Fn}", "b": "x-${Q}", "c": "$.x", "d": "${not a token}"}"#)
                .unwrap(),
            r#"{"a": "arn:aws:lambda:us-east-1:1:function:f", "b": "x-say \"hi\"\\", "c": "$.x", "d": "${not a token}"}"#
        );
        assert_eq!(
            s.apply(r#"["${A}", "${B}", "${A}", "${Fn}"]"#).unwrap_err(),
            ["A", "B"]
        );
        assert_eq!(s.apply("tail ${").unwrap(), "tail ${");
        // the names deploy accepts are tokens here too: never passed through unfilled
        assert_eq!(
            s.apply(r#"{"r": "arn:aws:sns:${AWS::Region}:1:t", "x": "${a.b-c}"}"#)
                .unwrap_err(),
            ["AWS::Region", "a.b-c"]
        );
        s.insert("AWS::Region", "eu-west-1").unwrap();
        assert_eq!(s.apply("${AWS::Region}").unwrap(), "eu-west-1");
    }

    #[test]
    fn pairs_and_files() {
        let dir = std::env::temp_dir().join(format!("sw-subs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("subs.json");
        std::fs::write(&f, r#"{"A": "one", "N": 3, "B": true}"#).unwrap();
        let s = Substitutions::load(&[&f], &["A=two".to_string(), "C=x=y".to_string()]).unwrap();
        assert_eq!(s.apply("${A} ${N} ${B} ${C}").unwrap(), "two 3 true x=y");
        assert!(Substitutions::load(&[&f], &["novalue".to_string()])
            .unwrap_err()
            .contains("Name=value"));
        assert!(Substitutions::load(&[&f], &["bad name=1".to_string()]).is_err());
        std::fs::write(&f, "[1]").unwrap();
        assert!(Substitutions::load(&[&f], &[])
            .unwrap_err()
            .contains("JSON object"));
        std::fs::write(&f, r#"{"A": {"x": 1}}"#).unwrap();
        assert!(Substitutions::load(&[&f], &[]).is_err());
        assert!(Substitutions::load(&[dir.join("none.json")], &[])
            .unwrap_err()
            .contains("cannot read"));
        std::fs::remove_dir_all(&dir).ok();
    }
}
