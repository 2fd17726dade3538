//! What every Stepwright Lambda shares: object IO, error names, logging, the runtime entry point
