// The Stepwright stack, as infra/sam/template.yaml deploys it: the data bucket whose uploads start
// the pipelines, the Lambdas (Rust, provided.al2023, arm64), the three state machines from
// statemachines/ with their generated least-privilege policies, human approval (SNS topic,
// callback function URL) and the SageMaker execution role.

import * as fs from "fs";
import * as path from "path";

import { Aws, CfnCondition, CfnOutput, CfnParameter, Duration, Fn, RemovalPolicy, Stack, StackProps } from "aws-cdk-lib";
import * as events from "aws-cdk-lib/aws-events";
import * as targets from "aws-cdk-lib/aws-events-targets";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as s3 from "aws-cdk-lib/aws-s3";
import * as sagemaker from "aws-cdk-lib/aws-sagemaker";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import * as sns from "aws-cdk-lib/aws-sns";
import * as sfn from "aws-cdk-lib/aws-stepfunctions";
import { Construct } from "constructs";

import { definition, definitionTokens, generatedPolicy, MachineName, policyStatements, ROOT } from "./pipelines";

/** Options of {@link StepwrightStack}. */
export interface StepwrightStackProps extends StackProps {
  /**
   * The code of a Lambda binary (`cleanse`, `validate`, `approval-gate`, `trigger`). Default:
   * the cargo-lambda build output `<lambdaDir>/<binary>/` (see {@link lambdaDir}).
   */
  readonly lambdaCode?: (binary: string) => lambda.Code;
  /**
   * Where cargo-lambda wrote the binaries (`<dir>/<binary>/bootstrap`). Default: the
   * `STEPWRIGHT_LAMBDA_DIR` environment variable, else the first of `<repository>/target/lambda/arm64`
   * (`make lambdas`) and `$CARGO_TARGET_DIR/lambda` or `<repository>/target/lambda` (`sam build`,
   * `cargo lambda build --release --arm64`) that holds the binaries.
   */
  readonly lambdaDir?: string;
  /** The repository root holding statemachines/ and infra/policies/ (default: this checkout). */
  readonly root?: string;
}

/** The directory the default Lambda code comes from (see {@link StepwrightStackProps.lambdaDir}). */
export function lambdaDir(props: StepwrightStackProps = {}): string {
  if (props.lambdaDir) return props.lambdaDir;
  if (process.env.STEPWRIGHT_LAMBDA_DIR) return process.env.STEPWRIGHT_LAMBDA_DIR;
  const target = path.resolve(ROOT, process.env.CARGO_TARGET_DIR ?? path.join(ROOT, "target"));
  const candidates = [path.join(ROOT, "target", "lambda", "arm64"), path.join(target, "lambda")];
  return candidates.find((d) => fs.existsSync(path.join(d, "cleanse", "bootstrap"))) ?? candidates[candidates.length - 1];
}

function cargoLambdaCode(dir: string): (binary: string) => lambda.Code {
  return (binary) => {
    const bootstrap = path.join(dir, binary, "bootstrap");
    if (!fs.existsSync(bootstrap)) {
      throw new Error(
        `${bootstrap} does not exist: build the Lambdas first ` +
          "(`make lambdas`, or `cargo lambda build --release --arm64` at the repository root; " +
          "or set STEPWRIGHT_LAMBDA_DIR)",
      );
    }
    return lambda.Code.fromAsset(path.join(dir, binary));
  };
}

const LOWERCASE_NAME = "^[a-z0-9](-?[a-z0-9])*$";
const POSITIVE = "^[1-9][0-9]*$";
const PERCENT = "^([0-9]|[1-9][0-9]|100)$";

