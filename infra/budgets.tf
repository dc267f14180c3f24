# Per pipeline with a budget_usd: a monthly cost budget costagent-<id> on the pipeline's cost allocation
# tag, email notifications at 80 % and 100 %, and two stops at 100 %: a budget action attaches a deny
# policy to the Lambda role so costagent can no longer launch for that pipeline, and the notification's SNS
# topic invokes the BudgetStop Lambda, which suspends the group's Launch process so nothing new starts,
# spot replacements included (functions/costagent/budget_stop.py). The tag costagent:pipeline must be
# activated as a cost allocation tag in the billing console for the filter to match.

locals {
  budgeted_pipelines = { for id, p in var.pipelines : id => p if p.budget_usd != null }
}

resource "aws_budgets_budget" "pipeline" {
  for_each = local.budgeted_pipelines

  name         = "${local.group_prefix}${each.key}"
  budget_type  = "COST"
  limit_amount = format("%.2f", each.value.budget_usd)
  limit_unit   = "USD"
  time_unit    = "MONTHLY"

  cost_filter {
    name   = "TagKeyValue"
    values = ["user:costagent:pipeline$${each.key}"]
  }

  dynamic "notification" {
    for_each = [80, 100]
    content {
      comparison_operator        = "GREATER_THAN"
      threshold                  = notification.value
      threshold_type             = "PERCENTAGE"
      notification_type          = "ACTUAL"
      subscriber_email_addresses = var.budget_notification_emails
      # At the limit, also the BudgetStop Lambda: the group stops launching (see below).
      subscriber_sns_topic_arns = notification.value == 100 && var.budget_suspends_launches ? [aws_sns_topic.budget_limit[each.key].arn] : []
    }
  }

  tags = merge(local.tags, { "costagent:pipeline" = each.key })

  lifecycle {
    precondition {
      condition     = length(var.budget_notification_emails) > 0
      error_message = "Pipelines with budget_usd need var.budget_notification_emails (budget notifications and actions require a subscriber)."
    }
  }
}

# --- What the budget action applies: deny growing the pipeline's group. ---

data "aws_iam_policy_document" "budget_deny" {
  for_each = local.budgeted_pipelines

  statement {
    sid       = "DenyLaunchingWorkers"
    effect    = "Deny"
    actions   = ["ec2:RunInstances"]
    resources = [aws_launch_template.worker[each.key].arn]
  }

  statement {
    # SetDesiredCapacity stays allowed so costagent can still scale in; with launches suspended (BudgetStop)
    # a higher desired capacity launches nothing.
    sid       = "DenyGrowingGroup"
    effect    = "Deny"
    actions   = ["autoscaling:UpdateAutoScalingGroup"]
    resources = [aws_autoscaling_group.pipeline[each.key].arn]
  }
}

resource "aws_iam_policy" "budget_deny" {
  for_each = local.budgeted_pipelines

  name        = "${var.name_prefix}-budget-deny-${each.key}"
  description = "Attached by the costagent-${each.key} budget action at 100 %: no more workers for ${each.key}."
  policy      = data.aws_iam_policy_document.budget_deny[each.key].json
  tags        = merge(local.tags, { "costagent:pipeline" = each.key })
}

# --- The role AWS Budgets assumes to run the actions: attach/detach exactly those policies. ---

data "aws_iam_policy_document" "budgets_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["budgets.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "budget_action" {
  count = length(local.budgeted_pipelines) > 0 ? 1 : 0

  name               = "${var.name_prefix}-budget-actions"
  assume_role_policy = data.aws_iam_policy_document.budgets_assume.json
  tags               = local.tags
}

data "aws_iam_policy_document" "budget_action" {
  count = length(local.budgeted_pipelines) > 0 ? 1 : 0

  statement {
    sid       = "AttachDenyPolicies"
    actions   = ["iam:AttachRolePolicy", "iam:DetachRolePolicy"]
    resources = [aws_iam_role.lambda.arn]
    condition {
      test     = "ArnEquals"
      variable = "iam:PolicyARN"
      values   = [for policy in aws_iam_policy.budget_deny : policy.arn]
    }
  }
}

resource "aws_iam_role_policy" "budget_action" {
  count = length(local.budgeted_pipelines) > 0 ? 1 : 0

  name   = "apply-deny-policies"
  role   = aws_iam_role.budget_action[0].id
  policy = data.aws_iam_policy_document.budget_action[0].json
}

resource "aws_budgets_budget_action" "stop_growth" {
  for_each = local.budgeted_pipelines

  budget_name        = aws_budgets_budget.pipeline[each.key].name
  action_type        = "APPLY_IAM_POLICY"
  approval_model     = "AUTOMATIC"
  notification_type  = "ACTUAL"
  execution_role_arn = aws_iam_role.budget_action[0].arn

  action_threshold {
    action_threshold_type  = "PERCENTAGE"
    action_threshold_value = 100
  }

  definition {
    iam_action_definition {
      policy_arn = aws_iam_policy.budget_deny[each.key].arn
      roles      = [aws_iam_role.lambda.name]
    }
  }

  dynamic "subscriber" {
    for_each = var.budget_notification_emails
    content {
      address           = subscriber.value
      subscription_type = "EMAIL"
    }
  }

  tags = merge(local.tags, { "costagent:pipeline" = each.key })

  depends_on = [aws_iam_role_policy.budget_action]
}

# --- BudgetStop: the limit notification suspends launches of the pipeline's group. ---

