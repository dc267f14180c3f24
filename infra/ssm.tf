# Per-pipeline mode and guardrails, and the global kill switch (functions/costagent/config.py).
# Mode and kill switch are operator switches: Terraform creates them and then leaves their value alone.

resource "aws_ssm_parameter" "mode" {
  #checkov:skip=CKV2_AWS_34:An operator switch (observe or execute), not a secret: a String is readable and flippable without kms:Decrypt.
  for_each = var.pipelines

  name        = "${var.ssm_prefix}/pipelines/${each.key}/mode"
  description = "costagent mode of pipeline ${each.key}: observe or execute (operators flip it; Terraform ignores the value)."
  type        = "String"
  value       = "observe"
  tags        = merge(local.tags, { "costagent:pipeline" = each.key })

  lifecycle {
    ignore_changes = [value]
  }
}

resource "aws_ssm_parameter" "guardrails" {
  #checkov:skip=CKV2_AWS_34:The pipeline's limits and instance types, not a secret: a String is readable without kms:Decrypt.
  for_each = var.pipelines

  name        = "${var.ssm_prefix}/pipelines/${each.key}/guardrails"
  description = "costagent guardrails of pipeline ${each.key} (functions/costagent/guardrails.py Guardrails)."
  type        = "String"
  value       = jsonencode(local.guardrails[each.key])
  tags        = merge(local.tags, { "costagent:pipeline" = each.key })
}

resource "aws_ssm_parameter" "kill_switch" {
  #checkov:skip=CKV2_AWS_34:An operator switch, not a secret: a String is readable and flippable without kms:Decrypt.
  name        = "${var.ssm_prefix}/kill-switch"
  description = "costagent kill switch for every pipeline: any value but off forces observe mode."
  type        = "String"
  value       = "off"
  tags        = local.tags

  lifecycle {
    ignore_changes = [value]
  }
}

locals {
  # Only the fields Guardrails accepts (extra="forbid"); nulls left out so the model's defaults apply.
  guardrails = {
    for id, p in var.pipelines : id => {
      for key, value in {
        allowed_instance_types   = p.allowed_instance_types
        default_instance_type    = p.default_instance_type
        min_instances            = p.min_instances
        max_instances            = p.max_instances
        target_instances         = p.target_instances
        checkpoint_command       = p.checkpoint_command
        budget_usd               = p.budget_usd
        deadline                 = p.deadline
        planner                  = p.planner
        restart_overhead_minutes = p.restart_overhead_minutes
        # The planner's safety margin counts cycles: the schedule's rate in minutes, when it is a rate.
        cycle_minutes = can(regex("^rate\\(\\d+ minutes?\\)$", p.schedule_rate)) ? tonumber(regex("\\d+", p.schedule_rate)) : null
      } : key => value if value != null
    }
  }
}
