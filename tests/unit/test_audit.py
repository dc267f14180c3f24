"""The audit record built from the state document: outcome, errors, latencies, size."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from costagent.audit import UNMANAGED_PIPELINE, build_cycle_record, compact_state
from costagent.document import CycleDocument
from costagent.guardrails import Guardrails
from costagent.models import (
    Action,
    CapacityType,
    ClampResult,
    ExecutionResult,
    GatherResult,
    Instance,
    LeaseInfo,
    Mode,
    Outcome,
    PipelineState,
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
