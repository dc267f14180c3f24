"""RecordDecision: one audit record per execution, built from the state document. Pure."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from costagent.document import CycleDocument
from costagent.models import (
    ActionRecord,
    CycleRecord,
    Outcome,
    PipelineState,
    ReplayInput,
    StepError,
    TriggerKind,
)

UNMANAGED_PIPELINE = "_unmanaged"  # partition for events that name no pipeline of ours
SNAPSHOT_MAX_INSTANCES = 20  # a snapshot lists at most this many instances; counts stay exact
SNAPSHOT_MAX_POOLS = 12


def compact_state(state: PipelineState) -> dict[str, Any]:
    """The snapshot kept in the audit record: what a reviewer needs, a few KB at most."""
    instances = state.active_instances
    return {
        "time": state.time.isoformat(),
        "mode": state.mode.value,
        "instance_count": len(instances),
        "instances": [
            f"{i.instance_id} {i.instance_type} {i.zone} {i.lifecycle.value}"
            for i in instances[:SNAPSHOT_MAX_INSTANCES]
        ],
        "spot_prices": [
            f"{p.instance_type} {p.zone} ${p.price_per_hour:.4f}/h ({p.price_change_pct_1h:+.1f}% 1h, "
            f"{p.recent_interruptions} interruptions)"
            for p in sorted(state.spot_prices, key=lambda p: p.price_per_hour)[:SNAPSHOT_MAX_POOLS]
        ],
        "termination_notices": [
            f"{n.kind} {n.instance_id} at {n.time.isoformat()}" for n in state.termination_notices
        ],
        "pipeline_progress": state.pipeline_progress,
        "minutes_since_checkpoint": state.minutes_since_checkpoint,
        "budget_remaining": state.budget_remaining,
        "expected_remaining_hours": state.expected_remaining_hours,
        "desired_capacity": state.capacity.desired_capacity if state.capacity else None,
        "action_checks": state.action_checks.model_dump(mode="json") if state.action_checks else None,
        "migration": state.migration.model_dump(mode="json") if state.migration else None,
        "last_successful_drill_at": state.last_successful_drill_at.isoformat()
        if state.last_successful_drill_at
        else None,
    }


def _partial_actions(error: StepError) -> list[ActionRecord]:
    """ExecutionFailed carries JSON of what ran; Lambda wraps it in its own error JSON."""
    try:
        message = json.loads(error.cause).get("errorMessage", "")
        report = json.loads(message)
        return [ActionRecord.model_validate(a) for a in report.get("actions", [])]
    except (ValueError, AttributeError, TypeError):
        return []


def _outcome(doc: CycleDocument, phase: str) -> Outcome:
    if doc.trigger is None:
        return Outcome.FAILED
    if doc.trigger.kind is TriggerKind.IGNORED:
        return Outcome.IGNORED
    if doc.trigger.duplicate_of:
        return Outcome.SKIPPED
    if phase == "checkpoint":
        if doc.checkpoint_error is not None or doc.checkpoint is None:
            return Outcome.FAILED
        done = any(a.status == "done" for a in doc.checkpoint.actions)
        return Outcome.ACTED if done else Outcome.OBSERVED
    if doc.gather_error or doc.clamp_error or doc.execute_error:
        return Outcome.FAILED
    if doc.gathered is not None and not doc.gathered.lease.acquired:
        return Outcome.SKIPPED
    if doc.executed is not None:
        return doc.executed.outcome
    return Outcome.FAILED


def build_cycle_record(
    doc: CycleDocument, *, phase: str, recorded_at: datetime, ttl_days: int
) -> CycleRecord:
    trigger = doc.trigger
    cycle_time = trigger.event_time if trigger else recorded_at
    cycle_id = (
        trigger.cycle_id if trigger else f"{cycle_time:%Y-%m-%dT%H:%M:%SZ}#{doc.execution_name or 'unknown'}"
    )
    if trigger is not None and trigger.duplicate_of:
        cycle_id = f"{cycle_id}#duplicate:{doc.execution_name}"  # beside the original item, never over it
    state = doc.gathered.state if doc.gathered else None
    actions = doc.executed.actions if doc.executed else []
    if doc.execute_error is not None:
        actions = _partial_actions(doc.execute_error)
    latencies = {
        step: part.latency_ms
        for step, part in (
            ("trigger", trigger),
            ("checkpoint", doc.checkpoint),
            ("gather", doc.gathered),
            ("plan", doc.plan),
            ("clamp", doc.clamped),
            ("execute", doc.executed),
        )
        if part is not None
    }
    if trigger is not None and trigger.received_at is not None:
        latencies["total_before_record"] = round(
            (recorded_at - trigger.received_at).total_seconds() * 1000.0, 1
        )
    lease_note = ""
    if doc.gathered is not None and not doc.gathered.lease.acquired:
        lease_note = f"; skipped: lease held by {doc.gathered.lease.holder}"
    return CycleRecord(
        pipeline_id=(trigger.pipeline_id if trigger else None) or UNMANAGED_PIPELINE,
        cycle_id=cycle_id,
        cycle_time=cycle_time,
        execution_name=doc.execution_name,
        trigger=trigger.kind if trigger else TriggerKind.IGNORED,
        trigger_detail=(trigger.reason if trigger else "ReadTrigger failed") + lease_note,
        instance_id=trigger.instance_id if trigger else None,
        instance_type=trigger.instance_type if trigger else None,
        zone=trigger.zone if trigger else None,
        state=compact_state(state) if state else None,
        planner=doc.plan.planner if doc.plan else None,
        plan_reason=doc.plan.reason if doc.plan else "",
        fallback_reason=doc.plan.fallback_reason if doc.plan else None,
        llm=doc.plan.llm if doc.plan else None,
        plan_fingerprint=doc.plan.fingerprint if doc.plan else None,
        reused_from=doc.plan.reused_from if doc.plan else None,
        proposal=doc.plan.proposal if doc.plan else None,
        clamps=doc.clamped.clamps if doc.clamped else [],
        decision=doc.clamped.decision if doc.clamped else None,
        mode=state.mode if state else (doc.checkpoint.mode if doc.checkpoint else None),
        outcome=_outcome(doc, phase),
        actions=actions,
        checkpoint=doc.checkpoint,
        errors=doc.errors(),
        latencies_ms=latencies,
        phase="checkpoint" if phase == "checkpoint" else "final",
        duplicate_of=trigger.duplicate_of if trigger else None,
        expires_at=int((cycle_time + timedelta(days=ttl_days)).timestamp()),
        replay=ReplayInput(state=state, guardrails=doc.gathered.guardrails)
        if state is not None and doc.gathered is not None and doc.plan is not None
        else None,
    )


# CloudWatch metrics of one recorded cycle (EMF through powertools in the record Lambda). The alarms and
# the dashboard in infra/monitoring.tf read exactly these names; rates are computed there with metric math.
METRIC_CYCLES = "Cycles"
METRIC_FALLBACK_CYCLES = "FallbackCycles"
METRIC_CLAMPED_CYCLES = "ClampedCycles"
METRIC_FAILED_ACTIONS = "FailedActions"
METRIC_DECISION_LATENCY = "DecisionLatency"  # ms from ReadTrigger to RecordDecision
METRIC_LLM_LATENCY = "LlmLatency"  # ms of the Messages API call, only when Claude was called
METRIC_LLM_INPUT_TOKENS = "LlmInputTokens"
METRIC_LLM_OUTPUT_TOKENS = "LlmOutputTokens"


def cycle_metrics(record: CycleRecord) -> list[tuple[str, str, float]]:
    """(name, unit, value) for each metric the record yields: counts, then latencies and tokens."""
    metrics: list[tuple[str, str, float]] = [(f"Recorded_{record.phase}", "Count", 1)]
    if record.phase != "final" or record.duplicate_of is not None:
        return metrics
    metrics += [
        (METRIC_CYCLES, "Count", 1),
        (f"Outcome_{record.outcome.value}", "Count", 1),
        (METRIC_FALLBACK_CYCLES, "Count", 1 if record.fallback_reason else 0),
        (METRIC_CLAMPED_CYCLES, "Count", 1 if record.clamps else 0),
        ("ClampEvents", "Count", len(record.clamps)),
        (METRIC_FAILED_ACTIONS, "Count", sum(1 for a in record.actions if a.status == "failed")),
    ]
    if record.decision is not None:
        metrics.append((f"Action_{record.decision.action.value}", "Count", 1))
        executed = sum(1 for a in record.actions if a.status == "done" and a.kind != "none")
        would_run = sum(1 for a in record.actions if a.status == "would_run" and a.kind != "none")
        metrics += [("ActionsDone", "Count", executed), ("ActionsWouldRun", "Count", would_run)]
    if "total_before_record" in record.latencies_ms:
        metrics.append((METRIC_DECISION_LATENCY, "Milliseconds", record.latencies_ms["total_before_record"]))
    if record.llm is not None:
        metrics += [
            (METRIC_LLM_LATENCY, "Milliseconds", record.llm.latency_ms),
            (METRIC_LLM_INPUT_TOKENS, "Count", record.llm.input_tokens),
            (METRIC_LLM_OUTPUT_TOKENS, "Count", record.llm.output_tokens),
        ]
    return metrics
