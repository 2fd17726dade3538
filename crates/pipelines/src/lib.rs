//! The Stepwright MLOps state machines, written with the builder
