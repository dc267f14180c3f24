resource "aws_lambda_layer_version" "dependencies" {
  layer_name               = "${var.name_prefix}-dependencies"
  description              = "costagent's third-party dependencies (scripts/build_lambda.sh)."
  filename                 = var.layer_zip_path
  source_code_hash         = filebase64sha256(var.layer_zip_path)
  compatible_runtimes      = ["python3.12"]
  compatible_architectures = [var.lambda_architecture]
}

resource "aws_cloudwatch_log_group" "function" {
  #checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts every log group at rest with service keys; a customer managed key would need its own key policy for the logs service and adds cost, with no reader outside this account.
  #checkov:skip=CKV_AWS_338:Operational logs, kept var.log_retention_days (default 30); each cycle's durable record is its audit table item (audit_ttl_days, default 400).
  for_each = local.functions

  name              = "/aws/lambda/${var.name_prefix}-${each.key}"
  retention_in_days = var.log_retention_days
  tags              = local.tags
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_115:Invocations are bounded by the state machine's cycles (one schedule per pipeline plus spot events); a reservation is carved out of the account's pool and fails on accounts with a low concurrency quota.
  #checkov:skip=CKV_AWS_116:Step Functions invokes these synchronously, retrying and catching each task; a dead-letter queue applies only to asynchronous invocations.
  #checkov:skip=CKV_AWS_117:The functions call only AWS APIs and the Anthropic API and reach nothing inside a VPC; a VPC would add NAT or endpoints without isolating anything.
  #checkov:skip=CKV_AWS_173:The environment holds resource names and settings only; the Anthropic key stays in Secrets Manager and is read at run time. Lambda encrypts the environment at rest with its AWS managed key.
  #checkov:skip=CKV_AWS_272:The package is built by scripts/build_lambda.sh and uploaded by Terraform from the same checkout; there is no signing profile or signed artifact to verify.
  for_each = local.functions

  function_name    = "${var.name_prefix}-${each.key}"
  description      = "costagent state machine step (${each.value.module})."
  role             = aws_iam_role.lambda.arn
  runtime          = "python3.12"
  architectures    = [var.lambda_architecture]
  handler          = "${each.value.module}.handler"
  filename         = var.lambda_zip_path
  source_code_hash = filebase64sha256(var.lambda_zip_path)
  layers           = [aws_lambda_layer_version.dependencies.arn]
  memory_size      = each.value.memory
  timeout          = each.value.timeout

  environment {
    variables = each.key == "plan" ? merge(local.lambda_environment, local.llm_environment) : local.lambda_environment
  }

  tracing_config {
    mode = "Active"
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.function[each.key].name
  }

  tags = local.tags

  depends_on = [aws_iam_role_policy.lambda]
}
