# The Anthropic API key (llm_provider = "anthropic"): referenced by ARN, or created here empty when a
# pipeline plans with Claude. Terraform never holds the key: the value is put with the AWS CLI, so it stays
# out of the state file. Bedrock needs no secret (IAM).

locals {
  plans_with_claude       = anytrue([for p in values(var.pipelines) : p.planner == "claude"])
  create_anthropic_secret = var.llm_provider == "anthropic" && var.anthropic_secret_arn == null && local.plans_with_claude

  anthropic_secret_arn = (
    var.llm_provider != "anthropic" ? null :
    local.create_anthropic_secret ? aws_secretsmanager_secret.anthropic[0].arn :
    var.anthropic_secret_arn
  )
}

resource "aws_secretsmanager_secret" "anthropic" {
  #checkov:skip=CKV_AWS_149:Encrypted with the AWS managed aws/secretsmanager key; only the stack's Lambda role in this account reads it, so a customer managed key would add cost but no control IAM does not already give.
  #checkov:skip=CKV2_AWS_57:An Anthropic API key is issued in the Anthropic Console, which a rotation Lambda cannot do; rotate it by putting a new value (see the description).
  count = local.create_anthropic_secret ? 1 : 0

  name                    = "${var.name_prefix}/anthropic-api-key"
  description             = "Anthropic API key for costagent's plan Lambda. Created empty: aws secretsmanager put-secret-value --secret-id <arn> --secret-string <key>."
  recovery_window_in_days = 7
  tags                    = local.tags
}
