"""The one settings object, read once per cold start from the environment and passed down.

Nothing else in costagent reads `os.environ`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache

from pydantic import BaseModel, Field

PIPELINE_TAG_KEY = "costagent:pipeline"  # tag on instances and groups naming the owning pipeline
MANAGED_BY_TAG = ("ManagedBy", "costagent")  # only instances with this tag are ever touched


class Settings(BaseModel):
    region: str = "us-east-1"
    audit_table: str = "costagent-audit"
    lease_table: str = "costagent-lease"
    checkpoint_bucket: str = "costagent-checkpoints"
    ssm_prefix: str = Field(default="/costagent", pattern=r"^/[A-Za-z0-9_./-]*[A-Za-z0-9_-]$")
    group_name_prefix: str = "costagent-"
    audit_ttl_days: int = Field(default=400, ge=1)
    lease_seconds: int = Field(default=600, ge=30)
    price_lookback_hours: int = Field(default=24, ge=1)
    interruption_lookback_hours: int = Field(default=24, ge=1)
    recent_decisions: int = Field(default=5, ge=0, le=20)

    def mode_parameter(self, pipeline_id: str) -> str:
        return f"{self.ssm_prefix}/pipelines/{pipeline_id}/mode"

    def guardrails_parameter(self, pipeline_id: str) -> str:
        return f"{self.ssm_prefix}/pipelines/{pipeline_id}/guardrails"

    def group_name(self, pipeline_id: str) -> str:
        return f"{self.group_name_prefix}{pipeline_id}"


ENVIRONMENT_NAMES = {
    "region": "AWS_REGION",
    "audit_table": "COSTAGENT_AUDIT_TABLE",
    "lease_table": "COSTAGENT_LEASE_TABLE",
    "checkpoint_bucket": "COSTAGENT_CHECKPOINT_BUCKET",
    "ssm_prefix": "COSTAGENT_SSM_PREFIX",
    "group_name_prefix": "COSTAGENT_GROUP_PREFIX",
    "audit_ttl_days": "COSTAGENT_AUDIT_TTL_DAYS",
    "lease_seconds": "COSTAGENT_LEASE_SECONDS",
}


def settings_from(environment: Mapping[str, str]) -> Settings:
    values = {field: environment[name] for field, name in ENVIRONMENT_NAMES.items() if environment.get(name)}
    return Settings.model_validate(values)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings for this process (one Lambda cold start); `get_settings.cache_clear()` re-reads."""
    return settings_from(os.environ)
