# Alarms and a dashboard. The cycle metrics come from the record Lambda as embedded metric format
# (costagent.audit.cycle_metrics: namespace POWERTOOLS_METRICS_NAMESPACE, dimension service); rates are
# computed here with metric math, so an hour without cycles is neither a breach nor a gap.

locals {
  metrics_namespace  = var.name_prefix
  metrics_dimensions = { service = var.name_prefix }
  rate_period_s      = 3600
}

# Any failed, timed-out or aborted execution: a cycle that could not even record itself (AuditWriteFailed),
# or a state machine error. Normal failures of a step are caught inside the machine and recorded.
resource "aws_cloudwatch_metric_alarm" "failed_executions" {
  alarm_name          = "${var.name_prefix}-failed-executions"
  alarm_description   = "costagent cycle executions failed, timed out or were aborted: open the Step Functions console and read the execution's history."
  comparison_operator = "GreaterThanOrEqualToThreshold"
  evaluation_periods  = 1
  threshold           = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_action_arns
  ok_actions          = var.alarm_action_arns

  metric_query {
    id          = "failed"
    expression  = "FILL(execution_failed, 0) + FILL(execution_timed_out, 0) + FILL(execution_aborted, 0)"
    label       = "Executions failed, timed out or aborted"
    return_data = true
  }

  dynamic "metric_query" {
    for_each = { execution_failed = "ExecutionsFailed", execution_timed_out = "ExecutionsTimedOut", execution_aborted = "ExecutionsAborted" }
    content {
      id = metric_query.key
      metric {
        namespace   = "AWS/States"
        metric_name = metric_query.value
        dimensions  = { StateMachineArn = aws_sfn_state_machine.cycle.arn }
        period      = 300
        stat        = "Sum"
      }
    }
  }

  tags = local.tags
}

