# Invokers of the cycle state machine: one Scheduler schedule per pipeline and two EC2 spot event
# rules. Each invoker has its own role allowed only states:StartExecution on the cycle.

# --- Scheduler: one schedule per pipeline, input shaped like events/scheduled-event.json. ---

data "aws_iam_policy_document" "scheduler_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

data "aws_iam_policy_document" "start_cycle" {
  statement {
    sid       = "StartCycle"
    actions   = ["states:StartExecution"]
    resources = [aws_sfn_state_machine.cycle.arn]
  }
}

resource "aws_iam_role" "scheduler" {
  for_each = var.pipelines

  name               = "${var.name_prefix}-schedule-${each.key}"
  assume_role_policy = data.aws_iam_policy_document.scheduler_assume.json
  tags               = merge(local.tags, { "costagent:pipeline" = each.key })
}

resource "aws_iam_role_policy" "scheduler" {
  for_each = var.pipelines

  name   = "start-cycle"
  role   = aws_iam_role.scheduler[each.key].id
  policy = data.aws_iam_policy_document.start_cycle.json
}

resource "aws_scheduler_schedule" "pipeline" {
  #checkov:skip=CKV_AWS_297:The schedule holds only the state machine ARN and an input naming the pipeline, nothing secret; the AWS owned key is enough.
  for_each = var.pipelines

  name                = "${var.name_prefix}-${each.key}"
  description         = "Starts a costagent cycle for pipeline ${each.key}."
  schedule_expression = each.value.schedule_rate

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_sfn_state_machine.cycle.arn
    role_arn = aws_iam_role.scheduler[each.key].arn

    # jsonencode writes < and > as \u003c and \u003e, and Scheduler replaces its context attributes
    # only where they are written out literally: put the brackets back.
    input = replace(replace(jsonencode({
      version       = "0"
      id            = "<aws.scheduler.execution-id>"
      "detail-type" = "Scheduled Event"
      source        = "aws.scheduler"
      account       = local.account_id
      time          = "<aws.scheduler.scheduled-time>"
      region        = var.region
      resources     = ["<aws.scheduler.schedule-arn>"]
      detail        = { pipeline_id = each.key }
    }), "\\u003c", "<"), "\\u003e", ">")

    retry_policy {
      maximum_event_age_in_seconds = 300
      maximum_retry_attempts       = 2
    }
  }

  depends_on = [aws_iam_role_policy.scheduler]
}

# --- EC2 spot signals: interruption warnings and rebalance recommendations start a cycle at once. ---

locals {
  spot_events = {
    interruption = "EC2 Spot Instance Interruption Warning"
    rebalance    = "EC2 Instance Rebalance Recommendation"
  }
}

data "aws_iam_policy_document" "events_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "spot_events" {
  name               = "${var.name_prefix}-spot-events"
  assume_role_policy = data.aws_iam_policy_document.events_assume.json
  tags               = local.tags
}

resource "aws_iam_role_policy" "spot_events" {
  name   = "start-cycle"
  role   = aws_iam_role.spot_events.id
  policy = data.aws_iam_policy_document.start_cycle.json
}

resource "aws_cloudwatch_event_rule" "spot" {
  for_each = local.spot_events

  name        = "${var.name_prefix}-spot-${each.key}"
  description = "Starts a costagent cycle on: ${each.value}."
  event_pattern = jsonencode({
    source        = ["aws.ec2"]
    "detail-type" = [each.value]
  })
  tags = local.tags
}

resource "aws_cloudwatch_event_target" "spot" {
  for_each = local.spot_events

  rule     = aws_cloudwatch_event_rule.spot[each.key].name
  arn      = aws_sfn_state_machine.cycle.arn
  role_arn = aws_iam_role.spot_events.arn

  retry_policy {
    maximum_event_age_in_seconds = 120
    maximum_retry_attempts       = 3
  }
}
