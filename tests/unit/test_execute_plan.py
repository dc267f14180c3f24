"""Which AWS steps a validated decision takes, in order (pure part of ExecuteDecision)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from costagent.execute import plan_actions
from costagent.guardrails import Guardrails
from costagent.models import Action, CapacityType, Instance, PipelineState, ValidDecision

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=timezone.utc)
GUARDRAILS = Guardrails(
    allowed_instance_types=["c5.xlarge", "c5a.xlarge"],
    default_instance_type="c5.xlarge",
    max_instances=20,
    max_scale_step_instances=2,
)


def fleet(ages_hours: list[float]) -> PipelineState:
    instances = [
        Instance(
            instance_id=f"i-{index:017x}",
            instance_type="c5.xlarge",
            zone="us-east-1a",
            lifecycle=CapacityType.SPOT,
            launch_time=NOW - timedelta(hours=age),
        )
        for index, age in enumerate(ages_hours)
    ]
    return PipelineState(pipeline_id="etl", time=NOW, active_instances=instances)


def decide(action: Action, count: int, **changes: object) -> ValidDecision:
    values: dict[str, object] = {
        "action": action,
        "instance_type": "c5.xlarge",
        "capacity_type": CapacityType.SPOT,
        "instance_count": count,
        "should_checkpoint": False,
        "reasoning": "",
    }
    values.update(changes)
    return ValidDecision.model_validate(values)


def test_wait_takes_no_step() -> None:
    assert plan_actions(decide(Action.WAIT, 3), fleet([1, 2, 3]), GUARDRAILS, "g") == []


def test_scale_down_terminates_the_oldest_instances_first() -> None:
    state = fleet([1.0, 5.0, 3.0, 0.5])
    steps = plan_actions(decide(Action.SCALE_DOWN, 2), state, GUARDRAILS, "g")
    assert [s.kind for s in steps] == ["terminate_instance", "terminate_instance"]
    assert [s.target for s in steps] == ["i-00000000000000001", "i-00000000000000002"]  # 5 h, then 3 h old


def test_checkpoint_comes_before_any_capacity_change() -> None:
    steps = plan_actions(decide(Action.SCALE_UP, 5, should_checkpoint=True), fleet([1, 2]), GUARDRAILS, "g")
    assert [s.kind for s in steps] == ["checkpoint", "set_desired_capacity"]
    assert steps[1].desired == 5


def test_migration_to_on_demand_sets_base_capacity_and_replaces_a_bounded_batch() -> None:
    decision = decide(Action.MIGRATE, 4, capacity_type=CapacityType.ON_DEMAND, should_checkpoint=True)
    steps = plan_actions(decision, fleet([4, 3, 2, 1]), GUARDRAILS, "g")
    assert [s.kind for s in steps] == [
        "checkpoint",
        "set_launch_preference",
        "replace_instance",
        "replace_instance",
    ]
    assert steps[1].on_demand_base == 4
    assert [s.target for s in steps[2:]] == [
        "i-00000000000000000",
        "i-00000000000000001",
    ]  # oldest, step of 2


def test_checkpoint_with_no_instances_takes_no_step() -> None:
    assert (
        plan_actions(decide(Action.CHECKPOINT, 0, should_checkpoint=True), fleet([]), GUARDRAILS, "g") == []
    )
