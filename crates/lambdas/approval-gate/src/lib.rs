//! Stepwright Lambda: approval-gate
