"""Observe mode records what would run and changes nothing; execute mode acts on the Auto Scaling group
and the workers. Whole cycles on embedded AWS, checked against the group and SSM as AWS reports them."""

from __future__ import annotations

from datetime import timedelta

from costagent.local.runner import ACCOUNT_ID
from costagent.local.world import World, default_guardrails, scheduled_event
from tests.events import SAMPLE_EVENT_TIME, load_event
from tests.support import (
    PIPELINE,
    actions,
    lose_workers,
    make_checkpoint_overdue,
    ssm_commands,
    the_record,
)

RUN_SHELL_DOCUMENT = "AWS-RunShellScript"


# --- observe ------------------------------------------------------------------------------------


def test_observe_mode_records_a_scale_up_but_leaves_the_group_alone(world: World) -> None:
    # given one worker reclaimed and not replaced
    lose_workers(world, 1)
    instances_before = sorted(world.instance_ids())

    # when
    report = world.aws.run(load_event("scheduled-event"))

    # then
    record = the_record(world.aws, report)
    assert (record["decision"]["action"], record["decision"]["instance_count"]) == ("SCALE_UP", 4)
    assert record["outcome"] == "observed"
    assert actions(record) == [("set_desired_capacity", "would_run")]
    assert world.desired_capacity() == 3
    assert sorted(world.instance_ids()) == instances_before


def test_observe_mode_sends_no_checkpoint_command(world: World) -> None:
    # given a checkpoint is overdue, and an interruption warning arrives
    make_checkpoint_overdue(world)

    # when the fast path and then a scheduled cycle run
    interruption = world.aws.run(load_event("spot-interruption-warning"))
    scheduled = world.aws.run(scheduled_event(PIPELINE, SAMPLE_EVENT_TIME + timedelta(minutes=5)))

    # then both recorded a checkpoint that would run, and SSM received nothing
    fast_path = the_record(world.aws, interruption)["checkpoint"]["actions"]
    assert [(a["kind"], a["status"]) for a in fast_path] == [("checkpoint", "would_run")]
    cycle = the_record(world.aws, scheduled)
    assert cycle["decision"]["action"] == "CHECKPOINT"
    assert actions(cycle) == [("checkpoint", "would_run")]
    assert ssm_commands(world.aws) == []


def test_pipeline_without_a_mode_parameter_only_observes(world_execute: World) -> None:
    # given an execute-mode pipeline whose mode parameter is deleted, and a lost worker
    aws = world_execute.aws
    aws.client("ssm").delete_parameter(Name=aws.settings.mode_parameter(PIPELINE))
    lose_workers(world_execute, 1)

    # when
    report = aws.run(load_event("scheduled-event"))

    # then
    record = the_record(aws, report)
    assert (record["mode"], record["outcome"]) == ("observe", "observed")
    assert actions(record) == [("set_desired_capacity", "would_run")]
    assert world_execute.desired_capacity() == 3


# --- execute ------------------------------------------------------------------------------------


def test_execute_mode_scales_lost_capacity_back_to_the_target(world_execute: World) -> None:
    # given two of four workers reclaimed and not replaced
    lose_workers(world_execute, 2)
    assert world_execute.desired_capacity() == 2

    # when
    report = world_execute.aws.run(load_event("scheduled-event"))

    # then
    record = the_record(world_execute.aws, report)
    assert (record["decision"]["action"], record["decision"]["instance_count"]) == ("SCALE_UP", 4)
    assert record["outcome"] == "acted"
    assert actions(record) == [("set_desired_capacity", "done")]
    assert world_execute.desired_capacity() == world_execute.guardrails.target_instances == 4
    assert len(world_execute.instance_ids()) == 4


