"""Contracts for everything that crosses a state boundary of the decision cycle.

Field names follow the seed design operators already know (`active_instances`, `spot_prices`,
`termination_notices`, `pipeline_progress`, `minutes_since_checkpoint`, `budget_remaining`; `action`,
`instance_type`, `instance_count`, `should_checkpoint`, `reasoning`).

`instance_count` in a decision is always the *target* number of instances for the pipeline after the
action, never a delta.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from costagent.guardrails import Guardrails


class Action(str, Enum):
    SCALE_UP = "SCALE_UP"
    SCALE_DOWN = "SCALE_DOWN"
    CHECKPOINT = "CHECKPOINT"
    MIGRATE = "MIGRATE"
    WAIT = "WAIT"


class CapacityType(str, Enum):
    SPOT = "spot"
    ON_DEMAND = "on-demand"


class Mode(str, Enum):
    OBSERVE = "observe"
    EXECUTE = "execute"


class TriggerKind(str, Enum):
    SCHEDULED = "scheduled"
    INTERRUPTION = "interruption"
    REBALANCE = "rebalance"
    BUDGET_LIMIT = "budget_limit"  # the pipeline's AWS Budget reached its limit (handlers/budget_stop.py)
    OPERATOR = "operator"  # a person changed the mode or signed off a review (costagent promote | signoff)
    IGNORED = "ignored"


class Outcome(str, Enum):
    ACTED = "acted"  # execute mode, the decision changed something on AWS
    OBSERVED = "observed"  # observe mode, what would have run is recorded, nothing changed
    NO_OP = "no_op"  # WAIT, nothing to do in either mode
    SKIPPED = "skipped"  # another execution holds the pipeline's lease
    IGNORED = "ignored"  # the event is not for a managed pipeline, or unreadable
    FAILED = "failed"  # a step failed; the error is in the record
    REFUSED = "refused"  # an operator's promotion that the observation gate did not allow


class Contract(BaseModel):
    """Base for models that cross a boundary: unknown fields are dropped, values are validated."""

    model_config = ConfigDict(extra="ignore", use_enum_values=False)


# --- the trigger --------------------------------------------------------------------------------


class Trigger(Contract):
    kind: TriggerKind
    pipeline_id: str | None = None
    cycle_id: str
    event_time: datetime
    event_id: str | None = None
    detail_type: str | None = None
    instance_id: str | None = None
    instance_type: str | None = None  # of the instance a spot event names, when it is ours
    zone: str | None = None
    reason: str = ""
    duplicate_of: str | None = None  # the execution that already recorded this cycle (a second delivery)
    received_at: datetime | None = (
        None  # wall clock when ReadTrigger ran; the cycle's own clock is event_time
    )
    latency_ms: float = 0.0


# --- the gathered state -------------------------------------------------------------------------


class Instance(Contract):
    instance_id: str
    instance_type: str
    zone: str
    lifecycle: CapacityType
    launch_time: datetime
    state: str = "running"
    name: str | None = None  # the instance's Name tag: set by whoever launched it, so untrusted text


class SpotPool(Contract):
    """One spot pool (instance type x zone): its price now and a summary of the recent history."""

    instance_type: str
    zone: str
    price_per_hour: float = Field(ge=0)
    price_change_pct_1h: float = 0.0  # change against the price one hour before the cycle
    min_price_24h: float = Field(default=0.0, ge=0)
    max_price_24h: float = Field(default=0.0, ge=0)
    recent_interruptions: int = Field(default=0, ge=0)  # interruption warnings seen in the lookback
    # False: known to have no spot capacity now (failed launches, a placement score of 1); None: unknown.
    capacity: bool | None = None


class TerminationNotice(Contract):
    kind: Literal["interruption", "rebalance"]
    instance_id: str
    time: datetime
    instance_type: str | None = None
    zone: str | None = None
    checkpoint_requested: bool = False  # the interruption fast path already asked the workers to save


class GroupCapacity(Contract):
    """The pipeline's Auto Scaling group as gathered this cycle."""

    group_name: str
    desired_capacity: int = Field(ge=0)
    min_size: int = Field(ge=0)
    max_size: int = Field(ge=0)
    instance_type: str | None = None  # the type new instances launch as (first override)
    on_demand_base_capacity: int = Field(default=0, ge=0)


class DecisionSummary(Contract):
    cycle_id: str
    action: Action
    instance_type: str | None = None
    capacity_type: CapacityType | None = None
    instance_count: int | None = None
    outcome: Outcome | None = None


