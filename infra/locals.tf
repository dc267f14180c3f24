data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition

  # Key schemas, the spot_signals index and TTL attributes, shared with the Python code.
  tables = jsondecode(file("${path.module}/../functions/costagent/tables.json"))

  table_names = { for key, _ in local.tables : key => "${var.name_prefix}-${key}" }

  checkpoint_bucket = coalesce(var.checkpoint_bucket_name, "${var.name_prefix}-checkpoints-${local.account_id}")
  group_prefix      = "${var.name_prefix}-"

  # Mirrors FUNCTIONS in functions/costagent/local/runner.py: function suffix -> handler module and the
  # state machine placeholder its ARN fills. Only the plan Lambda calls Claude, hence its 90 s timeout.
  functions = {
    read-trigger   = { module = "costagent.handlers.read_trigger", placeholder = "read_trigger_function_arn", memory = 256, timeout = 15 }
    checkpoint-now = { module = "costagent.handlers.checkpoint_now", placeholder = "checkpoint_function_arn", memory = 256, timeout = 30 }
    gather-state   = { module = "costagent.handlers.gather_state", placeholder = "gather_function_arn", memory = 512, timeout = 30 }
    plan           = { module = "costagent.handlers.plan", placeholder = "plan_function_arn", memory = 512, timeout = 90 }
    clamp          = { module = "costagent.handlers.clamp", placeholder = "clamp_function_arn", memory = 256, timeout = 10 }
    execute        = { module = "costagent.handlers.execute", placeholder = "execute_function_arn", memory = 256, timeout = 120 }
    record         = { module = "costagent.handlers.record", placeholder = "record_function_arn", memory = 256, timeout = 15 }
  }

  lambda_environment = merge(
    {
      COSTAGENT_AUDIT_TABLE        = local.table_names["audit"]
      COSTAGENT_LEASE_TABLE        = local.table_names["lease"]
      COSTAGENT_IDEMPOTENCY_TABLE  = local.table_names["idempotency"]
      COSTAGENT_CHECKPOINT_BUCKET  = local.checkpoint_bucket
      COSTAGENT_SSM_PREFIX         = var.ssm_prefix
      COSTAGENT_GROUP_PREFIX       = local.group_prefix
      COSTAGENT_AUDIT_TTL_DAYS     = tostring(var.audit_ttl_days)
      COSTAGENT_LEASE_SECONDS      = tostring(var.lease_seconds)
      POWERTOOLS_SERVICE_NAME      = var.name_prefix
      POWERTOOLS_METRICS_NAMESPACE = var.name_prefix
      POWERTOOLS_LOG_LEVEL         = var.log_level
    },
  )

  # Only the plan Lambda talks to Claude.
  llm_environment = merge(
    {
      COSTAGENT_LLM_PROVIDER    = var.llm_provider
      COSTAGENT_LLM_MAX_TOKENS  = tostring(var.llm_max_tokens)
      COSTAGENT_LLM_MAX_RETRIES = tostring(var.llm_max_retries)
      COSTAGENT_LLM_REUSE       = var.llm_reuse ? "true" : "false"
    },
    var.llm_model == null ? {} : { COSTAGENT_LLM_MODEL = var.llm_model },
    local.anthropic_secret_arn == null ? {} : { COSTAGENT_ANTHROPIC_SECRET_ID = local.anthropic_secret_arn },
  )

  # ARNs the IAM policies are scoped to.
  ssm_pipeline_arn = "arn:${local.partition}:ssm:${var.region}:${local.account_id}:parameter${var.ssm_prefix}/*"
  group_arn        = "arn:${local.partition}:autoscaling:${var.region}:${local.account_id}:autoScalingGroup:*:autoScalingGroupName/${local.group_prefix}*"

  tags = merge(var.tags, { ManagedBy = "costagent" }) # ManagedBy last: the IAM conditions depend on it
}
