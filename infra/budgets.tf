# Per pipeline with a budget_usd: a monthly cost budget costagent-<id> on the pipeline's cost allocation
# tag, email notifications at 80 % and 100 %, and a budget action that, at 100 %, attaches a deny policy
# to the Lambda role so costagent can no longer grow that pipeline. The tag costagent:pipeline must be
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
    sid       = "DenyGrowingGroup"
    effect    = "Deny"
    actions   = ["autoscaling:SetDesiredCapacity", "autoscaling:UpdateAutoScalingGroup"]
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
