"""Safety of acting: the global kill switch forces observe, and an action keyed (pipeline, cycle, action)
runs once however often its Lambda is invoked."""

from __future__ import annotations

from costagent.handlers import checkpoint_now as checkpoint_handler
from costagent.handlers import execute as execute_handler
from costagent.local.runner import LocalContext
from costagent.local.world import World
from tests.events import SAMPLE_EVENT_TIME, load_event
from tests.support import PIPELINE, make_checkpoint_overdue, ssm_commands


def set_kill_switch(world: World, value: str) -> None:
    world.aws.client("ssm").put_parameter(
        Name=world.aws.settings.kill_switch_parameter, Value=value, Type="String", Overwrite=True
    )


def test_kill_switch_forces_observe_on_an_execute_pipeline(world_execute: World) -> None:
    # given a pipeline in execute mode with a checkpoint overdue, and the kill switch engaged
    make_checkpoint_overdue(world_execute)
    set_kill_switch(world_execute, "on")

    # when
    report = world_execute.aws.run(load_event("scheduled-event"))

    # then the decision is recorded as what would run, and nothing is sent
    assert report.output is not None
    state = report.output["gathered"]["state"]
    assert (state["mode"], state["mode_source"]) == ("observe", "kill_switch")
    assert report.output["executed"]["outcome"] == "observed"
    assert ssm_commands(world_execute.aws) == []


def test_kill_switch_off_lets_execute_mode_act(world_execute: World) -> None:
    make_checkpoint_overdue(world_execute)
    set_kill_switch(world_execute, "off")

    report = world_execute.aws.run(load_event("scheduled-event"))

    assert report.output is not None
    assert report.output["executed"]["outcome"] == "acted"
    assert len(ssm_commands(world_execute.aws)) == 1


def test_kill_switch_stops_the_interruption_fast_path_from_acting(world_execute: World) -> None:
    set_kill_switch(world_execute, "on")

    report = world_execute.aws.run(load_event("spot-interruption-warning"))

    assert report.output is not None
    assert [a["status"] for a in report.output["checkpoint"]["actions"]] == ["would_run"]
    assert ssm_commands(world_execute.aws) == []


def test_execute_lambda_invoked_twice_for_one_cycle_acts_once(world_execute: World) -> None:
    # given a completed cycle whose decision sent a checkpoint
    make_checkpoint_overdue(world_execute)
    report = world_execute.aws.run(load_event("scheduled-event"))
    assert report.output is not None and len(ssm_commands(world_execute.aws)) == 1
    document = {key: value for key, value in report.output.items() if key not in ("executed", "audit")}

    # when Step Functions (or anyone) invokes ExecuteDecision again with the same document
    again = execute_handler.handler(document, LocalContext(function_name="costagent-execute"))

    # then the stored result comes back and nothing is sent twice
    assert again["outcome"] == "acted"
    assert len(ssm_commands(world_execute.aws)) == 1


def test_checkpoint_lambda_invoked_twice_for_one_warning_sends_one_command(world_execute: World) -> None:
    report = world_execute.aws.run(load_event("spot-interruption-warning"))
    assert report.output is not None
    sent = len(ssm_commands(world_execute.aws))
    document = {"event": report.output["event"], "trigger": report.output["trigger"]}

    again = checkpoint_handler.handler(document, LocalContext(function_name="costagent-checkpoint-now"))

    assert again["pipeline_id"] == PIPELINE
    assert len(ssm_commands(world_execute.aws)) == sent


def test_state_shows_when_the_last_restore_drill_passed(world: World) -> None:
    # given a checkpoint with one object, and a drill that verified it
    client = world.worker_client()
    client.checkpoint_done("ckpt-1", {"state.json": b'{"offset": 42}'}, progress=0.3, now=SAMPLE_EVENT_TIME)
    drill = client.drill(now=SAMPLE_EVENT_TIME)
    assert drill.ok

    # when
    report = world.aws.run(load_event("scheduled-event"))

    # then
    assert report.output is not None
    state = report.output["gathered"]["state"]
    assert state["last_drill_ok"] is True
    assert state["last_successful_drill_at"].startswith("2026-12-03T12:00:00")
