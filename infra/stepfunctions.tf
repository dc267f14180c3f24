resource "aws_cloudwatch_log_group" "state_machine" {
  name              = "/aws/vendedlogs/states/${var.name_prefix}-cycle"
  retention_in_days = var.log_retention_days
  tags              = local.tags
}

resource "aws_sfn_state_machine" "cycle" {
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
