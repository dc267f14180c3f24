"""What the executor does to the Auto Scaling group over several cycles, on moto: a migration to
on-demand and back in bounded batches, a checkpoint that never lands, and a throttled Auto Scaling API."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from moto.autoscaling.exceptions import AutoscalingClientError

from costagent.local.world import World, default_guardrails, scheduled_event
from tests.events import SAMPLE_EVENT_TIME
from tests.support import PIPELINE, lose_workers, make_checkpoint_overdue, ssm_commands, the_record


def fleet(world: World) -> list[tuple[str, str]]:
    """(type, lifecycle) of each running instance of the pipeline, sorted."""
    reservations = world.aws.client("ec2").describe_instances(
        Filters=[
            {"Name": "tag:costagent:pipeline", "Values": [PIPELINE]},
            {"Name": "instance-state-name", "Values": ["running", "pending"]},
        ]
    )["Reservations"]
    return sorted(
        (i["InstanceType"], i.get("InstanceLifecycle", "on-demand"))
        for r in reservations
        for i in r["Instances"]
    )


def cycle(world: World, minutes: float) -> dict[str, Any]:
    report = world.aws.run(scheduled_event(PIPELINE, SAMPLE_EVENT_TIME + timedelta(minutes=minutes)))
    assert report.status == "SUCCEEDED", report.error
    return the_record(world.aws, report)


def test_deadline_at_risk_moves_to_on_demand_in_batches_and_back_to_spot_when_it_is_safe(
    world_execute: World,
) -> None:
    # given a deadline the spot fleet would miss (4.5 h of work left, 3 h to go), two instances per step
    tight = default_guardrails(max_scale_step_instances=2, deadline=SAMPLE_EVENT_TIME + timedelta(hours=3))
    world_execute.set_guardrails(tight)

    # when two cycles run
    first = cycle(world_execute, 1)
    assert first["decision"]["action"] == "MIGRATE" and first["decision"]["capacity_type"] == "on-demand"
    target = first["decision"]["instance_type"]
    halfway = fleet(world_execute)
    second = cycle(world_execute, 2)

    # then the first replaced one batch, the second continued the move, and the fleet is on-demand
    assert [a["kind"] for a in first["actions"]][:2] == ["checkpoint", "set_launch_preference"]
    assert halfway.count((target, "on-demand")) == 2 and len(halfway) == 4
    assert second["decision"]["action"] == "MIGRATE"
    assert fleet(world_execute) == [(target, "on-demand")] * 4

    # and when the deadline is lifted, the fleet returns to spot (hysteresis: only with slack to spare)
    world_execute.set_guardrails(default_guardrails(max_scale_step_instances=2))
    back = [cycle(world_execute, minutes) for minutes in (3, 4)]
    assert [r["decision"]["capacity_type"] for r in back] == ["spot", "spot"]
    assert all(lifecycle == "spot" for _, lifecycle in fleet(world_execute))
    # and then it stays: a steady fleet needs no further move
    assert cycle(world_execute, 5)["decision"]["action"] in ("WAIT", "CHECKPOINT")


def test_checkpoint_that_never_lands_is_reported_and_asked_for_again(world_execute: World) -> None:
    # given a checkpoint request the workers never answer (the manifest pointer stays old)
    make_checkpoint_overdue(world_execute)
    asked = cycle(world_execute, 0)
    assert asked["decision"]["action"] == "CHECKPOINT" and len(ssm_commands(world_execute.aws)) == 1

    # when the next cycles come, within and past the five minutes a checkpoint may take
    soon = world_execute.aws.run(scheduled_event(PIPELINE, SAMPLE_EVENT_TIME + timedelta(minutes=2)))
    late = world_execute.aws.run(scheduled_event(PIPELINE, SAMPLE_EVENT_TIME + timedelta(minutes=7)))

    # then the state says pending (and nothing is re-sent while the workers may still be saving), then
    # failed, and the failed one is requested again
    assert soon.output is not None and late.output is not None
    assert soon.output["gathered"]["state"]["action_checks"]["checkpoint"] == "pending"
    assert soon.output["clamped"]["decision"]["action"] == "WAIT"
    assert late.output["gathered"]["state"]["action_checks"]["checkpoint"] == "failed"
    assert late.output["clamped"]["decision"]["action"] == "CHECKPOINT"
    assert len(ssm_commands(world_execute.aws)) == 2


def test_landed_checkpoint_is_reported_as_landed(world_execute: World) -> None:
    make_checkpoint_overdue(world_execute)
    cycle(world_execute, 0)
    world_execute.record_checkpoint("ckpt-answer", SAMPLE_EVENT_TIME + timedelta(minutes=1), progress=0.26)

    report = world_execute.aws.run(scheduled_event(PIPELINE, SAMPLE_EVENT_TIME + timedelta(minutes=2)))

    assert report.output is not None
    assert report.output["gathered"]["state"]["action_checks"]["checkpoint"] == "landed"


@contextmanager
def throttled_set_desired_capacity(times: int) -> Iterator[list[int]]:
    """AWS answers SetDesiredCapacity with 400 Throttling (and does nothing) the first `times` requests;
    the request goes through botocore's real retry logic, as it would in AWS."""
    from moto.autoscaling.models import AutoScalingBackend

    refused: list[int] = []
    original = AutoScalingBackend.set_desired_capacity

    def set_desired_capacity(backend: Any, *args: Any, **kwargs: Any) -> Any:
        if len(refused) < times:
            refused.append(1)
            raise AutoscalingClientError("Throttling", "Rate exceeded")
        return original(backend, *args, **kwargs)

    with mock.patch.object(AutoScalingBackend, "set_desired_capacity", set_desired_capacity):
        yield refused


@pytest.mark.filterwarnings("ignore:Exception\\(AutoscalingClientError\\) with code Throttling:UserWarning")
def test_throttled_auto_scaling_api_is_retried_and_the_scale_up_lands_once(world_execute: World) -> None:
    # given a lost worker, and SetDesiredCapacity throttled twice before AWS accepts it
    lose_workers(world_execute, 1)

    # when
    with throttled_set_desired_capacity(times=2) as throttled:
        record = cycle(world_execute, 1)

    # then the client's retries absorbed the throttling and the group is back to four
    assert len(throttled) == 2
    assert record["outcome"] == "acted"
    assert world_execute.desired_capacity() == 4


@pytest.mark.filterwarnings("ignore:Exception\\(AutoscalingClientError\\) with code Throttling:UserWarning")
def test_auto_scaling_api_throttled_past_every_retry_records_what_ran(world_execute: World) -> None:
    lose_workers(world_execute, 1)

    with throttled_set_desired_capacity(times=100):
        record = cycle(world_execute, 1)

    assert record["outcome"] == "failed"
    assert record["errors"]["execute"]["error"] == "ExecutionFailed"
    assert [(a["kind"], a["status"]) for a in record["actions"]][-1] == ("set_desired_capacity", "failed")
    assert "Throttling" in record["actions"][-1]["detail"]
    assert world_execute.desired_capacity() == 3


def test_observe_mode_migration_changes_nothing(world: World) -> None:
    world.set_guardrails(default_guardrails(deadline=SAMPLE_EVENT_TIME + timedelta(hours=3)))
    before = fleet(world)

    record = cycle(world, 1)

    assert record["decision"]["action"] == "MIGRATE" and record["outcome"] == "observed"
    assert {a["status"] for a in record["actions"]} == {"would_run"}
    assert fleet(world) == before
