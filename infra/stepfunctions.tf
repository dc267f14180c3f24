resource "aws_cloudwatch_log_group" "state_machine" {
  #checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts every log group at rest with service keys; a customer managed key would need its own key policy for the logs service and adds cost, with no reader outside this account.
  #checkov:skip=CKV_AWS_338:Operational logs, kept var.log_retention_days (default 30); each cycle's durable record is its audit table item (audit_ttl_days, default 400).
  name              = "/aws/vendedlogs/states/${var.name_prefix}-cycle"
  retention_in_days = var.log_retention_days
  tags              = local.tags
}

resource "aws_sfn_state_machine" "cycle" {
  #checkov:skip=CKV_AWS_285:Execution data is left out of the logs on purpose: it carries the gathered pipeline state and the planner's output. Each cycle is recorded in the audit table, and ERROR-level logging keeps the failures.
  name     = "${var.name_prefix}-cycle"
  type     = "STANDARD"
  role_arn = aws_iam_role.state_machine.arn

  definition = templatefile("${path.module}/../statemachine/cycle.asl.json", {
    read_trigger_function_arn = aws_lambda_function.this["read-trigger"].arn
    checkpoint_function_arn   = aws_lambda_function.this["checkpoint-now"].arn
    gather_function_arn       = aws_lambda_function.this["gather-state"].arn
    plan_function_arn         = aws_lambda_function.this["plan"].arn
    clamp_function_arn        = aws_lambda_function.this["clamp"].arn
    execute_function_arn      = aws_lambda_function.this["execute"].arn
    record_function_arn       = aws_lambda_function.this["record"].arn
  })

  logging_configuration {
    log_destination        = "${aws_cloudwatch_log_group.state_machine.arn}:*"
    include_execution_data = false
    level                  = "ERROR"
  }

  tracing_configuration {
    enabled = true
  }

  tags = local.tags

  depends_on = [aws_iam_role_policy.state_machine]
}
