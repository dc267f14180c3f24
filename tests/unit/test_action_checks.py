"""Checking last cycle's actions, and seeing a migration part-way: pure, from records and the fleet."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from costagent.adapters.s3 import CheckpointPointer
from costagent.guardrails import Guardrails
from costagent.models import (
    Action,
    ActionChecks,
    ActionRecord,
    CapacityType,
    CycleRecord,
    GroupCapacity,
    Instance,
    MigrationStatus,
    Outcome,
    PipelineState,
    TriggerKind,
    ValidDecision,
)
from costagent.planner import RulesPlanner
from costagent.state_builder import action_checks, migration_status

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=timezone.utc)
GUARDRAILS = Guardrails(
    allowed_instance_types=["c5.xlarge", "c5a.xlarge"],
    default_instance_type="c5.xlarge",
    max_instances=10,
    target_instances=4,
)


def instance(
    n: int, instance_type: str = "c5.xlarge", lifecycle: CapacityType = CapacityType.SPOT
) -> Instance:
    return Instance(
        instance_id=f"i-{n:017x}",
        instance_type=instance_type,
        zone="us-east-1a",
        lifecycle=lifecycle,
        launch_time=NOW - timedelta(hours=1),
    )


def group(desired: int = 4, instance_type: str = "c5.xlarge", on_demand_base: int = 0) -> GroupCapacity:
    return GroupCapacity(
        group_name="g",
        desired_capacity=desired,
        min_size=0,
        max_size=10,
        instance_type=instance_type,
        on_demand_base_capacity=on_demand_base,
    )


def acted(minutes_ago: float, *kinds: str, count: int = 4) -> CycleRecord:
    return CycleRecord(
        pipeline_id="etl",
        cycle_id=f"c-{minutes_ago}",
        cycle_time=NOW - timedelta(minutes=minutes_ago),
        trigger=TriggerKind.SCHEDULED,
        outcome=Outcome.ACTED,
        decision=ValidDecision(
            action=Action.SCALE_UP,
            instance_type="c5.xlarge",
            capacity_type=CapacityType.SPOT,
            instance_count=count,
            should_checkpoint=True,
            reasoning="",
        ),
        actions=[ActionRecord(kind=kind, status="done") for kind in kinds],
    )


def test_nothing_asked_means_nothing_to_check() -> None:
    assert action_checks([], None, group(), [instance(0)], NOW) is None


def test_checkpoint_is_pending_then_failed_unless_a_newer_one_lands() -> None:
    records = [acted(2, "checkpoint")]
    old = CheckpointPointer(checkpoint_id="old", time=NOW - timedelta(minutes=40))
    fresh = CheckpointPointer(checkpoint_id="new", time=NOW - timedelta(minutes=1))
    assert action_checks(records, old, group(), [], NOW).checkpoint == "pending"  # type: ignore[union-attr]
    late = [acted(6, "checkpoint")]
    assert action_checks(late, old, group(), [], NOW).checkpoint == "failed"  # type: ignore[union-attr]
    answered = action_checks(late, fresh, group(), [], NOW)
    assert answered is not None and answered.checkpoint == "landed"


def test_capacity_is_reached_when_the_group_and_the_fleet_match_the_decision() -> None:
    fleet = [instance(n) for n in range(4)]
    checks = action_checks([acted(1, "set_desired_capacity")], None, group(desired=4), fleet, NOW)
    assert checks is not None and (checks.capacity, checks.capacity_target) == ("reached", 4)


def test_capacity_that_does_not_arrive_in_ten_minutes_is_not_reached() -> None:
    fleet = [instance(n) for n in range(2)]
    pending = action_checks([acted(3, "set_desired_capacity")], None, group(desired=4), fleet, NOW)
    late = action_checks([acted(12, "set_desired_capacity")], None, group(desired=4), fleet, NOW)
    assert pending is not None and pending.capacity == "pending"
    assert late is not None and late.capacity == "not_reached"


def test_no_migration_when_every_instance_runs_where_the_group_launches() -> None:
    assert migration_status(group(), [instance(n) for n in range(4)]) is None


def test_migration_part_way_counts_the_instances_still_elsewhere() -> None:
    fleet = [instance(0), instance(1), instance(2, "c5a.xlarge", CapacityType.ON_DEMAND)]
    status = migration_status(group(instance_type="c5a.xlarge", on_demand_base=4), fleet)
    assert status == MigrationStatus(
        target_type="c5a.xlarge",
        target_capacity=CapacityType.ON_DEMAND,
        misplaced=2,
        total=3,
        from_type="c5.xlarge",
        from_capacity=CapacityType.SPOT,
    )


def test_a_group_mixed_on_purpose_is_not_a_migration() -> None:
    fleet = [instance(0, lifecycle=CapacityType.ON_DEMAND), instance(1), instance(2), instance(3)]
    assert migration_status(group(on_demand_base=1), fleet) is None


def state_with(**changes: object) -> PipelineState:
    values: dict[str, object] = {
        "pipeline_id": "etl",
        "time": NOW,
        "active_instances": [instance(n) for n in range(4)],
        "minutes_since_checkpoint": 5.0,
    }
    values.update(changes)
    return PipelineState.model_validate(values)


def test_rules_continue_a_migration_once_the_last_batch_arrived() -> None:
    move = MigrationStatus(
        target_type="c5a.xlarge",
        target_capacity=CapacityType.SPOT,
        misplaced=2,
        total=4,
        from_type="c5.xlarge",
        from_capacity=CapacityType.SPOT,
    )
    state = state_with(migration=move, action_checks=ActionChecks(capacity="reached", capacity_target=4))
    proposal = RulesPlanner().plan(state, GUARDRAILS).proposal
    assert (proposal["action"], proposal["instance_type"]) == ("MIGRATE", "c5a.xlarge")


def test_rules_wait_while_replacements_are_still_launching() -> None:
    move = MigrationStatus(target_type="c5a.xlarge", target_capacity=CapacityType.SPOT, misplaced=2, total=4)
    state = state_with(migration=move, action_checks=ActionChecks(capacity="pending", capacity_target=4))
    assert RulesPlanner().plan(state, GUARDRAILS).proposal["action"] != "MIGRATE"


def test_rules_roll_back_a_migration_whose_pool_does_not_fill() -> None:
    move = MigrationStatus(
        target_type="c5a.xlarge",
        target_capacity=CapacityType.SPOT,
        misplaced=3,
        total=3,
        from_type="c5.xlarge",
        from_capacity=CapacityType.SPOT,
    )
    fleet = [instance(n) for n in range(3)]
    state = state_with(
        active_instances=fleet,
        migration=move,
        action_checks=ActionChecks(capacity="not_reached", capacity_target=4),
    )
    result = RulesPlanner().plan(state, GUARDRAILS)
    assert (result.proposal["action"], result.proposal["instance_type"]) == ("MIGRATE", "c5.xlarge")
    assert result.signals["rule"] == "rollback_migration"


def test_rules_do_not_repeat_a_checkpoint_in_flight_but_retry_a_failed_one() -> None:
    overdue = {"minutes_since_checkpoint": 45.0}
    in_flight = state_with(**overdue, action_checks=ActionChecks(checkpoint="pending"))
    failed = state_with(**overdue, action_checks=ActionChecks(checkpoint="failed"))
    assert RulesPlanner().plan(in_flight, GUARDRAILS).proposal["action"] == "WAIT"
    assert RulesPlanner().plan(failed, GUARDRAILS).proposal["action"] == "CHECKPOINT"