/** The Stepwright pipelines stack. */
export class StepwrightStack extends Stack {
  constructor(scope: Construct, id: string, props: StepwrightStackProps = {}) {
    super(scope, id, props);
    const root = props.root ?? ROOT;
    const code = props.lambdaCode ?? cargoLambdaCode(lambdaDir(props));
    const param = (name: string, def: string, description: string, pattern?: string, max?: number) =>
      new CfnParameter(this, name, {
        type: "String",
        default: def,
        description,
        allowedPattern: pattern,
        maxLength: max,
      }).valueAsString;

    // --- parameters (the same as the SAM template's) ------------------------------------------
    const modelName = param("ModelName", "churn", "Prefix of training job, model and endpoint config names.", LOWERCASE_NAME, 22);
    const endpointName = param("EndpointName", "churn", "The SageMaker endpoint to create or update (lowercase).", LOWERCASE_NAME, 63);
    const groupName = param("ModelPackageGroupName", "churn", "The model package group (created by this stack).", "^[a-zA-Z0-9](-*[a-zA-Z0-9])*$", 63);
    const trainingImage = param(
      "TrainingImage",
      "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
      "Training and inference image (the default is built-in XGBoost in us-east-1).",
    );
    const trainingInstanceType = param("TrainingInstanceType", "ml.m5.xlarge", "Training instance type.");
    const inferenceInstanceType = param("InferenceInstanceType", "ml.m5.large", "Endpoint instance type.");
    const transformInstanceType = param("TransformInstanceType", "ml.m5.xlarge", "Batch transform instance type.");
    const minAuc = param("MinValidationAuc", "0.75", "The lowest validation:auc the gate accepts.", "^(0(\\.[0-9]+)?|1(\\.0+)?)$");
    const manual = new CfnParameter(this, "RequireManualApproval", {
      type: "String",
      default: "true",
      allowedValues: ["true", "false"],
      description: "Ask a person before deploying every model that passes the gate.",
    }).valueAsString;
    const approvalTimeout = param("ApprovalTimeoutSeconds", "86400", "How long a human approval may take.", POSITIVE);
    const approverEmail = param("ApproverEmail", "", "Optional e-mail address subscribed to approval requests.");
    const alertEmail = param("AlertEmail", "", "Optional e-mail address subscribed to pipeline failures.");
    const trainingPrefix = param("TrainingPrefix", "incoming/training/", "Uploads here start the training pipeline.");
    const inferencePrefix = param("InferencePrefix", "incoming/inference/", "Uploads here start batch inference.");
    const datasetPrefix = param("DatasetPrefix", "incoming/datasets/", "A marker object here starts the scale-out pipeline.");
    const datasetMarker = param("DatasetMarker", "_SUCCESS", "The marker object's name.");
    const cleanseConfigKey = param("CleanseConfigKey", "config/cleanse.json", "Cleanse rules (training data).");
    const suiteKey = param("ValidationSuiteKey", "config/suite.json", "Expectation suite (training data).");
    const inferenceCleanseKey = param("InferenceCleanseConfigKey", "config/cleanse-inference.json", "Cleanse rules (data to score).");
    const inferenceSuiteKey = param("InferenceSuiteKey", "config/suite-inference.json", "Expectation suite (data to score).");
    const holdoutPrefix = param("ValidationDataPrefix", "holdout/", "The fixed hold-out set models are compared on.");
    const shardBatchSize = param("ShardBatchSize", "20", "Scale-out: objects per child execution.", POSITIVE);
    const shardConcurrency = param("ShardMaxConcurrency", "50", "Scale-out: child executions at once.", POSITIVE);
    const tolerated = param("ToleratedFailurePercentage", "5", "Scale-out: tolerated failed objects (%).", PERCENT);
    const maxInvalid = param("MaxInvalidObjectPercentage", "0", "Scale-out: objects that may fail their checks (%).", PERCENT);

    // --- data ---------------------------------------------------------------------------------
    const bucket = new s3.Bucket(this, "DataBucket", {
      encryption: s3.BucketEncryption.S3_MANAGED,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // EventBridge notifications set on the bucket itself: the `eventBridgeEnabled` prop would add
    // a custom-resource Lambda (and its s3:PutBucketNotification on `*`) for the same effect.
    (bucket.node.defaultChild as s3.CfnBucket).notificationConfiguration = {
      eventBridgeConfiguration: { eventBridgeEnabled: true },
    };
    const objects = (prefix: string) => bucket.arnForObjects(prefix);

    // --- notifications ------------------------------------------------------------------------
    const snsKey = kms.Alias.fromAliasName(this, "SnsKey", "alias/aws/sns");
    const alertTopic = new sns.Topic(this, "AlertTopic", { displayName: "Stepwright pipeline failures", masterKey: snsKey });
    const approvalTopic = new sns.Topic(this, "ApprovalTopic", { displayName: "Stepwright model approvals", masterKey: snsKey });
    const notEmpty = (id: string, value: string) =>
      new CfnCondition(this, id, { expression: Fn.conditionNot(Fn.conditionEquals(value, "")) });
    const hasApprover = notEmpty("HasApproverEmail", approverEmail);
    const hasAlert = notEmpty("HasAlertEmail", alertEmail);
    const approverSub = new sns.Subscription(this, "ApproverSubscription", {
      topic: approvalTopic,
      protocol: sns.SubscriptionProtocol.EMAIL,
      endpoint: approverEmail,
    });
    (approverSub.node.defaultChild as sns.CfnSubscription).cfnOptions.condition = hasApprover;
    const alertSub = new sns.Subscription(this, "AlertSubscription", {
      topic: alertTopic,
      protocol: sns.SubscriptionProtocol.EMAIL,
      endpoint: alertEmail,
    });
    (alertSub.node.defaultChild as sns.CfnSubscription).cfnOptions.condition = hasAlert;

    const secret = new secretsmanager.Secret(this, "ApprovalSecret", {
      description: "Stepwright approval link signing key",
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
    });

    // --- SageMaker ----------------------------------------------------------------------------
    const group = new sagemaker.CfnModelPackageGroup(this, "ModelPackageGroup", {
      modelPackageGroupName: groupName,
      modelPackageGroupDescription: "Models trained by the Stepwright training pipeline",
    });
    const sagemakerRole = new iam.Role(this, "SageMakerRole", {
      assumedBy: new iam.ServicePrincipal("sagemaker.amazonaws.com"),
      inlinePolicies: {
        data: new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({ actions: ["s3:ListBucket"], resources: [bucket.bucketArn] }),
            new iam.PolicyStatement({ actions: ["s3:GetObject"], resources: [objects("*")] }),
            new iam.PolicyStatement({
              actions: ["s3:PutObject", "s3:AbortMultipartUpload"],
              resources: [objects("models/*"), objects("predictions/*")],
            }),
          ],
        }),
        runtime: new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({
              actions: ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
              resources: [`arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:/aws/sagemaker/*`],
            }),
            new iam.PolicyStatement({
              actions: ["cloudwatch:PutMetricData"],
              resources: ["*"],
              conditions: { StringLike: { "cloudwatch:namespace": "/aws/sagemaker/*" } },
            }),
            new iam.PolicyStatement({ actions: ["ecr:GetAuthorizationToken"], resources: ["*"] }),
            new iam.PolicyStatement({
              actions: ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
              resources: [`arn:${Aws.PARTITION}:ecr:${Aws.REGION}:*:repository/*`],
            }),
          ],
        }),
      },
    });

    // --- Lambdas ------------------------------------------------------------------------------
    const fn = (id: string, binary: string, description: string, extra: Partial<lambda.FunctionProps> = {}) =>
      new lambda.Function(this, id, {
        code: code(binary),
        handler: "bootstrap",
        runtime: lambda.Runtime.PROVIDED_AL2023,
        architecture: lambda.Architecture.ARM_64,
        memorySize: 1024,
        timeout: Duration.seconds(900),
        loggingFormat: lambda.LoggingFormat.JSON,
        description,
        ...extra,
      });
    const packages = `arn:${Aws.PARTITION}:sagemaker:${Aws.REGION}:${Aws.ACCOUNT_ID}:model-package/${groupName}/*`;

    const cleanse = fn("CleanseFunction", "cleanse", "Stepwright cleanse (streams CSV/JSON Lines through cleansing rules)");
    const validate = fn("ValidateFunction", "validate", "Stepwright validate (expectation suites, profiles; scale-out batch and merge)");
    for (const [f, writes] of [
      [cleanse, ["clean/*"]],
      [validate, ["clean/*", "profiles/*"]],
    ] as const) {
      f.addToRolePolicy(new iam.PolicyStatement({ actions: ["s3:ListBucket"], resources: [bucket.bucketArn] }));
      f.addToRolePolicy(new iam.PolicyStatement({ actions: ["s3:GetObject"], resources: [objects("*")] }));
      f.addToRolePolicy(
        new iam.PolicyStatement({ actions: ["s3:PutObject", "s3:AbortMultipartUpload"], resources: writes.map(objects) }),
      );
    }

    const small = { timeout: Duration.seconds(30), memorySize: 256 };
    const gate = fn("ApprovalGateFunction", "approval-gate", "Stepwright approval gate (thresholds, comparison, model registry)", {
      ...small,
      timeout: Duration.seconds(60),
      environment: { APPROVAL_MODE: "gate" },
    });
    gate.addToRolePolicy(new iam.PolicyStatement({ actions: ["s3:GetObject"], resources: [objects("*")] }));
    gate.addToRolePolicy(
      new iam.PolicyStatement({ actions: ["sagemaker:CreateModelPackage"], resources: [group.attrModelPackageGroupArn, packages] }),
    );
    // List* has no resource-level permissions in SageMaker
    gate.addToRolePolicy(new iam.PolicyStatement({ actions: ["sagemaker:ListModelPackages"], resources: ["*"] }));
    gate.addToRolePolicy(new iam.PolicyStatement({ actions: ["sagemaker:DescribeModelPackage"], resources: [packages] }));

    const secretValue = secret.secretValue.unsafeUnwrap();
    const callback = fn("ApprovalCallbackFunction", "approval-gate", "Stepwright human approval callback (function URL)", {
      ...small,
      environment: { APPROVAL_MODE: "callback", APPROVAL_SECRET: secretValue },
    });
    // The signed, expiring link is the credential (see the approval-gate crate's security model).
    const callbackUrl = callback.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE });
    // by name: a Ref would make a cycle (the machine calls the notify function, which links here)
    callback.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ["states:SendTaskFailure", "states:SendTaskSuccess"],
        resources: [`arn:${Aws.PARTITION}:states:${Aws.REGION}:${Aws.ACCOUNT_ID}:stateMachine:${Aws.STACK_NAME}-training`],
      }),
    );
    callback.addToRolePolicy(
      new iam.PolicyStatement({ actions: ["sagemaker:DescribeModelPackage", "sagemaker:UpdateModelPackage"], resources: [packages] }),
    );

    const notify = fn("ApprovalNotifyFunction", "approval-gate", "Stepwright human approval request (signed link to SNS)", {
      ...small,
      environment: {
        APPROVAL_MODE: "notify",
        APPROVAL_TOPIC_ARN: approvalTopic.topicArn,
        APPROVAL_CALLBACK_URL: callbackUrl.url,
        APPROVAL_SECRET: secretValue,
      },
    });
    notify.addToRolePolicy(new iam.PolicyStatement({ actions: ["sns:Publish"], resources: [approvalTopic.topicArn] }));

    // --- state machines -----------------------------------------------------------------------
    const s3Url = (key: string) => Fn.sub("s3://${Bucket}/${Key}", { Bucket: bucket.bucketName, Key: key });
    const machine = (id: string, name: MachineName, substitutions: Record<string, string>) => {
      const wanted = definitionTokens(name, root).sort();
      const given = Object.keys(substitutions).sort();
      if (JSON.stringify(wanted) !== JSON.stringify(given)) {
        throw new Error(
          `${name}: substitutions ${JSON.stringify(given)} != the definition's tokens ${JSON.stringify(wanted)}`,
        );
      }
      const role = new iam.Role(this, `${id}Role`, {
        assumedBy: new iam.ServicePrincipal("states.amazonaws.com"),
        inlinePolicies: {
          generated: new iam.PolicyDocument({
            statements: policyStatements(generatedPolicy(name, root), substitutions),
          }),
        },
      });
      const sm = new sfn.CfnStateMachine(this, id, {
        stateMachineName: `${Aws.STACK_NAME}-${name}`,
        stateMachineType: "STANDARD",
        roleArn: role.roleArn,
        definition: definition(name, root),
        definitionSubstitutions: substitutions,
      });
      sm.addMetadata("stepwright:machine", name);
      return sm;
    };

    const common = {
      AlertTopicArn: alertTopic.topicArn,
      DataBucket: bucket.bucketName,
      ValidateFunctionArn: validate.functionArn,
    };
    const training = machine("TrainingStateMachine", "training", {
      ...common,
      ApprovalGateFunctionArn: gate.functionArn,
      ApprovalNotifyFunctionArn: notify.functionArn,
      ApprovalTimeoutSeconds: approvalTimeout,
      CleanseConfigUrl: s3Url(cleanseConfigKey),
      CleanseFunctionArn: cleanse.functionArn,
      EndpointName: endpointName,
      InferenceInstanceType: inferenceInstanceType,
      MinValidationAuc: minAuc,
      ModelName: modelName,
      ModelPackageGroupName: groupName,
      RequireManualApproval: manual,
      SageMakerRoleArn: sagemakerRole.roleArn,
      TrainingImage: trainingImage,
      TrainingInstanceType: trainingInstanceType,
      ValidationDataUri: s3Url(holdoutPrefix),
      ValidationSuiteUrl: s3Url(suiteKey),
    });
    const batch = machine("BatchInferenceStateMachine", "batch-inference", {
      ...common,
      CleanseFunctionArn: cleanse.functionArn,
      EndpointName: endpointName,
      InferenceCleanseConfigUrl: s3Url(inferenceCleanseKey),
      InferenceSuiteUrl: s3Url(inferenceSuiteKey),
      TransformInstanceType: transformInstanceType,
    });
    const scaleOut = machine("ScaleOutStateMachine", "scale-out", {
      ...common,
      CleanseConfigUrl: s3Url(cleanseConfigKey),
      MaxInvalidObjectPercentage: maxInvalid,
      ShardBatchSize: shardBatchSize,
      ShardMaxConcurrency: shardConcurrency,
      ToleratedFailurePercentage: tolerated,
      ValidationSuiteUrl: s3Url(suiteKey),
    });

    // --- S3 triggers: Object Created under a prefix → trigger Lambda → StartExecution ---------
    const trigger = (id: string, sm: sfn.CfnStateMachine, prefix: string, description: string, suffix?: string) => {
      const f = fn(id, "trigger", description, {
        timeout: Duration.seconds(30),
        memorySize: 128,
        environment: {
          STATE_MACHINE_ARN: sm.ref,
          TRIGGER_PREFIXES: prefix,
          ...(suffix ? { TRIGGER_SUFFIXES: suffix } : {}),
        },
      });
      f.addToRolePolicy(new iam.PolicyStatement({ actions: ["states:StartExecution"], resources: [sm.ref] }));
      new events.Rule(this, `${id}ObjectCreated`, {
        eventPattern: {
          source: ["aws.s3"],
          detailType: ["Object Created"],
          detail: { bucket: { name: [bucket.bucketName] }, object: { key: [{ prefix }] } },
        },
        targets: [new targets.LambdaFunction(f)],
      });
      return f;
    };
    trigger("TrainingTriggerFunction", training, trainingPrefix, "Stepwright S3 trigger for the training pipeline");
    trigger("InferenceTriggerFunction", batch, inferencePrefix, "Stepwright S3 trigger for the batch inference pipeline");
    trigger(
      "DatasetTriggerFunction",
      scaleOut,
      datasetPrefix,
      "Stepwright S3 trigger for the scale-out pipeline (a data set's marker object)",
      `/${datasetMarker}`,
    );

    // --- outputs ------------------------------------------------------------------------------
    new CfnOutput(this, "DataBucketName", { value: bucket.bucketName, description: "Upload data here (see the *Prefix parameters)." });
    new CfnOutput(this, "TrainingStateMachineArn", { value: training.ref });
    new CfnOutput(this, "BatchInferenceStateMachineArn", { value: batch.ref });
    new CfnOutput(this, "ScaleOutStateMachineArn", { value: scaleOut.ref });
    new CfnOutput(this, "ApprovalCallbackUrl", { value: callbackUrl.url, description: "The function URL approval links point to." });
    new CfnOutput(this, "ApprovalTopicArn", { value: approvalTopic.topicArn, description: "Subscribe approvers to this topic." });
    new CfnOutput(this, "AlertTopicArn", { value: alertTopic.topicArn, description: "Pipeline failures are published here." });
    new CfnOutput(this, "SageMakerRoleArn", { value: sagemakerRole.roleArn });
    new CfnOutput(this, "ModelPackageGroupNameOutput", { value: groupName });
  }
}
