"""The one settings object, read once per cold start from the environment and passed down.

Nothing else in costagent reads `os.environ`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, Field, SecretStr

DEFAULT_CLAUDE_MODEL = "claude-sonnet-5"  # Anthropic's "best combination of speed and intelligence" (2026)
DEFAULT_BEDROCK_MODEL = "anthropic.claude-sonnet-5"
PIPELINE_TAG_KEY = "costagent:pipeline"  # tag on instances and groups naming the owning pipeline
MANAGED_BY_TAG = ("ManagedBy", "costagent")  # only instances with this tag are ever touched


class LlmSettings(BaseModel):
    """How the plan Lambda reaches Claude. The key is a secret: SecretStr keeps it out of reprs and logs."""

    provider: Literal["anthropic", "bedrock"] = "anthropic"
    model: str | None = None  # None: the provider's default model
    api_key: SecretStr | None = None  # workstation only (ANTHROPIC_API_KEY); Lambdas use the secret below
    base_url: str | None = None  # ANTHROPIC_BASE_URL, the SDK's standard override
    secret_id: str | None = None  # Secrets Manager secret holding the Anthropic API key
    max_tokens: int = Field(default=600, ge=64, le=4096)  # a decision is ~150 output tokens
    max_retries: int = Field(default=2, ge=0, le=5)
    reuse: bool = True  # reuse the last Claude decision when nothing material changed

    @property
    def model_id(self) -> str:
        if self.model:
            return self.model
        return DEFAULT_BEDROCK_MODEL if self.provider == "bedrock" else DEFAULT_CLAUDE_MODEL

    @property
    def configured(self) -> bool:
        """Whether a call can be attempted at all (Bedrock authenticates with the Lambda's IAM role)."""
        return self.provider == "bedrock" or self.api_key is not None or self.secret_id is not None


class Settings(BaseModel):
    region: str = "us-east-1"
    audit_table: str = "costagent-audit"
    lease_table: str = "costagent-lease"
    idempotency_table: str = "costagent-idempotency"
    checkpoint_bucket: str = "costagent-checkpoints"
    ssm_prefix: str = Field(default="/costagent", pattern=r"^/[A-Za-z0-9_./-]*[A-Za-z0-9_-]$")
    group_name_prefix: str = "costagent-"
    audit_ttl_days: int = Field(default=400, ge=1)
    lease_seconds: int = Field(default=600, ge=30)
    price_lookback_hours: int = Field(default=24, ge=1)
    interruption_lookback_hours: int = Field(default=24, ge=1)
    recent_decisions: int = Field(default=5, ge=0, le=20)
    llm: LlmSettings = Field(default_factory=lambda: LlmSettings())

    def mode_parameter(self, pipeline_id: str) -> str:
        return f"{self.ssm_prefix}/pipelines/{pipeline_id}/mode"

    @property
    def kill_switch_parameter(self) -> str:
        """One parameter for every pipeline: any value but `off` (or absent) forces observe mode."""
        return f"{self.ssm_prefix}/kill-switch"

    def guardrails_parameter(self, pipeline_id: str) -> str:
        return f"{self.ssm_prefix}/pipelines/{pipeline_id}/guardrails"

    def group_name(self, pipeline_id: str) -> str:
        return f"{self.group_name_prefix}{pipeline_id}"


ENVIRONMENT_NAMES = {
    "region": "AWS_REGION",
    "audit_table": "COSTAGENT_AUDIT_TABLE",
    "lease_table": "COSTAGENT_LEASE_TABLE",
    "idempotency_table": "COSTAGENT_IDEMPOTENCY_TABLE",
    "checkpoint_bucket": "COSTAGENT_CHECKPOINT_BUCKET",
    "ssm_prefix": "COSTAGENT_SSM_PREFIX",
    "group_name_prefix": "COSTAGENT_GROUP_PREFIX",
    "audit_ttl_days": "COSTAGENT_AUDIT_TTL_DAYS",
    "lease_seconds": "COSTAGENT_LEASE_SECONDS",
}


LLM_ENVIRONMENT_NAMES = {
    "provider": "COSTAGENT_LLM_PROVIDER",
    "model": "COSTAGENT_LLM_MODEL",
    "api_key": "ANTHROPIC_API_KEY",
    "base_url": "ANTHROPIC_BASE_URL",
    "secret_id": "COSTAGENT_ANTHROPIC_SECRET_ID",
    "max_tokens": "COSTAGENT_LLM_MAX_TOKENS",
    "max_retries": "COSTAGENT_LLM_MAX_RETRIES",
    "reuse": "COSTAGENT_LLM_REUSE",
}


def settings_from(environment: Mapping[str, str]) -> Settings:
    values: dict[str, object] = {
        field: environment[name] for field, name in ENVIRONMENT_NAMES.items() if environment.get(name)
    }
    values["llm"] = {
        field: environment[name] for field, name in LLM_ENVIRONMENT_NAMES.items() if environment.get(name)
    }
    return Settings.model_validate(values)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings for this process (one Lambda cold start); `get_settings.cache_clear()` re-reads."""
    return settings_from(os.environ)
