"""The audit record built from the state document: outcome, errors, latencies, size."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from costagent.audit import UNMANAGED_PIPELINE, build_cycle_record, compact_state, cycle_metrics
from costagent.document import CycleDocument
from costagent.guardrails import Guardrails
from costagent.models import (
    Action,
    CapacityType,
    ClampEvent,
    ClampResult,
    ExecutionResult,
    GatherResult,
    Instance,
    LeaseInfo,
    LlmUsage,
    Mode,
    Outcome,
    PipelineState,
    PlanResult,
    StepError,
    Trigger,
    TriggerKind,
    ValidDecision,
)

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=timezone.utc)
GUARDRAILS = Guardrails(
    allowed_instance_types=["c5.xlarge"], default_instance_type="c5.xlarge", max_instances=50
)


def trigger(kind: TriggerKind = TriggerKind.SCHEDULED, pipeline: str | None = "etl") -> Trigger:
    return Trigger(kind=kind, pipeline_id=pipeline, cycle_id="2026-12-03T12:00:00Z#e1", event_time=NOW)


def state(instances: int = 2) -> PipelineState:
    return PipelineState(
        pipeline_id="etl",
        time=NOW,
        active_instances=[
            Instance(
                instance_id=f"i-{n:017x}",
                instance_type="c5.xlarge",
                zone="us-east-1a",
                lifecycle=CapacityType.SPOT,
                launch_time=NOW - timedelta(hours=1),
            )
            for n in range(instances)
        ],
    )


def decision() -> ValidDecision:
    return ValidDecision(
        action=Action.WAIT,
        instance_type="c5.xlarge",
        capacity_type=CapacityType.SPOT,
        instance_count=2,
        should_checkpoint=False,
        reasoning="steady",
    )


def full_document(**changes: object) -> CycleDocument:
    values: dict[str, object] = {
        "execution_name": "cycle-etl-1",
        "trigger": trigger(),
        "gathered": GatherResult(
            state=state(), guardrails=GUARDRAILS, lease=LeaseInfo(acquired=True), latency_ms=40
        ),
        "clamped": ClampResult(decision=decision(), latency_ms=1),
        "executed": ExecutionResult(mode=Mode.OBSERVE, outcome=Outcome.NO_OP, latency_ms=2),
    }
    values.update(changes)
    return CycleDocument.model_validate(values)


def record(document: CycleDocument, phase: str = "final"):  # type: ignore[no-untyped-def]
    return build_cycle_record(document, phase=phase, recorded_at=NOW, ttl_days=30)


def test_completed_cycle_records_decision_outcome_latencies_and_ttl() -> None:
    result = record(full_document())
    assert result.outcome is Outcome.NO_OP
    assert result.decision == decision()
    assert result.latencies_ms == {"gather": 40, "clamp": 1, "execute": 2, "trigger": 0.0}
    assert result.expires_at == int((NOW + timedelta(days=30)).timestamp())


def test_execute_failure_is_recorded_with_the_actions_that_ran() -> None:
    report = {
        "failed": "set_desired_capacity",
        "error": "throttled",
        "actions": [
            {"kind": "checkpoint", "target": "i-1", "status": "done", "detail": "command c-1"},
            {"kind": "set_desired_capacity", "target": "g", "status": "failed", "detail": "throttled"},
        ],
    }
    cause = json.dumps({"errorType": "ExecutionFailed", "errorMessage": json.dumps(report)})
    result = record(
        full_document(executed=None, execute_error=StepError(Error="ExecutionFailed", Cause=cause))
    )
    assert result.outcome is Outcome.FAILED
    assert [a.status for a in result.actions] == ["done", "failed"]
    assert result.errors["execute"].error == "ExecutionFailed"


def test_unreadable_failure_cause_still_records_the_failure() -> None:
    result = record(full_document(executed=None, execute_error=StepError(Error="States.Timeout", Cause="")))
    assert result.outcome is Outcome.FAILED and result.actions == []


def test_ignored_event_is_recorded_under_the_unmanaged_partition() -> None:
    document = CycleDocument(execution_name="x", trigger=trigger(TriggerKind.IGNORED, pipeline=None))
    result = record(document)
    assert result.pipeline_id == UNMANAGED_PIPELINE and result.outcome is Outcome.IGNORED


def test_trigger_failure_is_still_one_record() -> None:
    document = CycleDocument(
        execution_name="x", trigger_error=StepError(Error="Lambda.Unknown", Cause="boom")
    )
    result = record(document)
    assert result.outcome is Outcome.FAILED and "x" in result.cycle_id


def test_lease_held_elsewhere_records_a_skip_and_who_holds_it() -> None:
    gathered = GatherResult(lease=LeaseInfo(acquired=False, holder="2026-12-03T11:59:00Z#other"))
    result = record(full_document(gathered=gathered, clamped=None, executed=None))
    assert result.outcome is Outcome.SKIPPED and "#other" in result.trigger_detail


def test_snapshot_of_a_large_fleet_stays_small() -> None:
    snapshot = compact_state(state(instances=200))
    assert snapshot["instance_count"] == 200
    assert len(json.dumps(snapshot)) < 4000


def metric_values(document: CycleDocument, phase: str = "final") -> dict[str, float]:
    return {name: value for name, _, value in cycle_metrics(record(document, phase))}


def test_metrics_count_a_fallback_and_a_clamped_cycle_once_each() -> None:
    clamp = ClampEvent(rule="max_instances", field="instance_count", proposed=9, applied=4, reason="cap")
    document = full_document(
        plan=PlanResult(planner="fallback", fallback_reason="timeout", proposal={}),
        clamped=ClampResult(decision=decision(), clamps=[clamp, clamp], latency_ms=1),
    )
    values = metric_values(document)
    assert values["Cycles"] == 1
    assert values["FallbackCycles"] == 1
    assert values["ClampedCycles"] == 1
    assert values["ClampEvents"] == 2
    assert values["Action_WAIT"] == 1


def test_metrics_of_a_plain_cycle_carry_zero_rates_and_claude_usage_when_called() -> None:
    usage = LlmUsage(provider="anthropic", model="m", prompt_version="v", latency_ms=850.0, input_tokens=2100)
    values = metric_values(full_document(plan=PlanResult(planner="claude", proposal={}, llm=usage)))
    assert values["FallbackCycles"] == 0
    assert values["ClampedCycles"] == 0
    assert values["LlmLatency"] == 850.0
    assert values["LlmInputTokens"] == 2100


def test_checkpoint_phase_and_duplicates_are_not_counted_as_cycles() -> None:
    assert "Cycles" not in metric_values(full_document(), phase="checkpoint")
    duplicate = full_document(trigger=trigger().model_copy(update={"duplicate_of": "cycle-etl-0"}))
    assert "Cycles" not in metric_values(duplicate)
