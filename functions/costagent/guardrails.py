"""Per-pipeline guardrails: validated configuration, never constants in code.

Guardrails are stored as one JSON document per pipeline in SSM Parameter Store (see `config.py` for the
parameter names) and read every cycle, so changing a limit needs no deploy.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

# Defaults, each with its unit in its name and the reason it is what it is.
CHECKPOINT_OVERDUE_MINUTES = 30.0  # the seed's rule: more than half an hour of work at risk is too much
MAX_SCALE_STEP_INSTANCES = 4  # a bad proposal can move the fleet by at most this much per cycle
RESTART_OVERHEAD_MINUTES = 10.0  # launch, boot, restore the last checkpoint: typical for the seed's pipelines
CYCLE_MINUTES = 1.0  # the default schedule, rate(1 minute)
ABSOLUTE_MAX_INSTANCES = 1000  # no single pipeline config may ask for more; typos like 50000 fail loudly
REASONING_MAX_CHARS = 2000  # audit items stay small; a longer reasoning is cut, not rejected


class Guardrails(BaseModel):
    """Limits one pipeline's decisions must stay within."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    allowed_instance_types: list[str] = Field(min_length=1)
    default_instance_type: str
    min_instances: int = Field(default=0, ge=0)
    max_instances: int = Field(ge=1, le=ABSOLUTE_MAX_INSTANCES)
    target_instances: int | None = Field(
        default=None, ge=0, description="Workers the pipeline wants; lost capacity is replaced up to this."
    )
    max_scale_step_instances: int = Field(default=MAX_SCALE_STEP_INSTANCES, ge=1)
    checkpoint_overdue_minutes: float = Field(default=CHECKPOINT_OVERDUE_MINUTES, gt=0)
    budget_usd: float | None = Field(default=None, ge=0)
    deadline: datetime | None = None
    expected_runtime_hours: float | None = Field(
        default=None, gt=0, description="Whole run at target size; used until progress gives a rate."
    )
    allow_on_demand: bool = True
    restart_overhead_minutes: float = Field(
        default=RESTART_OVERHEAD_MINUTES,
        ge=0,
        description="From a launch to useful work again (boot, restore, warm-up); deadline margins use it.",
    )
    cycle_minutes: float = Field(
        default=CYCLE_MINUTES, gt=0, description="Minutes between scheduled cycles (the schedule's rate)."
    )
    on_demand_prices: dict[str, float] = Field(
        default_factory=dict, description="USD per hour by type; overrides the built-in reference table."
    )
    checkpoint_command: str = Field(default="costagent worker checkpoint-request", min_length=1)
    planner: Literal["rules", "claude"] = "rules"

    @model_validator(mode="after")
    def _consistent(self) -> Guardrails:
        if self.default_instance_type not in self.allowed_instance_types:
            raise ValueError(
                f"default_instance_type {self.default_instance_type!r} must be one of allowed_instance_types"
            )
        if self.min_instances > self.max_instances:
            raise ValueError("min_instances must not exceed max_instances")
        if self.target_instances is not None and not (
            self.min_instances <= self.target_instances <= self.max_instances
        ):
            raise ValueError("target_instances must lie between min_instances and max_instances")
        return self

    @property
    def target_count(self) -> int:
        """Workers to keep running: the configured target, or the minimum (at least one)."""
        if self.target_instances is not None:
            return self.target_instances
        return max(self.min_instances, 1)