def test_execute_mode_checkpoint_sends_the_configured_command_to_the_pipeline_instances(
    world_execute: World,
) -> None:
    # given a checkpoint is overdue
    aws = world_execute.aws
    make_checkpoint_overdue(world_execute)

    # when
    report = aws.run(load_event("scheduled-event"))

    # then
    record = the_record(aws, report)
    assert record["decision"]["action"] == "CHECKPOINT"
    assert record["outcome"] == "acted"
    assert actions(record) == [("checkpoint", "done")]
    assert sorted(record["actions"][0]["target"].split(",")) == sorted(world_execute.instance_ids())
    [command] = ssm_commands(aws)
    assert command["DocumentName"] == RUN_SHELL_DOCUMENT
    assert command["Parameters"] == {"commands": [world_execute.guardrails.checkpoint_command]}
    assert command["Comment"] == f"costagent checkpoint {record['cycle_id']}"
    assert record["actions"][0]["detail"] == f"command {command['CommandId']}"
    # moto adds every instance matched by the command's (empty) target filter, so only inclusion holds
    assert set(world_execute.instance_ids()) <= set(command["InstanceIds"])


def test_execute_mode_interruption_sends_the_checkpoint_command_once(world_execute: World) -> None:
    # when
    report = world_execute.aws.run(load_event("spot-interruption-warning"))

    # then the fast path sent it, and the cycle after it did not send it again
    record = the_record(world_execute.aws, report)
    [fast_path] = record["checkpoint"]["actions"]
    assert (fast_path["kind"], fast_path["status"]) == ("checkpoint", "done")
    [command] = ssm_commands(world_execute.aws)
    assert command["Comment"] == f"costagent interruption checkpoint {record['cycle_id']}"
    assert fast_path["detail"] == f"command {command['CommandId']}"
    assert record["decision"]["action"] == "WAIT"


def set_launch_times(world: World, oldest_first: list[str]) -> None:
    """Give the workers distinct launch times, an hour apart, oldest first.

    moto stamps every worker of the world with the same launch second, which would leave the order to
    the executor's tie-break on instance id. The times are set on moto's EC2 backend (the only way to
    backdate an instance) so that age and id order disagree, and only age can explain the result."""
    from moto.ec2.models import ec2_backends

    backend = ec2_backends[ACCOUNT_ID][world.aws.settings.region]
    for position, instance_id in enumerate(oldest_first):
        launched = SAMPLE_EVENT_TIME - timedelta(hours=len(oldest_first) - position)
        backend.get_instance(instance_id).launch_time = launched.replace(tzinfo=None)  # moto keeps naive UTC


def test_execute_mode_scale_down_terminates_the_oldest_instances_first(world_execute: World) -> None:
    # given four workers, oldest first against their id order, and a target of two
    oldest_first = [
        "i-0d3e4f5a6b7c80921",
        "i-0c2d3e4f5a6b70819",
        "i-0b1c2d3e4f5a60718",
        "i-0a1b2c3d4e5f60789",
    ]
    assert sorted(world_execute.instance_ids()) == sorted(oldest_first)
    set_launch_times(world_execute, oldest_first)
    world_execute.set_guardrails(default_guardrails(target_instances=2))

    # when
    report = world_execute.aws.run(load_event("scheduled-event"))

    # then the workers save first, then the two oldest go
    record = the_record(world_execute.aws, report)
    assert (record["decision"]["action"], record["decision"]["instance_count"]) == ("SCALE_DOWN", 2)
    assert [(a["kind"], a["target"], a["status"]) for a in record["actions"][1:]] == [
        ("terminate_instance", "i-0d3e4f5a6b7c80921", "done"),
        ("terminate_instance", "i-0c2d3e4f5a6b70819", "done"),
    ]
    assert actions(record)[0] == ("checkpoint", "done")
    assert sorted(world_execute.instance_ids()) == ["i-0a1b2c3d4e5f60789", "i-0b1c2d3e4f5a60718"]
    assert world_execute.desired_capacity() == 2


def test_duplicated_event_in_execute_mode_sends_its_checkpoint_once(world_execute: World) -> None:
    # given a checkpoint is overdue, and EventBridge delivers the scheduled event twice
    make_checkpoint_overdue(world_execute)
    event = load_event("scheduled-event")

    # when
    world_execute.aws.run(event, name="scheduled-delivery-1")
    world_execute.aws.run(event, name="scheduled-delivery-2")

    # then
    assert len(ssm_commands(world_execute.aws)) == 1
