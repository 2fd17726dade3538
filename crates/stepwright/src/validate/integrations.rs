//! Integration-pattern rules (owned by the integrations module, which holds the table): an
//! integration used with a pattern it does not support (`.waitForTaskToken` on SageMaker,
//! `.sync` on Lambda), `.sync`/`.waitForTaskToken`/activities in an EXPRESS machine, and a
//! `.waitForTaskToken` task whose payload does not pass the task token. Malformed suffixes are
//! the resource pass's.

use super::Ctx;
use crate::diagnostics::Diagnostic;
use crate::integrations::patterns::{check_places, CheckOptions};
use crate::model::ExecutionType;

/// The pass.
pub(super) fn check_pass(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    let options = CheckOptions {
        express: ctx.options.machine_type == ExecutionType::Express,
    };
    out.extend(check_places(&ctx.states, &options, false));
}
