//! The approval-gate Lambda's bootstrap: `lambda_runtime` wiring only (the logic is in `lib.rs`).
//! `APPROVAL_MODE` picks the handler: `gate` (default), `notify` or `callback`.

use approval_gate::{gate, human, now_unix, Clients, Mode};
use aws_lambda_events::event::lambda_function_urls::LambdaFunctionUrlRequest;
use lambda_kit::{service_fn, LambdaError, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), lambda_kit::BoxError> {
    let mode = Mode::parse(std::env::var("APPROVAL_MODE").ok().as_deref())?;
    let c = Clients::from_env().await;
    let env = |k: &str| std::env::var(k).ok();
    match mode {
        Mode::Gate => {
            lambda_kit::run(service_fn(|e: LambdaEvent<gate::GateInput>| {
                gate::evaluate(&c.sagemaker, &c.objects, e.payload)
            }))
            .await
        }
        Mode::Notify => {
            let cfg = human::HumanConfig::from_lookup(env, true)?;
            lambda_kit::run(service_fn(|e: LambdaEvent<human::NotifyInput>| {
                human::notify(&c.sns, &cfg, e.payload, now_unix())
            }))
            .await
        }
        Mode::Callback => {
            let cfg = human::HumanConfig::from_lookup(env, false)?;
            lambda_kit::run(service_fn(
                |e: LambdaEvent<LambdaFunctionUrlRequest>| async {
                    Ok::<_, LambdaError>(
                        human::handle_http(&c.sfn, &c.sagemaker, &cfg, e.payload, now_unix()).await,
                    )
                },
            ))
            .await
        }
    }
}
