variable "region" {
  description = "AWS region the stack is deployed to."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as us-east-1."
  }
}

variable "name_prefix" {
  description = "Prefix of every resource name; the Lambdas expect the default `costagent`."
  type        = string
  default     = "costagent"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-32 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "ssm_prefix" {
  description = "SSM parameter path prefix holding each pipeline's mode and guardrails (COSTAGENT_SSM_PREFIX)."
  type        = string
  default     = "/costagent"

  validation {
    condition     = can(regex("^/[A-Za-z0-9_./-]*[A-Za-z0-9_-]$", var.ssm_prefix))
    error_message = "ssm_prefix must start with / and not end with /."
  }
}

variable "checkpoint_bucket_name" {
  description = "S3 bucket holding pipeline progress and checkpoints (COSTAGENT_CHECKPOINT_BUCKET). Null: <name_prefix>-checkpoints-<account id>."
  type        = string
  default     = null
}

variable "pipelines" {
  description = "Pipelines costagent manages, by pipeline id: guardrails, worker subnets and schedule."
  type = map(object({
    allowed_instance_types = list(string)
    default_instance_type  = string
    min_instances          = number
    max_instances          = number
    target_instances       = optional(number)
    checkpoint_command     = optional(string)
    budget_usd             = optional(number)
    deadline               = optional(string)
    subnet_ids             = list(string)
    spot_max_price         = optional(string)
    schedule_rate          = optional(string, "rate(1 minute)")
    planner                = optional(string, "rules")
    image_id               = optional(string)
    # Minutes from a launch to useful work again (boot, restore, warm-up): the planner's deadline margins.
    restart_overhead_minutes = optional(number)
  }))
  default = {}

  validation {
    condition     = alltrue([for id, _ in var.pipelines : can(regex("^[a-z0-9][a-z0-9-]{0,62}$", id))])
    error_message = "Pipeline ids must be lowercase letters, digits and hyphens (at most 63 characters)."
  }

  validation {
    condition     = alltrue([for p in values(var.pipelines) : contains(["rules", "claude"], p.planner)])
    error_message = "planner must be \"rules\" or \"claude\"."
  }

  validation {
    condition = alltrue([
      for p in values(var.pipelines) :
      p.min_instances >= 0 && p.min_instances <= p.max_instances && floor(p.min_instances) == p.min_instances && floor(p.max_instances) == p.max_instances
    ])
    error_message = "min_instances and max_instances must be whole numbers with 0 <= min_instances <= max_instances."
  }

  validation {
    condition = alltrue([
      for p in values(var.pipelines) :
      coalesce(p.target_instances, p.min_instances) >= p.min_instances && coalesce(p.target_instances, p.min_instances) <= p.max_instances
    ])
    error_message = "target_instances must lie between min_instances and max_instances."
  }

  validation {
    condition     = alltrue([for p in values(var.pipelines) : length(p.allowed_instance_types) > 0 && contains(p.allowed_instance_types, p.default_instance_type)])
    error_message = "default_instance_type must be one of a non-empty allowed_instance_types."
  }

  validation {
    condition     = alltrue([for p in values(var.pipelines) : coalesce(p.budget_usd, 1) > 0])
    error_message = "budget_usd must be positive when set."
  }

  validation {
    condition     = alltrue([for p in values(var.pipelines) : can(regex("^(rate\\(.+\\)|cron\\(.+\\))$", p.schedule_rate))])
    error_message = "schedule_rate must be an EventBridge Scheduler rate(...) or cron(...) expression."
  }

  validation {
    condition     = alltrue([for p in values(var.pipelines) : length(p.subnet_ids) > 0])
    error_message = "Each pipeline needs at least one subnet id."
  }

  validation {
    condition     = alltrue([for p in values(var.pipelines) : p.image_id == null || can(regex("^ami-[0-9a-f]{8,17}$", p.image_id))])
    error_message = "image_id must be an AMI id (ami-...) when set."
  }
}

variable "worker_image_id" {
  description = "AMI of the worker launch templates for pipelines without their own image_id."
  type        = string
  default     = null

  validation {
    condition     = var.worker_image_id == null || can(regex("^ami-[0-9a-f]{8,17}$", var.worker_image_id))
    error_message = "worker_image_id must be an AMI id (ami-...)."
  }
}

variable "checkpoint_noncurrent_days" {
  description = "Days a noncurrent version of a checkpoint object is kept before S3 expires it."
  type        = number
  default     = 30

  validation {
    condition     = var.checkpoint_noncurrent_days >= 1 && floor(var.checkpoint_noncurrent_days) == var.checkpoint_noncurrent_days
    error_message = "checkpoint_noncurrent_days must be a whole number of at least 1."
  }
}

variable "budget_notification_emails" {
  description = "Email addresses notified at 80 % and 100 % of each pipeline budget."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for e in var.budget_notification_emails : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", e))])
    error_message = "budget_notification_emails must be email addresses."
  }
}

