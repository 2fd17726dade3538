#!/usr/bin/env node
// The CDK app: `cdk synth` / `cdk deploy` (infra/cdk/README.md and the repository README).
import { App } from "aws-cdk-lib";

import { StepwrightStack } from "../lib/stack";

const app = new App();
new StepwrightStack(app, app.node.tryGetContext("stackName") ?? "Stepwright", {
  description:
    "Stepwright MLOps pipelines: training, batch inference and scale-out state machines, their Lambdas, " +
    "the data bucket whose uploads start them, and human approval",
});