# Rates over an hour of cycles, 100 * <metric> / Cycles. Fallback: Claude unusable too often (timeouts,
# overload, answers out of schema), so the rules planner is deciding. Clamp: the validator rewrites
# proposals constantly, so the planner and the guardrails disagree (guardrails too tight, or the prompt or
# model needs attention).
locals {
  rate_alarms = {
    fallback = {
      metric      = "FallbackCycles"
      threshold   = var.fallback_rate_alarm_percent
      label       = "Fallback rate (%)"
      description = "fell back to the rules planner: check the plan Lambda's logs and the audit items' fallback_reason."
    }
    clamp = {
      metric      = "ClampedCycles"
      threshold   = var.clamp_rate_alarm_percent
      label       = "Clamp rate (%)"
      description = "were changed by the clamp validator: read the audit items' clamps to see which rule fires."
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "rate" {
  for_each = local.rate_alarms

  alarm_name          = "${var.name_prefix}-${each.key}-rate"
  alarm_description   = "More than ${each.value.threshold}% of costagent cycles in an hour ${each.value.description}"
  comparison_operator = "GreaterThanThreshold"
  evaluation_periods  = 1
  threshold           = each.value.threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_action_arns
  ok_actions          = var.alarm_action_arns

  metric_query {
    id          = "rate"
    expression  = "IF(cycles > 0, 100 * selected / cycles, 0)"
    label       = each.value.label
    return_data = true
  }

  dynamic "metric_query" {
    for_each = { cycles = "Cycles", selected = each.value.metric }
    content {
      id = metric_query.key
      metric {
        namespace   = local.metrics_namespace
        metric_name = metric_query.value
        dimensions  = local.metrics_dimensions
        period      = local.rate_period_s
        stat        = "Sum"
      }
    }
  }

  tags = local.tags
}

locals {
  dashboard_actions = ["SCALE_UP", "SCALE_DOWN", "CHECKPOINT", "MIGRATE", "WAIT"]

  # ["namespace", "metric", "service", "<prefix>", {options}] rows for the dashboard's widgets.
  costagent_metric = { for name in concat(
    [for action in local.dashboard_actions : "Action_${action}"],
    ["Cycles", "FallbackCycles", "ClampedCycles", "ActionsDone", "ActionsWouldRun", "FailedActions", "DecisionLatency", "LlmLatency", "LlmInputTokens", "LlmOutputTokens"],
  ) : name => [local.metrics_namespace, name, "service", var.name_prefix] }

  dashboard_widgets = [
    {
      title   = "Decisions by action"
      stacked = true
      stat    = "Sum"
      metrics = [for action in local.dashboard_actions : concat(local.costagent_metric["Action_${action}"], [{ label = action }])]
    },
    {
      title   = "Actions run (execute mode) and would have run (observe mode)"
      stacked = false
      stat    = "Sum"
      metrics = [for name in ["ActionsDone", "ActionsWouldRun", "FailedActions"] : local.costagent_metric[name]]
    },
    {
      title   = "Fallback and clamp rates (%)"
      stacked = false
      stat    = "Sum"
      metrics = [
        [{ expression = "IF(cycles > 0, 100 * fallback / cycles, 0)", label = "Fallback rate", id = "fallback_rate" }],
        [{ expression = "IF(cycles > 0, 100 * clamped / cycles, 0)", label = "Clamp rate", id = "clamp_rate" }],
        concat(local.costagent_metric["Cycles"], [{ id = "cycles", visible = false }]),
        concat(local.costagent_metric["FallbackCycles"], [{ id = "fallback", visible = false }]),
        concat(local.costagent_metric["ClampedCycles"], [{ id = "clamped", visible = false }]),
      ]
    },
    {
      title   = "Decision latency, trigger to record (ms)"
      stacked = false
      stat    = "p50"
      metrics = [
        concat(local.costagent_metric["DecisionLatency"], [{ stat = "p50", label = "median" }]),
        concat(local.costagent_metric["DecisionLatency"], [{ stat = "p95", label = "p95" }]),
        concat(local.costagent_metric["DecisionLatency"], [{ stat = "Maximum", label = "max" }]),
      ]
    },
    {
      title   = "Claude latency (ms)"
      stacked = false
      stat    = "p50"
      metrics = [
        concat(local.costagent_metric["LlmLatency"], [{ stat = "p50", label = "median" }]),
        concat(local.costagent_metric["LlmLatency"], [{ stat = "p95", label = "p95" }]),
        concat(local.costagent_metric["LlmLatency"], [{ stat = "SampleCount", label = "calls", yAxis = "right" }]),
      ]
    },
    {
      title   = "Claude tokens"
      stacked = true
      stat    = "Sum"
      metrics = [for name in ["LlmInputTokens", "LlmOutputTokens"] : local.costagent_metric[name]]
    },
    {
      title   = "Step Functions executions"
      stacked = false
      stat    = "Sum"
      metrics = [for name in ["ExecutionsStarted", "ExecutionsSucceeded", "ExecutionsFailed", "ExecutionsTimedOut"] : ["AWS/States", name, "StateMachineArn", aws_sfn_state_machine.cycle.arn]]
    },
  ]
}

resource "aws_cloudwatch_dashboard" "costagent" {
  dashboard_name = var.name_prefix
  dashboard_body = jsonencode({
    widgets = [
      for index, widget in local.dashboard_widgets : {
        type   = "metric"
        x      = (index % 2) * 12
        y      = floor(index / 2) * 6
        width  = 12
        height = 6
        properties = {
          title   = widget.title
          region  = var.region
          view    = "timeSeries"
          stacked = widget.stacked
          stat    = widget.stat
          period  = 300
          metrics = widget.metrics
        }
      }
    ]
  })
}

# BudgetStop runs asynchronously (SNS); if it fails after Lambda's own retries, someone must suspend the
# group's launches by hand, and the budget action's deny policy is the only stop until then.
resource "aws_cloudwatch_metric_alarm" "budget_stop_errors" {
  count = length(aws_lambda_function.budget_stop)

  alarm_name          = "${var.name_prefix}-budget-stop-errors"
  alarm_description   = "costagent BudgetStop failed to suspend a pipeline's launches at its budget limit: run aws autoscaling suspend-processes --scaling-processes Launch on the group named in its logs."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.budget_stop[0].function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_action_arns
  ok_actions          = var.alarm_action_arns
  tags                = local.tags
}
