//! The cleanse Lambda bootstrap: `lambda_runtime` wired to [`cleanse::handler::handle`].

use lambda_kit::{service_fn, LambdaEvent, ObjectStore};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_kit::BoxError> {
    let store = ObjectStore::from_env().await;
    lambda_kit::run(service_fn(|event: LambdaEvent<Value>| {
        let store = store.clone();
        async move { cleanse::handler::handle(&store, event.payload).await }
    }))
    .await
}
