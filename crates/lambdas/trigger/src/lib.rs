//! Stepwright Lambda: trigger
