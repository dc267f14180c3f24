# Policies for the people who review and promote pipelines (docs/observation.md). Terraform creates them
# and attaches them to nobody: attach them to your reviewers' and promoters' roles or groups. The
# observation gate is a process control, so keep ssm:PutParameter on the mode parameters to the holders of
# the promote policy: with it, `aws ssm put-parameter` bypasses the gate.

# costagent export | report | replay against DynamoDB: read the audit trail, nothing else.
data "aws_iam_policy_document" "operator_review" {
  statement {
    sid       = "ReadAuditTrail"
    actions   = ["dynamodb:Query"]
    resources = [aws_dynamodb_table.this["audit"].arn]
  }
}

resource "aws_iam_policy" "operator_review" {
  name        = "${var.name_prefix}-operator-review"
  description = "costagent export, report and replay: read the pipelines' audit trail."
  policy      = data.aws_iam_policy_document.operator_review.json
  tags        = local.tags
}

# costagent signoff | promote: the review's reads, plus recording operator acts and switching a mode.
data "aws_iam_policy_document" "operator_promote" {
  source_policy_documents = [data.aws_iam_policy_document.operator_review.json]

  statement {
    sid       = "RecordOperatorActs"
    actions   = ["dynamodb:PutItem"]
    resources = [aws_dynamodb_table.this["audit"].arn]
  }

  statement {
    sid       = "ReadModesAndKillSwitch"
    actions   = ["ssm:GetParameters"]
    resources = concat([for parameter in aws_ssm_parameter.mode : parameter.arn], [aws_ssm_parameter.kill_switch.arn])
  }

  statement {
    sid       = "SwitchModes"
    actions   = ["ssm:PutParameter"]
    resources = [for parameter in aws_ssm_parameter.mode : parameter.arn]
  }
}

resource "aws_iam_policy" "operator_promote" {
  name        = "${var.name_prefix}-operator-promote"
  description = "costagent signoff and promote: record reviews and switch pipelines between observe and execute."
  policy      = data.aws_iam_policy_document.operator_promote.json
  tags        = local.tags
}
