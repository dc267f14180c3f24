output "state_machine_arn" {
  description = "ARN of the cycle state machine (Step Functions, STANDARD)."
  value       = aws_sfn_state_machine.cycle.arn
}

output "function_arns" {
  description = "Lambda ARNs by function name suffix (read-trigger, checkpoint-now, gather-state, plan, clamp, execute, record)."
  value       = { for key, fn in aws_lambda_function.this : key => fn.arn }
}

output "table_names" {
  description = "DynamoDB table names by role (audit, lease, idempotency)."
  value       = { for key, table in aws_dynamodb_table.this : key => table.name }
}

output "lambda_role_arn" {
  description = "IAM role shared by the Lambdas."
  value       = aws_iam_role.lambda.arn
}

output "state_machine_role_arn" {
  description = "IAM role the state machine runs as."
  value       = aws_iam_role.state_machine.arn
}

output "execution_enabled" {
  description = "Whether the Lambdas hold write permissions (var.enable_execution)."
  value       = var.enable_execution
}

output "ssm_parameters" {
  description = "SSM parameter names by pipeline id (mode, guardrails), plus the global kill switch."
  value = {
    pipelines   = { for id, _ in var.pipelines : id => { mode = aws_ssm_parameter.mode[id].name, guardrails = aws_ssm_parameter.guardrails[id].name } }
    kill_switch = aws_ssm_parameter.kill_switch.name
  }
}

output "schedule_arns" {
  description = "EventBridge Scheduler schedule ARNs by pipeline id."
  value       = { for id, schedule in aws_scheduler_schedule.pipeline : id => schedule.arn }
}

output "checkpoint_bucket" {
  description = "Name of the checkpoint bucket (COSTAGENT_CHECKPOINT_BUCKET)."
  value       = aws_s3_bucket.checkpoints.bucket
}

output "autoscaling_group_names" {
  description = "Auto Scaling group names (costagent-<id>) by pipeline id."
  value       = { for id, group in aws_autoscaling_group.pipeline : id => group.name }
}

output "budget_names" {
  description = "AWS Budget names by pipeline id, for pipelines with budget_usd."
  value       = { for id, budget in aws_budgets_budget.pipeline : id => budget.name }
}

output "alarm_names" {
  description = "CloudWatch alarms: failed executions, fallback rate, clamp rate."
  value       = concat([aws_cloudwatch_metric_alarm.failed_executions.alarm_name], [for alarm in aws_cloudwatch_metric_alarm.rate : alarm.alarm_name])
}

output "dashboard_name" {
  description = "CloudWatch dashboard with decisions, actions, rates and latencies."
  value       = aws_cloudwatch_dashboard.costagent.dashboard_name
}

output "anthropic_secret_arn" {
  description = "Secrets Manager secret the plan Lambda reads the Anthropic API key from (null with Bedrock or without Claude pipelines)."
  value       = local.anthropic_secret_arn
}

output "operator_policy_arns" {
  description = "IAM policies to attach to people: review (export, report, replay) and promote (also signoff, promote)."
  value = {
    review  = aws_iam_policy.operator_review.arn
    promote = aws_iam_policy.operator_promote.arn
  }
}
