//! The validate Lambda bootstrap: `lambda_runtime` wired to [`validate::scale::handle_event`]
//! (a validate event, or the scale-out `batch` and `merge` modes).

use lambda_kit::{service_fn, LambdaEvent, ObjectStore};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_kit::BoxError> {
    let store = ObjectStore::from_env().await;
    lambda_kit::run(service_fn(|event: LambdaEvent<Value>| {
        let store = store.clone();
        async move { validate::scale::handle_event(&store, event.payload).await }
    }))
    .await
}