class ActionChecks(Contract):
    """Whether the last actions took effect, checked on the next cycles (pure, from records and state)."""

    checkpoint: Literal["landed", "pending", "failed"] | None = None  # None: no recent request
    checkpoint_requested_at: datetime | None = None
    capacity: Literal["reached", "pending", "not_reached"] | None = None
    capacity_target: int | None = None


class MigrationStatus(Contract):
    """A migration in progress: the group launches the target pool, some instances still run elsewhere."""

    target_type: str
    target_capacity: CapacityType
    misplaced: int = Field(ge=0)
    total: int = Field(ge=0)
    from_type: str | None = None  # where most misplaced instances run: the pool a rollback returns to
    from_capacity: CapacityType | None = None


class LastPlan(Contract):
    """The last decision Claude made for this pipeline, with what was true when it made it (for reuse)."""

    cycle_id: str
    time: datetime
    proposal: Any = None
    fingerprint: dict[str, Any] = Field(default_factory=dict)


class PipelineState(Contract):
    pipeline_id: str
    time: datetime
    mode: Mode = Mode.OBSERVE
    mode_source: str = "parameter"  # parameter | default | kill_switch
    trigger: TriggerKind = TriggerKind.SCHEDULED
    active_instances: list[Instance] = Field(default_factory=list)
    spot_prices: list[SpotPool] = Field(default_factory=list)
    on_demand_prices: dict[str, float] = Field(default_factory=dict)
    termination_notices: list[TerminationNotice] = Field(default_factory=list)
    pipeline_progress: float = Field(default=0.0, ge=0.0, le=1.0)
    minutes_since_checkpoint: float | None = Field(default=None, ge=0)  # None: never checkpointed
    last_checkpoint_id: str | None = None
    budget_remaining: float | None = None  # USD; None when the pipeline has no budget
    deadline: datetime | None = None
    expected_remaining_hours: float | None = Field(default=None, ge=0)
    capacity: GroupCapacity | None = None
    recent_decisions: list[DecisionSummary] = Field(default_factory=list)
    last_llm_plan: LastPlan | None = None
    action_checks: ActionChecks | None = None
    migration: MigrationStatus | None = None
    last_drill_ok: bool | None = None  # the latest restore drill's verdict; None: never drilled
    last_successful_drill_at: datetime | None = None

    @property
    def instance_count(self) -> int:
        return len(self.active_instances)

    def current_instance_type(self) -> str | None:
        """The type most of the pipeline runs on now (ties: the group's launch type)."""
        counts: dict[str, int] = {}
        for instance in self.active_instances:
            counts[instance.instance_type] = counts.get(instance.instance_type, 0) + 1
        if not counts:
            return self.capacity.instance_type if self.capacity else None
        return max(sorted(counts), key=lambda name: counts[name])

    def current_capacity_type(self) -> CapacityType:
        spot = sum(1 for i in self.active_instances if i.lifecycle is CapacityType.SPOT)
        if self.active_instances and spot * 2 < len(self.active_instances):
            return CapacityType.ON_DEMAND
        if not self.active_instances and self.capacity and self.capacity.on_demand_base_capacity > 0:
            return CapacityType.ON_DEMAND
        return CapacityType.SPOT

    def pending_interruptions(self) -> list[TerminationNotice]:
        """Interruption notices whose checkpoint has not been requested yet."""
        return [
            n for n in self.termination_notices if n.kind == "interruption" and not n.checkpoint_requested
        ]


# --- decisions ----------------------------------------------------------------------------------


class AgentDecision(Contract):
    """What a planner proposes. Planners must produce this; clamp accepts anything at all."""

    action: Action = Field(description="The one action for this cycle.")
    instance_type: str | None = Field(
        default=None, description="EC2 instance type; must be one of the pipeline's allowed types."
    )
    capacity_type: CapacityType = Field(default=CapacityType.SPOT, description="spot or on-demand.")
    instance_count: int | None = Field(
        default=None, ge=0, description="Target total number of instances after the action (not a delta)."
    )
    should_checkpoint: bool = Field(default=False, description="Workers save their progress before acting.")
    reasoning: str = Field(default="", description="Why, in under 60 words, citing the figures that decided.")


