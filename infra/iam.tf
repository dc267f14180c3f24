# One role per invoker. Policies come from aws_iam_policy_document, scoped to exact ARNs and tags.

# --- State machine: invoke exactly the cycle's Lambdas, write its own logs and traces. ---

data "aws_iam_policy_document" "state_machine_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["states.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "state_machine" {
  name               = "${var.name_prefix}-state-machine"
  assume_role_policy = data.aws_iam_policy_document.state_machine_assume.json
  tags               = local.tags
}

data "aws_iam_policy_document" "state_machine" {
  statement {
    sid       = "InvokeCycleFunctions"
    actions   = ["lambda:InvokeFunction"]
    resources = [for fn in aws_lambda_function.this : fn.arn]
  }

  # CloudWatch Logs log delivery for Step Functions does not support resource-level permissions.
  statement {
    sid = "DeliverLogs"
    actions = [
      "logs:CreateLogDelivery",
      "logs:GetLogDelivery",
      "logs:UpdateLogDelivery",
      "logs:DeleteLogDelivery",
      "logs:ListLogDeliveries",
      "logs:PutResourcePolicy",
      "logs:DescribeResourcePolicies",
      "logs:DescribeLogGroups",
    ]
    resources = ["*"]
  }

  statement {
    sid       = "Tracing"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "state_machine" {
  name   = "cycle"
  role   = aws_iam_role.state_machine.id
  policy = data.aws_iam_policy_document.state_machine.json
}

# --- Lambdas: read-only on EC2 / Auto Scaling / pricing / budgets, their own tables, bucket and
# parameters; writes on pipelines only when var.enable_execution. ---

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "lambda" {
  name               = "${var.name_prefix}-functions"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
  tags               = local.tags
}

data "aws_iam_policy_document" "lambda" {
  statement {
    sid       = "OwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = [for group in aws_cloudwatch_log_group.function : "${group.arn}:*"]
  }

  statement {
    sid       = "Tracing"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }

  # Describe/Get calls of these services do not support resource-level permissions.
  statement {
    sid = "ReadFleet"
    actions = [
      "ec2:DescribeInstances",
      "ec2:DescribeSpotPriceHistory",
      "ec2:DescribeInstanceTypes",
      "autoscaling:DescribeAutoScalingGroups",
      "autoscaling:DescribeScalingActivities",
      "ssm:ListCommandInvocations",
      "ssm:GetCommandInvocation",
      "cloudwatch:PutMetricData",
    ]
    resources = ["*"]
  }

  # DescribeBudget (gather reads the budget left) needs ViewBudget, which takes the budget's ARN.
  statement {
    sid       = "ReadPipelineBudgets"
    actions   = ["budgets:ViewBudget"]
    resources = ["arn:${local.partition}:budgets::${local.account_id}:budget/${local.group_prefix}*"]
  }

  statement {
    sid       = "ReadPipelineParameters"
    actions   = ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"]
    resources = [local.ssm_pipeline_arn, "arn:${local.partition}:ssm:${var.region}:${local.account_id}:parameter${var.ssm_prefix}"]
  }

  statement {
    sid = "OwnTables"
    actions = [
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:UpdateItem",
      "dynamodb:DeleteItem",
      "dynamodb:Query",
      "dynamodb:ConditionCheckItem",
    ]
    resources = flatten([for table in aws_dynamodb_table.this : [table.arn, "${table.arn}/index/*"]])
  }

  statement {
    sid       = "ReadCheckpoints"
    actions   = ["s3:GetObject", "s3:ListBucket"]
    resources = ["arn:${local.partition}:s3:::${local.checkpoint_bucket}", "arn:${local.partition}:s3:::${local.checkpoint_bucket}/*"]
  }

  dynamic "statement" {
    for_each = local.anthropic_secret_arn == null ? [] : [local.anthropic_secret_arn]
    content {
      sid       = "ReadAnthropicKey"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = var.llm_provider == "bedrock" ? [1] : []
    content {
      sid     = "InvokeClaudeOnBedrock"
      actions = ["bedrock:InvokeModel"]
      resources = [
        "arn:${local.partition}:bedrock:${var.region}::foundation-model/anthropic.*",
        "arn:${local.partition}:bedrock:${var.region}:${local.account_id}:inference-profile/*anthropic.*",
      ]
    }
  }

  # Writes: only with enable_execution, only on groups named <prefix>-<id> tagged ManagedBy=costagent.
  dynamic "statement" {
    for_each = var.enable_execution ? [1] : []
    content {
      sid = "ActOnManagedGroups"
      actions = [
        "autoscaling:SetDesiredCapacity",
        "autoscaling:TerminateInstanceInAutoScalingGroup",
        "autoscaling:UpdateAutoScalingGroup",
      ]
      resources = [local.group_arn]
      condition {
        test     = "StringEquals"
        variable = "autoscaling:ResourceTag/ManagedBy"
        values   = ["costagent"]
      }
    }
  }

  # UpdateAutoScalingGroup with a mixed instances policy passes the group's launch template.
  dynamic "statement" {
    for_each = var.enable_execution ? [1] : []
    content {
      sid       = "UseManagedLaunchTemplates"
      actions   = ["ec2:RunInstances", "ec2:CreateTags"]
      resources = ["arn:${local.partition}:ec2:${var.region}:${local.account_id}:launch-template/*"]
      condition {
        test     = "StringEquals"
        variable = "aws:ResourceTag/ManagedBy"
        values   = ["costagent"]
      }
    }
  }

  dynamic "statement" {
    for_each = var.enable_execution ? [1] : []
    content {
      sid       = "CheckpointManagedInstances"
      actions   = ["ssm:SendCommand"]
      resources = ["arn:${local.partition}:ec2:${var.region}:${local.account_id}:instance/*"]
      condition {
        test     = "StringEquals"
        variable = "ssm:resourceTag/ManagedBy"
        values   = ["costagent"]
      }
    }
  }

  dynamic "statement" {
    for_each = var.enable_execution ? [1] : []
    content {
      sid       = "RunShellScriptDocument"
      actions   = ["ssm:SendCommand"]
      resources = ["arn:${local.partition}:ssm:${var.region}::document/AWS-RunShellScript"]
    }
  }

  dynamic "statement" {
    for_each = var.enable_execution ? [1] : []
    content {
      sid       = "WriteCheckpointMarkers"
      actions   = ["s3:PutObject"]
      resources = ["arn:${local.partition}:s3:::${local.checkpoint_bucket}/*"]
    }
  }
}

resource "aws_iam_role_policy" "lambda" {
  name   = "functions"
  role   = aws_iam_role.lambda.id
  policy = data.aws_iam_policy_document.lambda.json
}
