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
