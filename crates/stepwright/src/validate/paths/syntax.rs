//! Syntax of JSONPath, reference paths and intrinsic functions, as the validator needs it:
//! accept or reject, with the offset and a message.
//!
//! Nothing here recurses on the input except intrinsic calls, whose depth is capped at AWS's
//! limit (10), so no input can overflow the stack.

/// What a field expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PathKind {
    /// Any JSONPath (wildcards, filters, slices allowed).
    Path,
    /// A reference path: one node (names and indexes only).
    Reference,
    /// A JSONPath or an intrinsic function call.
    PathOrIntrinsic,
}

/// Which roots a path may start from besides `$` (the input).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Roots {
    /// `$$`, the context object.
    pub context: bool,
    /// `$name`, a workflow variable.
    pub variables: bool,
}

impl Roots {
    /// `$`, `$$` and `$name`.
    pub const ALL: Roots = Roots {
        context: true,
        variables: true,
    };
    /// `$` only (ResultPath).
    pub const INPUT_ONLY: Roots = Roots {
        context: false,
        variables: false,
    };
}

/// A syntax error: where (byte offset in the string) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    pub offset: usize,
    pub message: String,
}

fn err<T>(offset: usize, message: impl Into<String>) -> Result<T, SyntaxError> {
    Err(SyntaxError {
        offset,
        message: message.into(),
    })
}

/// Checks a JSONPath (or reference path) string with [`crate::jsonpath`], then the roots the
/// field allows.
pub(crate) fn check_path(s: &str, kind: PathKind, roots: Roots) -> Result<(), SyntaxError> {
    use crate::jsonpath::{Path, Root};
    if is_plain_dotted(s) {
        return Ok(()); // what most paths are: valid for every kind and root, no parse needed
    }
    let parsed = match kind {
        PathKind::Reference => Path::parse_reference(s),
        PathKind::Path | PathKind::PathOrIntrinsic => Path::parse(s),
    };
    let path = parsed.map_err(|e| SyntaxError {
        offset: e.offset,
        message: e.message,
    })?;
    match path.root() {
        Root::Context if !roots.context => err(0, "the context object ($$) cannot be used here"),
        Root::Variable(_) if !roots.variables => err(
            0,
            "a workflow variable cannot be used here; the path must start with $",
        ),
        _ => Ok(()),
    }
}

/// `$` or `$.a.b_1...` (names of ASCII letters, digits and `_`): a reference path from the input
/// that every field accepts.
fn is_plain_dotted(s: &str) -> bool {
    let Some(rest) = s.strip_prefix('$') else {
        return false;
    };
    if rest.is_empty() {
        return true;
    }
    let Some(rest) = rest.strip_prefix('.') else {
        return false;
    };
    rest.split('.').all(|name| {
        !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    })
}

/// Checks an intrinsic function call with [`crate::intrinsics`]: syntax, names, nesting (at most
/// `intrinsics::MAX_NESTING`, 10), arity and the argument types that are known statically.
pub(crate) fn check_intrinsic(s: &str) -> Result<(), SyntaxError> {
    let call = crate::intrinsics::Call::parse(s).map_err(|e| SyntaxError {
        offset: e.offset,
        message: e.message,
    })?;
    let problems = call
        .arity_problems()
        .into_iter()
        .chain(call.type_problems());
    match problems.min_by_key(|p| p.offset) {
        Some(p) => err(p.offset, p.message),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(s: &str) -> bool {
        check_path(s, PathKind::Path, Roots::ALL).is_ok()
    }
    fn refp(s: &str) -> bool {
        check_path(s, PathKind::Reference, Roots::ALL).is_ok()
    }

    #[test]
    fn paths() {
        for ok in [
            "$",
            "$$",
            "$.a",
            "$.a.b",
            "$['a b']",
            "$.a[0]",
            "$.a[-1:]",
            "$.a[1:3]",
            "$.a[*]",
            "$..a",
            "$.a[?(@.x > 1)]",
            "$.a[0,1]",
            "$$.Execution.Input",
            "$var",
            "$var.a",
            "$.books[-2]",
            "$.a-b",
            "$.x[?(@.OutputKey == 'FooBar')].OutputValue",
            "$.*",
        ] {
            assert!(path(ok), "{ok}");
        }
        for bad in [
            ".guid",
            "..guid",
            "()",
            "$...",
            "$.",
            "$.a[",
            "$ .a",
            "$.a b",
            "$.a[]",
            "$.a[x]",
            "bug$.a",
            // Jayway (which AWS uses) has no script expressions and needs quoted literals.
            "$[(@.length-1)].bar",
            "$.x[?(@.OutputKey == FooBar)]",
        ] {
            assert!(!path(bad), "{bad}");
        }
    }

    #[test]
    fn reference_paths() {
        assert!(refp("$.a.b[0]['c']"));
        for bad in [
            "$..a",
            "$.a[*]",
            "$.a[0:1]",
            "$.a[?(@.x)]",
            "$.a[0,1]",
            "$.*",
        ] {
            assert!(!refp(bad), "{bad}");
        }
        assert!(check_path("$foo", PathKind::Reference, Roots::INPUT_ONLY).is_err());
        assert!(check_path("$$.x", PathKind::Reference, Roots::INPUT_ONLY).is_err());
        assert!(check_path("$.foo", PathKind::Reference, Roots::INPUT_ONLY).is_ok());
    }

    #[test]
    fn intrinsics() {
        for ok in [
            "States.Format('Welcome to {} {}\\'s playlist.', $.firstName, $.lastName)",
            "States.Array('Foo', 2020, $.someJson, null)",
            "States.ArrayRange(1, 9, 2)",
            "States.JsonMerge($.a, $.b, false)",
            "States.UUID()",
            "States.MathRandom($.start, $.end)",
            "States.Hash($.Data, 'SHA-256')",
            "States.ArrayGetItem($.x[?(@.OutputKey == 'FooBar')].OutputValue, 0)",
            "States.Format('{}{}', $.field1, $field2)",
            "States.StringToJson(States.JsonToString($.a))",
        ] {
            assert_eq!(check_intrinsic(ok), Ok(()), "{ok}");
        }
        for bad in [
            "States.MathAdd(1,'-1')",
            "States.Nope($.a)",
            "States.UUID(1)",
            "States.Format()",
            "States.Format('x'",
            "States.Format('a\\nb')",
            "States.Hash($.a, 'SHA-2')",
            "States.Array(1) x",
            "States.Array(bogus)",
        ] {
            assert!(check_intrinsic(bad).is_err(), "{bad}");
        }
        let deep = (0..11).fold("$.x".to_string(), |acc, _| {
            format!("States.JsonToString({acc})")
        });
        assert!(check_intrinsic(&deep)
            .unwrap_err()
            .message
            .contains("nested"));
        let ok = (0..10).fold("$.x".to_string(), |acc, _| {
            format!("States.JsonToString({acc})")
        });
        assert_eq!(check_intrinsic(&ok), Ok(()));
        let very_deep = "States.Array(".repeat(100_000);
        assert!(check_intrinsic(&very_deep).is_err());
    }
}
