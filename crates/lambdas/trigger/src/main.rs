//! The trigger Lambda's bootstrap: `lambda_runtime` wiring only (the logic is in `lib.rs`).

use lambda_kit::{service_fn, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_kit::BoxError> {
    let config = trigger::TriggerConfig::from_env()?;
    let sfn = aws_sdk_sfn::Client::new(&lambda_kit::aws::sdk_config().await);
    lambda_kit::run(service_fn(|event: LambdaEvent<Value>| {
        trigger::handle(&sfn, &config, event.payload)
    }))
    .await
}