variable "budget_suspends_launches" {
  description = "At a pipeline's budget limit, suspend the Launch process of its Auto Scaling group (BudgetStop Lambda), beside the budget action's deny policy. Holds in observe mode too."
  type        = bool
  default     = true
}

variable "enable_execution" {
  description = "Grant the Lambdas write permissions (scale, terminate, Run Command). False keeps every pipeline in observation mode at the IAM level."
  type        = bool
  default     = false
}

variable "llm_provider" {
  description = "How the plan Lambda reaches Claude: \"anthropic\" (API key in Secrets Manager) or \"bedrock\"."
  type        = string
  default     = "anthropic"

  validation {
    condition     = contains(["anthropic", "bedrock"], var.llm_provider)
    error_message = "llm_provider must be \"anthropic\" or \"bedrock\"."
  }
}

variable "llm_model" {
  description = "Model id for Claude pipelines (COSTAGENT_LLM_MODEL). Null: the provider's default model."
  type        = string
  default     = null
}

variable "anthropic_secret_arn" {
  description = "ARN of an existing Secrets Manager secret holding the Anthropic API key (llm_provider = \"anthropic\"). Null: when a pipeline plans with Claude, an empty secret <name_prefix>/anthropic-api-key is created for you to fill."
  type        = string
  default     = null

  validation {
    condition     = var.anthropic_secret_arn == null || can(regex("^arn:aws[a-z-]*:secretsmanager:", var.anthropic_secret_arn))
    error_message = "anthropic_secret_arn must be a Secrets Manager secret ARN."
  }
}

variable "llm_max_tokens" {
  description = "Maximum output tokens per Claude call (COSTAGENT_LLM_MAX_TOKENS)."
  type        = number
  default     = 600

  validation {
    condition     = var.llm_max_tokens >= 64 && var.llm_max_tokens <= 4096
    error_message = "llm_max_tokens must be between 64 and 4096."
  }
}

variable "llm_max_retries" {
  description = "Retries per Claude call (COSTAGENT_LLM_MAX_RETRIES)."
  type        = number
  default     = 2

  validation {
    condition     = var.llm_max_retries >= 0 && var.llm_max_retries <= 5
    error_message = "llm_max_retries must be between 0 and 5."
  }
}

variable "llm_reuse" {
  description = "Reuse the last Claude decision when nothing material changed (COSTAGENT_LLM_REUSE)."
  type        = bool
  default     = true
}

variable "audit_ttl_days" {
  description = "Days an audit item is kept before DynamoDB TTL removes it (COSTAGENT_AUDIT_TTL_DAYS)."
  type        = number
  default     = 400

  validation {
    condition     = var.audit_ttl_days >= 1
    error_message = "audit_ttl_days must be at least 1."
  }
}

variable "lease_seconds" {
  description = "How long a cycle's per-pipeline lease lasts (COSTAGENT_LEASE_SECONDS)."
  type        = number
  default     = 600

  validation {
    condition     = var.lease_seconds >= 30
    error_message = "lease_seconds must be at least 30."
  }
}

variable "lambda_zip_path" {
  description = "Path of the function package zip built by scripts/build_lambda.sh (build/costagent.zip)."
  type        = string
  default     = "../build/costagent.zip"
}

variable "layer_zip_path" {
  description = "Path of the dependency layer zip built by scripts/build_lambda.sh (build/costagent-layer.zip)."
  type        = string
  default     = "../build/costagent-layer.zip"
}

variable "lambda_architecture" {
  description = "Instruction set of the Lambdas and their layer; build the layer for the same one (LAMBDA_ARCH in scripts/build_lambda.sh)."
  type        = string
  default     = "x86_64"

  validation {
    condition     = contains(["x86_64", "arm64"], var.lambda_architecture)
    error_message = "lambda_architecture must be \"x86_64\" or \"arm64\"."
  }
}

variable "log_retention_days" {
  description = "Retention of the Lambda and state machine log groups, in days."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ...)."
  }
}

variable "log_level" {
  description = "POWERTOOLS_LOG_LEVEL of every Lambda."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR"], var.log_level)
    error_message = "log_level must be DEBUG, INFO, WARNING or ERROR."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}

variable "alarm_action_arns" {
  description = "ARNs notified when an alarm fires or clears (SNS topics, typically). Empty: alarms only show in the console."
  type        = list(string)
  default     = []
}

variable "fallback_rate_alarm_percent" {
  description = "Alarm when more than this share of cycles in an hour fell back from Claude to the rules planner."
  type        = number
  default     = 20

  validation {
    condition     = var.fallback_rate_alarm_percent > 0 && var.fallback_rate_alarm_percent <= 100
    error_message = "fallback_rate_alarm_percent must be in (0, 100]."
  }
}

variable "clamp_rate_alarm_percent" {
  description = "Alarm when more than this share of cycles in an hour had their proposal changed by the clamp validator."
  type        = number
  default     = 50

  validation {
    condition     = var.clamp_rate_alarm_percent > 0 && var.clamp_rate_alarm_percent <= 100
    error_message = "clamp_rate_alarm_percent must be in (0, 100]."
  }
}
