"""ExecuteDecision: turn a ValidDecision into AWS actions, or, in observe mode, into a record of them.

`plan_actions` is pure: it lists the steps a decision takes. `execute_decision` runs them in execute mode
and stops at the first failure, raising ExecutionFailed whose message is JSON of every step's status,
so the audit record says exactly what ran and what did not.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from costagent.adapters.bundle import AwsAdapters
from costagent.config import Settings
from costagent.errors import CostagentError, ExecutionFailed
from costagent.guardrails import Guardrails
from costagent.models import (
    Action,
    ActionRecord,
    CapacityType,
    ExecutionResult,
    Instance,
    Mode,
    Outcome,
    PipelineState,
    ValidDecision,
)


@dataclass(frozen=True)
class PlannedAction:
    # checkpoint | set_desired_capacity | terminate_instance | set_launch_preference | replace_instance
    kind: str
    target: str
    detail: str
    desired: int = 0
    instance_type: str = ""
    on_demand_base: int = 0


def _oldest_first(instances: list[Instance]) -> list[Instance]:
    return sorted(instances, key=lambda i: (i.launch_time, i.instance_id))


def plan_actions(
    decision: ValidDecision, state: PipelineState, guardrails: Guardrails, group_name: str
) -> list[PlannedAction]:
    """The steps of a decision, in order. Checkpoint always comes first: it protects the work."""
    steps: list[PlannedAction] = []
    running = [i.instance_id for i in state.active_instances]
    if (decision.should_checkpoint or decision.action is Action.CHECKPOINT) and running:
        steps.append(
            PlannedAction(
                "checkpoint",
                ",".join(running),
                f"SSM Run Command on {len(running)} instance(s): {guardrails.checkpoint_command}",
            )
        )
    current = state.instance_count
    if decision.action is Action.SCALE_UP:
        steps.append(
            PlannedAction(
                "set_desired_capacity",
                group_name,
                f"desired capacity {current} -> {decision.instance_count}",
                desired=decision.instance_count,
            )
        )
    elif decision.action is Action.SCALE_DOWN:
        for instance in _oldest_first(state.active_instances)[: max(current - decision.instance_count, 0)]:
            steps.append(
                PlannedAction(
                    "terminate_instance",
                    instance.instance_id,
                    f"terminate oldest ({instance.launch_time.isoformat()}) and decrement desired capacity",
                )
            )
    elif decision.action is Action.MIGRATE:
        on_demand_base = decision.instance_count if decision.capacity_type is CapacityType.ON_DEMAND else 0
        steps.append(
            PlannedAction(
                "set_launch_preference",
                group_name,
                f"launch {decision.instance_type} first, on-demand base capacity {on_demand_base}",
                instance_type=decision.instance_type,
                on_demand_base=on_demand_base,
            )
        )
        misplaced = [
            i
            for i in _oldest_first(state.active_instances)
            if i.instance_type != decision.instance_type or i.lifecycle is not decision.capacity_type
        ]
        # Bounded batches: the rest is replaced by later cycles, which see the mixed fleet.
        for instance in misplaced[: guardrails.max_scale_step_instances]:
            steps.append(
                PlannedAction(
                    "replace_instance",
                    instance.instance_id,
                    f"terminate {instance.instance_type} ({instance.lifecycle.value}); the group launches "
                    f"{decision.instance_type} ({decision.capacity_type.value}) in its place",
                )
            )
        if current < decision.instance_count:
            steps.append(
                PlannedAction(
                    "set_desired_capacity",
                    group_name,
                    f"desired capacity {current} -> {decision.instance_count}",
                    desired=decision.instance_count,
                )
            )
    return steps


def _run(step: PlannedAction, aws: AwsAdapters, guardrails: Guardrails, cycle_id: str) -> str:
    if step.kind == "checkpoint":
        command_id = aws.ssm.send_checkpoint(
            step.target.split(","), guardrails.checkpoint_command, f"costagent checkpoint {cycle_id}"
        )
        return f"command {command_id}"
    if step.kind == "set_desired_capacity":
        aws.autoscaling.set_desired_capacity(step.target, step.desired)
        return f"desired capacity set to {step.desired}"
    if step.kind == "terminate_instance":
        aws.autoscaling.terminate_instance(step.target, decrement=True)
        return "terminated, desired capacity decremented"
    if step.kind == "replace_instance":
        aws.autoscaling.terminate_instance(step.target, decrement=False)
        return "terminated; replacement launching"
    if step.kind == "set_launch_preference":
        aws.autoscaling.set_launch_preference(step.target, step.instance_type, step.on_demand_base)
        return "group updated"
    raise ValueError(f"unknown action kind {step.kind}")


def execute_decision(
    *,
    decision: ValidDecision,
    state: PipelineState,
    guardrails: Guardrails,
    cycle_id: str,
    aws: AwsAdapters,
    settings: Settings,
) -> ExecutionResult:
    steps = plan_actions(decision, state, guardrails, settings.group_name(state.pipeline_id))
    if not steps:
        return ExecutionResult(mode=state.mode, outcome=Outcome.NO_OP)
    if state.mode is Mode.OBSERVE:
        return ExecutionResult(
            mode=state.mode,
            outcome=Outcome.OBSERVED,
            actions=[
                ActionRecord(kind=s.kind, target=s.target, status="would_run", detail=s.detail) for s in steps
            ],
        )
    records: list[ActionRecord] = []
    for index, step in enumerate(steps):
        try:
            result = _run(step, aws, guardrails, cycle_id)
        except (CostagentError, ValueError) as error:
            records.append(
                ActionRecord(kind=step.kind, target=step.target, status="failed", detail=str(error))
            )
            records.extend(
                ActionRecord(kind=s.kind, target=s.target, status="not_run", detail=s.detail)
                for s in steps[index + 1 :]
            )
            report = {"failed": step.kind, "error": str(error), "actions": [r.model_dump() for r in records]}
            raise ExecutionFailed(json.dumps(report)) from error
        records.append(ActionRecord(kind=step.kind, target=step.target, status="done", detail=result))
    return ExecutionResult(mode=state.mode, outcome=Outcome.ACTED, actions=records)
