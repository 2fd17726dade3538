//! Stepwright Lambda: validate
