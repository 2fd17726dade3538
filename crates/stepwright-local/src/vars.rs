//! Workflow variables (`Assign`), with AWS's scoping: a Parallel branch or Map iteration sees the
//! variables of its enclosing scope, and its own assignments stay inside it.
//!
//! The store is copy-on-write: entering a branch clones an `Arc`, and only a branch that assigns
//! copies the map.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use crate::history::Data;

/// The variables visible in one scope.
#[derive(Debug, Clone, Default)]
pub(crate) struct Vars {
    map: Arc<HashMap<Arc<str>, Data>>,
}

impl Vars {
    pub fn get(&self, name: &str) -> Option<Data> {
        self.map.get(name).cloned()
    }

    pub fn get_ref(&self, name: &str) -> Option<&Value> {
        self.map.get(name).map(|d| &**d)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Arc<str>, &Data)> {
        self.map.iter()
    }

    /// Applies assignments (all evaluated beforehand, so they see the old values).
    pub fn assign(&mut self, values: &[(Arc<str>, Value)]) {
        if values.is_empty() {
            return;
        }
        let m = Arc::make_mut(&mut self.map);
        for (k, v) in values {
            m.insert(k.clone(), Arc::new(v.clone()));
        }
    }

    /// A fresh, empty scope (Distributed Map child executions see no outer variables).
    pub fn empty() -> Vars {
        Vars::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn inner_scopes_do_not_leak() {
        let mut outer = Vars::default();
        outer.assign(&[("x".into(), json!(1))]);
        let mut inner = outer.clone();
        inner.assign(&[("y".into(), json!(2)), ("x".into(), json!(3))]);
        assert_eq!(*outer.get("x").unwrap(), json!(1));
        assert!(outer.get("y").is_none());
        assert_eq!(*inner.get("x").unwrap(), json!(3));
    }
}
