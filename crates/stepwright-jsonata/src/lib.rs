//! A JSONata 2.x parser and evaluator with the AWS Step Functions additions, on serde_json
