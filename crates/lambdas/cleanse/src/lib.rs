//! Stepwright Lambda: cleanse