class ValidDecision(Contract):
    """A decision every guardrail agrees with; the only thing the executor acts on."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    action: Action
    instance_type: str
    capacity_type: CapacityType
    instance_count: int = Field(ge=0)
    should_checkpoint: bool
    reasoning: str


class ClampEvent(Contract):
    rule: str
    field: str
    proposed: Any = None
    applied: Any = None
    reason: str


class LlmUsage(Contract):
    """One Messages API call: what it cost and how long it took."""

    provider: str
    model: str
    prompt_version: str
    latency_ms: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0
    stop_reason: str | None = None


class PlanResult(Contract):
    planner: Literal["rules", "claude", "fallback", "cached"]
    proposal: Any = None  # raw, as the planner produced it; clamp makes it safe
    signals: dict[str, Any] = Field(default_factory=dict)
    reason: str = ""
    fallback_reason: str | None = None  # short code: timeout, overloaded, no_tool_call, out_of_schema, ...
    llm: LlmUsage | None = None  # present whenever Claude was called, even when the answer was unusable
    fingerprint: dict[str, Any] | None = None  # what was material when Claude decided (reuse compares it)
    reused_from: str | None = None  # the cycle whose Claude decision a `cached` plan reuses
    latency_ms: float = 0.0


class ClampResult(Contract):
    decision: ValidDecision
    clamps: list[ClampEvent] = Field(default_factory=list)
    latency_ms: float = 0.0


class ActionRecord(Contract):
    kind: str  # checkpoint | set_desired_capacity | terminate_instance | update_group | none
    target: str = ""
    status: Literal["done", "would_run", "failed", "not_run", "skipped"]
    detail: str = ""


class ExecutionResult(Contract):
    mode: Mode
    outcome: Outcome
    actions: list[ActionRecord] = Field(default_factory=list)
    latency_ms: float = 0.0


class LeaseInfo(Contract):
    acquired: bool
    holder: str | None = None
    expires_at: datetime | None = None


class GatherResult(Contract):
    """State and guardrails are absent only when another execution holds the lease."""

    state: PipelineState | None = None
    guardrails: Guardrails | None = None
    lease: LeaseInfo
    latency_ms: float = 0.0


class CheckpointResult(Contract):
    """The interruption fast path: what was asked of the workers, before any planning."""

    pipeline_id: str
    mode: Mode
    requested_at: datetime
    actions: list[ActionRecord] = Field(default_factory=list)
    latency_ms: float = 0.0


class StepError(Contract):
    """A caught Step Functions error (`Error`, `Cause`) kept under its own ResultPath."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    error: str = Field(default="Unknown", alias="Error")
    cause: str = Field(default="", alias="Cause")


class ReplayInput(Contract):
    """What the planner saw, whole, so a recorded cycle can be planned again (`costagent replay`)."""

    state: PipelineState
    guardrails: Guardrails


class OperatorAction(Contract):
    """A person's act on a pipeline, recorded in its audit trail like a cycle."""

    kind: Literal["promote", "rollback", "sign_off"]
    by: str  # who: the name given, and the AWS identity that ran the command
    note: str = ""
    from_mode: Mode | None = None
    to_mode: Mode | None = None
    granted: bool = True
    gate: dict[str, Any] | None = None  # the observation gate's verdict, for promotions


class CycleRecord(Contract):
    """One audit item per execution of the state machine."""

    pipeline_id: str
    cycle_id: str
    cycle_time: datetime
    execution_name: str | None = None
    trigger: TriggerKind
    trigger_detail: str = ""
    instance_id: str | None = None  # the instance a spot event named
    instance_type: str | None = None
    zone: str | None = None
    state: dict[str, Any] | None = None  # compact snapshot, see audit.compact_state
    planner: str | None = None
    plan_reason: str = ""
    fallback_reason: str | None = None
    llm: LlmUsage | None = None
    plan_fingerprint: dict[str, Any] | None = None
    reused_from: str | None = None
    proposal: Any = None
    clamps: list[ClampEvent] = Field(default_factory=list)
    decision: ValidDecision | None = None
    mode: Mode | None = None
    outcome: Outcome
    actions: list[ActionRecord] = Field(default_factory=list)
    checkpoint: CheckpointResult | None = None
    errors: dict[str, StepError] = Field(default_factory=dict)
    latencies_ms: dict[str, float] = Field(default_factory=dict)
    phase: Literal["checkpoint", "final"] = "final"
    duplicate_of: str | None = None  # a second delivery: recorded beside the original, never over it
    expires_at: int | None = None  # epoch seconds, the table's TTL attribute
    replay: ReplayInput | None = None  # the whole state and guardrails the planner was given
    operator: OperatorAction | None = None  # trigger `operator` only