locals {
  budget_stop_pipelines = var.budget_suspends_launches ? local.budgeted_pipelines : {}
}

data "aws_iam_policy_document" "budget_topic" {
  for_each = local.budget_stop_pipelines

  statement {
    sid       = "BudgetsPublish"
    actions   = ["sns:Publish"]
    resources = ["arn:${local.partition}:sns:${var.region}:${local.account_id}:${local.group_prefix}budget-${each.key}"]
    principals {
      type        = "Service"
      identifiers = ["budgets.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

# The topic name is how BudgetStop finds the pipeline (costagent.budget_stop.pipeline_of_topic).
resource "aws_sns_topic" "budget_limit" {
  #checkov:skip=CKV_AWS_26:AWS Budgets cannot publish to a topic encrypted with the AWS managed SNS key, and the message holds only budget figures.
  for_each = local.budget_stop_pipelines

  name   = "${local.group_prefix}budget-${each.key}"
  policy = data.aws_iam_policy_document.budget_topic[each.key].json
  tags   = merge(local.tags, { "costagent:pipeline" = each.key })
}

resource "aws_sns_topic_subscription" "budget_stop" {
  for_each = local.budget_stop_pipelines

  topic_arn = aws_sns_topic.budget_limit[each.key].arn
  protocol  = "lambda"
  endpoint  = aws_lambda_function.budget_stop[0].arn
}

resource "aws_lambda_permission" "budget_stop" {
  for_each = local.budget_stop_pipelines

  statement_id  = "BudgetTopic-${each.key}"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.budget_stop[0].function_name
  principal     = "sns.amazonaws.com"
  source_arn    = aws_sns_topic.budget_limit[each.key].arn
}

data "aws_iam_policy_document" "budget_stop" {
  count = length(local.budget_stop_pipelines) > 0 ? 1 : 0

  statement {
    sid       = "SuspendLaunchesOfManagedGroups"
    actions   = ["autoscaling:SuspendProcesses"]
    resources = [for id, _ in local.budget_stop_pipelines : "arn:${local.partition}:autoscaling:${var.region}:${local.account_id}:autoScalingGroup:*:autoScalingGroupName/${local.group_prefix}${id}"]
    condition {
      test     = "StringEquals"
      variable = "autoscaling:ResourceTag/ManagedBy"
      values   = ["costagent"]
    }
  }

  statement {
    sid       = "RecordInAuditTable"
    actions   = ["dynamodb:PutItem"]
    resources = [aws_dynamodb_table.this["audit"].arn]
  }

  statement {
    sid       = "OwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.budget_stop[0].arn}:*"]
  }

  statement {
    sid       = "Tracing"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }
}

resource "aws_iam_role" "budget_stop" {
  count = length(local.budget_stop_pipelines) > 0 ? 1 : 0

  name               = "${var.name_prefix}-budget-stop"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
  tags               = local.tags
}

resource "aws_iam_role_policy" "budget_stop" {
  count = length(local.budget_stop_pipelines) > 0 ? 1 : 0

  name   = "suspend-launches"
  role   = aws_iam_role.budget_stop[0].id
  policy = data.aws_iam_policy_document.budget_stop[0].json
}

resource "aws_cloudwatch_log_group" "budget_stop" {
  #checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts every log group at rest with service keys; a customer managed key would need its own key policy for the logs service and adds cost, with no reader outside this account.
  #checkov:skip=CKV_AWS_338:Operational logs, kept var.log_retention_days (default 30); each stop is also recorded in the audit table (audit_ttl_days, default 400).
  count = length(local.budget_stop_pipelines) > 0 ? 1 : 0

  name              = "/aws/lambda/${var.name_prefix}-budget-stop"
  retention_in_days = var.log_retention_days
  tags              = local.tags
}

resource "aws_lambda_function" "budget_stop" {
  #checkov:skip=CKV_AWS_115:Runs once per pipeline whose budget reaches its limit; a reservation is carved out of the account's pool and fails on accounts with a low concurrency quota.
  #checkov:skip=CKV_AWS_116:SNS invokes it asynchronously and Lambda retries a failed event twice; if the event is still lost, the budget action's deny policy above remains the stop.
  #checkov:skip=CKV_AWS_117:Calls only AWS APIs (Auto Scaling, DynamoDB) and reaches nothing inside a VPC; a VPC would add NAT or endpoints without isolating anything.
  #checkov:skip=CKV_AWS_173:The environment holds resource names and settings only, no secret; Lambda encrypts it at rest with its AWS managed key.
  #checkov:skip=CKV_AWS_272:The package is built by scripts/build_lambda.sh and uploaded by Terraform from the same checkout; there is no signing profile or signed artifact to verify.
  count = length(local.budget_stop_pipelines) > 0 ? 1 : 0

  function_name    = "${var.name_prefix}-budget-stop"
  description      = "costagent BudgetStop: a pipeline's budget limit suspends launches of its group."
  role             = aws_iam_role.budget_stop[0].arn
  runtime          = "python3.12"
  architectures    = [var.lambda_architecture]
  handler          = "costagent.handlers.budget_stop.handler"
  filename         = var.lambda_zip_path
  source_code_hash = filebase64sha256(var.lambda_zip_path)
  layers           = [aws_lambda_layer_version.dependencies.arn]
  memory_size      = 256
  timeout          = 30

  environment {
    variables = local.lambda_environment
  }

  tracing_config {
    mode = "Active"
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.budget_stop[0].name
  }

  tags = local.tags

  depends_on = [aws_iam_role_policy.budget_stop]
}
