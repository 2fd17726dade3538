//! Run AWS Step Functions state machines offline: deterministic, mockable, as AWS does
