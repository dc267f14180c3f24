"""Every branch of statemachine/cycle.asl.json, run for real on embedded AWS (moto's Step Functions
interpreter dispatching to the Lambda handlers in process). Given a world and an event, when the
execution runs, then the states it took and the audit record it left are what an operator expects."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from costagent.audit import SNAPSHOT_MAX_INSTANCES
from costagent.handlers import _runtime
from costagent.local.runner import EmbeddedAws
from costagent.local.world import World, build_world, default_guardrails, scheduled_event
from tests.events import SAMPLE_EVENT_TIME, load_event
from tests.support import (
    PIPELINE,
    UNMANAGED,
    actions,
    audit_items,
    audit_records,
    error_message,
    lease_holder,
    lose_workers,
    make_checkpoint_overdue,
    put_lease,
    ssm_commands,
    the_record,
)

READ_TRIGGER = "costagent-read-trigger"
CHECKPOINT_NOW = "costagent-checkpoint-now"
GATHER = "costagent-gather-state"
PLAN = "costagent-plan"
CLAMP = "costagent-clamp"
EXECUTE = "costagent-execute"
RECORD = "costagent-record"

START = ["ReceiveEvent", "ReadTrigger", "RouteTrigger"]
FULL_CYCLE = [
    *START,
    "GatherState",
    "LeaseAcquired",
    "ChoosePlanner",
    "PlanWithRules",
    "ClampDecision",
    "ExecuteDecision",
    "RecordDecision",
    "CycleRecorded",
]
INTERRUPTION_CYCLE = [*START, "CheckpointNow", "RecordCheckpoint", *FULL_CYCLE[3:]]
FALLBACK_CYCLE = [*FULL_CYCLE[:7], "FallBackToRules", *FULL_CYCLE[7:]]
IGNORED = [*START, "RecordDecision", "CycleRecorded"]
GATHER_FAILED = [*START, "GatherState", "RecordDecision", "CycleRecorded"]
SKIPPED = [*START, "GatherState", "LeaseAcquired", "RecordDecision", "CycleRecorded"]

SAMPLE_CYCLE_ID = f"2026-12-03T12:00:00Z#{load_event('scheduled-event')['id']}"


def minutes_later(minutes: int) -> dict[str, Any]:
    return scheduled_event(PIPELINE, SAMPLE_EVENT_TIME + timedelta(minutes=minutes))


# --- the normal paths ---------------------------------------------------------------------------


def test_scheduled_event_runs_the_whole_cycle_and_leaves_one_audit_item(world: World) -> None:
    # given the default world: 4 of 4 workers, checkpoint 12 minutes old, observe mode
    aws = world.aws

    # when
    report = aws.run(load_event("scheduled-event"))

    # then
    assert report.status == "SUCCEEDED"
    assert report.states == FULL_CYCLE
    items = audit_items(aws, PIPELINE)
    assert [item["cycle_id"]["S"] for item in items] == [SAMPLE_CYCLE_ID]
    record = json.loads(items[0]["record"]["S"])
    assert record["trigger"] == "scheduled"
    assert record["outcome"] == "no_op"
    assert record["mode"] == "observe"
    assert record["phase"] == "final"
    assert record["planner"] == "rules"
    assert record["errors"] == {}
    decision = record["decision"]
    assert (decision["action"], decision["instance_count"], decision["instance_type"]) == (
        "WAIT",
        4,
        "c5.xlarge",
    )
    assert {"gather", "plan", "clamp", "execute"} <= record["latencies_ms"].keys()
    assert all(latency >= 0 for latency in record["latencies_ms"].values())
    expires_at = int((SAMPLE_EVENT_TIME + timedelta(days=aws.settings.audit_ttl_days)).timestamp())
    assert record["expires_at"] == expires_at
    assert items[0]["expires_at"] == {"N": str(expires_at)}  # the table's TTL attribute, beside the record
    assert lease_holder(aws, PIPELINE) is None


def test_interruption_warning_checkpoints_before_planning_and_keeps_one_audit_item(world: World) -> None:
    # given the audit phases on file whenever GatherState starts
    aws = world.aws
    phases_when_gathering: list[str] = []
    aws.before_invoke(
        GATHER, lambda _: phases_when_gathering.extend(r["phase"] for r in audit_records(aws, PIPELINE))
    )
    event = load_event("spot-interruption-warning")

    # when
    report = aws.run(event)

    # then the fast path ran first, and its record was on file before the cycle went on
    assert report.status == "SUCCEEDED"
    assert report.states == INTERRUPTION_CYCLE
    assert report.states.index("CheckpointNow") < report.states.index("PlanWithRules")
    assert phases_when_gathering == ["checkpoint"]
    # and the final record replaced it under the same key
    [record] = audit_records(aws, PIPELINE)
    assert record["cycle_id"] == f"2026-12-03T12:00:00Z#{event['id']}"
    assert record["phase"] == "final"
    assert record["trigger"] == "interruption"
    assert record["trigger_detail"] == "EC2 Spot Instance Interruption Warning for i-0b1c2d3e4f5a60718"
    assert (record["instance_id"], record["instance_type"], record["zone"]) == (
        "i-0b1c2d3e4f5a60718",
        "c5.xlarge",
        "us-east-1a",
    )
    [fast_path] = record["checkpoint"]["actions"]
    assert (fast_path["kind"], fast_path["status"]) == ("checkpoint", "would_run")
    assert sorted(fast_path["target"].split(",")) == sorted(world.instance_ids())
    assert f"SSM Run Command on 4 instance(s): {world.guardrails.checkpoint_command}" == fast_path["detail"]
    assert record["errors"] == {}


def test_rebalance_recommendation_runs_a_normal_cycle_with_the_notice_in_the_state(world: World) -> None:
    # when
    report = world.aws.run(load_event("rebalance-recommendation"))

    # then
    assert report.status == "SUCCEEDED"
    assert report.states == FULL_CYCLE
    assert report.output is not None
    notices = report.output["gathered"]["state"]["termination_notices"]
    assert [(n["kind"], n["instance_id"]) for n in notices] == [("rebalance", "i-0a1b2c3d4e5f60789")]
    record = the_record(world.aws, report)
    assert record["trigger"] == "rebalance"
    assert record["checkpoint"] is None
    assert record["decision"]["action"] == "CHECKPOINT"  # the workers save before the instance may go
    assert record["outcome"] == "observed"


# --- events that are not ours -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event_name", "reason"),
    [
        ("unmanaged-interruption-warning", "instance i-0fedcba9876543210 is not managed by costagent"),
        (
            "malformed-interruption-warning",
            "malformed 'EC2 Spot Instance Interruption Warning' event (detail.instance-id: Field required)",
        ),
        ("unsupported-event", "unsupported event: detail-type 'EC2 Instance State-change Notification'"),
    ],
    ids=["unmanaged-instance", "malformed-event", "unsupported-detail-type"],
)
def test_sample_event_not_for_a_managed_pipeline_is_recorded_as_ignored(
    world: World, event_name: str, reason: str
) -> None:
    # when
    report = world.aws.run(load_event(event_name))

    # then
    assert report.status == "SUCCEEDED"
    assert report.states == IGNORED
    record = the_record(world.aws, report)
    assert (record["pipeline_id"], record["trigger"], record["outcome"]) == (UNMANAGED, "ignored", "ignored")
    assert record["trigger_detail"] == reason
    assert audit_items(world.aws, PIPELINE) == []  # nothing is filed under the pipeline the instance is in


@pytest.mark.parametrize(
    "event", [["not", "an", "object"], "a plain string"], ids=["json-list", "json-string"]
)
def test_input_that_is_not_a_json_object_is_recorded_as_ignored(embedded: EmbeddedAws, event: Any) -> None:
    # when
    report = embedded.run(event)

    # then
    assert report.status == "SUCCEEDED"
    assert report.states == IGNORED
    record = the_record(embedded, report)
    assert (record["pipeline_id"], record["outcome"]) == (UNMANAGED, "ignored")
    assert record["trigger_detail"] == "malformed event: not a JSON object"
    assert record["cycle_id"].endswith(f"#{report.name}")  # no event id: the execution names the cycle


def test_read_trigger_failure_is_recorded_as_failed(embedded: EmbeddedAws) -> None:
    # given
    embedded.fail_next(READ_TRIGGER, "Sandbox.Timedout", "Task timed out after 10.00 seconds")

    # when
    report = embedded.run(load_event("scheduled-event"))

    # then
    assert report.status == "SUCCEEDED"
    assert report.states == ["ReceiveEvent", "ReadTrigger", "RecordDecision", "CycleRecorded"]
    record = the_record(embedded, report)
    assert (record["pipeline_id"], record["outcome"]) == (UNMANAGED, "failed")
    assert record["trigger_detail"] == "ReadTrigger failed"
    assert record["errors"]["trigger"]["error"] == "Sandbox.Timedout"


# --- the interruption fast path failing ---------------------------------------------------------


def test_failed_fast_checkpoint_is_recorded_and_the_cycle_checkpoints_instead(world_execute: World) -> None:
    # given SSM refuses the fast path's command once
    aws = world_execute.aws
    aws.fail_next(CHECKPOINT_NOW, "AwsRequestRejected", "ssm:SendCommand was rejected: ThrottlingException")

    # when
    report = aws.run(load_event("spot-interruption-warning"))

    # then the planner saw the interruption still unprotected and the executor checkpointed
    assert report.status == "SUCCEEDED"
    assert report.states == INTERRUPTION_CYCLE
    record = the_record(aws, report)
    assert record["errors"]["checkpoint"]["error"] == "AwsRequestRejected"
    assert record["checkpoint"] is None
    assert record["decision"]["action"] == "CHECKPOINT"
    assert actions(record) == [("checkpoint", "done")]
    assert len(ssm_commands(aws)) == 1


def test_failed_checkpoint_record_does_not_stop_the_cycle(world: World) -> None:
    # given the audit write of RecordCheckpoint (the first write of the execution) fails
    world.aws.fail_next(RECORD, "AuditWriteFailed", "audit record: ProvisionedThroughputExceededException")

    # when
    report = world.aws.run(load_event("spot-interruption-warning"))

    # then
    assert report.status == "SUCCEEDED"
    assert report.states == INTERRUPTION_CYCLE
    record = the_record(world.aws, report)
    assert record["phase"] == "final"
    assert [a["status"] for a in record["checkpoint"]["actions"]] == ["would_run"]


def test_failed_checkpoint_record_is_listed_in_the_final_record_errors(world: World) -> None:
    # given
    world.aws.fail_next(RECORD, "AuditWriteFailed", "audit record: ProvisionedThroughputExceededException")

    # when
    report = world.aws.run(load_event("spot-interruption-warning"))

    # then
    assert report.output is not None and "record_checkpoint_error" in report.output
    record = the_record(world.aws, report)
    assert [e["error"] for e in record["errors"].values()] == ["AuditWriteFailed"]


# --- planning failing ---------------------------------------------------------------------------


def test_plan_failure_falls_back_to_the_rules_planner(world: World) -> None:
    # given
    world.aws.fail_next(PLAN, "PlanningFailed", "the model's answer was not a decision")

    # when
    report = world.aws.run(load_event("scheduled-event"))

    # then
    assert report.status == "SUCCEEDED"
    assert report.states == FALLBACK_CYCLE
    record = the_record(world.aws, report)
    assert record["planner"] == "fallback"
    assert record["plan_reason"].startswith("planning failed (PlanningFailed")
    assert list(record["errors"]) == ["plan"]
    assert record["errors"]["plan"]["error"] == "PlanningFailed"
    assert record["decision"]["action"] == "WAIT"  # what the rules decide for this world
    assert record["outcome"] == "no_op"


def test_plan_and_fallback_failure_clamps_the_missing_proposal_to_wait(world: World) -> None:
    # given a lost worker, which the rules planner would replace, and both planners failing
    lose_workers(world, 1)
    world.aws.fail_next(PLAN, "PlanningFailed", times=2)

    # when
    report = world.aws.run(load_event("scheduled-event"))

    # then ClampDecision still ran, on no proposal at all, and chose the safe action
    assert report.status == "SUCCEEDED"
    assert report.states == FALLBACK_CYCLE
    assert report.output is not None and "plan" not in report.output
    record = the_record(world.aws, report)
    assert record["proposal"] is None
    decision = record["decision"]
    assert (decision["action"], decision["instance_count"]) == ("WAIT", 3)
    assert sorted(record["errors"]) == ["fallback", "plan"]
    assert record["outcome"] == "no_op"
    assert world.desired_capacity() == 3


def test_clamp_failure_is_recorded_and_nothing_is_executed(world: World) -> None:
    # given
    world.aws.fail_next(CLAMP, "Sandbox.Timedout", "Task timed out after 10.00 seconds")

    # when
    report = world.aws.run(load_event("scheduled-event"))

    # then
    assert report.status == "SUCCEEDED"
    assert report.states == [*FULL_CYCLE[:8], "RecordDecision", "CycleRecorded"]
    assert EXECUTE not in world.aws.invocations
    record = the_record(world.aws, report)
    assert record["outcome"] == "failed"
    assert record["decision"] is None
    assert record["errors"]["clamp"]["error"] == "Sandbox.Timedout"
    assert lease_holder(world.aws, PIPELINE) is None


# --- executing failing --------------------------------------------------------------------------


def test_execute_failure_is_recorded_and_the_execution_still_succeeds(world: World) -> None:
    # given
    world.aws.fail_next(EXECUTE, "ExecutionFailed", "not valid JSON: the action report was lost")

    # when
    report = world.aws.run(load_event("scheduled-event"))

    # then
    assert report.status == "SUCCEEDED"
    assert report.states == FULL_CYCLE  # the Catch leads to RecordDecision, the same next state
    record = the_record(world.aws, report)
    assert record["outcome"] == "failed"
    assert record["errors"]["execute"]["error"] == "ExecutionFailed"
    assert record["actions"] == []
    assert lease_holder(world.aws, PIPELINE) is None


def reject_operation(client: Any, operation: str, code: str, status: int) -> None:
    """Make AWS answer `operation` on this client with an error, the way botocore's Stubber does."""

    def answer(model: Any, **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        if model.name != operation:
            return None
        body = {
            "Error": {"Code": code, "Message": "injected"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        }
        return AWSResponse("https://autoscaling.us-east-1.amazonaws.com/", status, {}, None), body

    client.meta.events.register("before-call", answer)


def test_action_failing_part_way_is_recorded_with_what_ran(world_execute: World) -> None:
    # given a lost worker and an overdue checkpoint (the decision: checkpoint, then scale up), and an
    # IAM policy that does not allow SetDesiredCapacity. The Lambdas share one adapter bundle per cold
    # start; its Auto Scaling client is the one that answers with AccessDenied.
    aws = world_execute.aws
    lose_workers(world_execute, 1)
    make_checkpoint_overdue(world_execute)
    reject_operation(_runtime.adapters().autoscaling.client, "SetDesiredCapacity", "AccessDenied", 403)

    # when
    report = aws.run(load_event("scheduled-event"))

    # then
    assert report.status == "SUCCEEDED"
    record = the_record(aws, report)
    assert record["outcome"] == "failed"
    assert record["errors"]["execute"]["error"] == "ExecutionFailed"
    assert actions(record) == [("checkpoint", "done"), ("set_desired_capacity", "failed")]
    assert "AccessDenied" in record["actions"][1]["detail"]
    assert len(ssm_commands(aws)) == 1
    assert world_execute.desired_capacity() == 3


# --- gathering failing --------------------------------------------------------------------------


def remove_checkpoint_bucket(aws: EmbeddedAws) -> None:
    s3, bucket = aws.client("s3"), aws.settings.checkpoint_bucket
    for listed in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
        s3.delete_object(Bucket=bucket, Key=listed["Key"])
    s3.delete_bucket(Bucket=bucket)


def test_gather_failure_is_recorded_and_releases_the_lease_for_the_next_cycle(world: World) -> None:
    # given S3 refuses the progress read, after GatherState has taken the pipeline's lease
    aws = world.aws
    remove_checkpoint_bucket(aws)

    # when
    failed = aws.run(load_event("scheduled-event"))

    # then
    assert failed.status == "SUCCEEDED"
    assert failed.states == GATHER_FAILED
    record = the_record(aws, failed)
    assert record["outcome"] == "failed"
    assert record["errors"]["gather"]["error"] == "AwsRequestRejected"
    assert lease_holder(aws, PIPELINE) is None

    # when the bucket is back and the next cycle runs five minutes later, inside the ten-minute lease
    aws.client("s3").create_bucket(Bucket=aws.settings.checkpoint_bucket)
    following = aws.run(minutes_later(5))

    # then it is not skipped
    assert following.states == FULL_CYCLE
    assert the_record(aws, following)["outcome"] != "skipped"


def test_lambda_service_errors_are_retried_and_the_cycle_completes(world: World) -> None:
    # given
    world.aws.fail_next(GATHER, "Lambda.ServiceException", times=2)

    # when
    report = world.aws.run(load_event("scheduled-event"))

    # then
    assert report.status == "SUCCEEDED"
    assert report.states == FULL_CYCLE
    assert world.aws.invocations.count(GATHER) == 3
    record = the_record(world.aws, report)
    assert (record["outcome"], record["errors"]) == ("no_op", {})


def test_lambda_service_errors_beyond_the_retries_are_caught_and_recorded(world: World) -> None:
    # given
    world.aws.fail_next(GATHER, "Lambda.ServiceException", times=5)

    # when
    report = world.aws.run(load_event("scheduled-event"))

    # then one attempt and three retries, then the Catch
    assert report.status == "SUCCEEDED"
    assert report.states == GATHER_FAILED
    assert world.aws.invocations.count(GATHER) == 4
    record = the_record(world.aws, report)
    assert record["outcome"] == "failed"
    assert record["errors"]["gather"]["error"] == "Lambda.ServiceException"


def break_guardrails_by_deleting(world: World) -> None:
    world.aws.client("ssm").delete_parameter(Name=world.aws.settings.guardrails_parameter(PIPELINE))


def break_guardrails_with_text(text: str) -> Callable[[World], None]:
    return lambda world: world.set_guardrails(text)


GUARDRAILS_PARAMETER = "/costagent/pipelines/nightly-etl/guardrails"
INVALID_GUARDRAILS = f"guardrails at {GUARDRAILS_PARAMETER} are not valid ("


@pytest.mark.parametrize(
    ("break_guardrails", "message_start", "message_end"),
    [
        (
            break_guardrails_by_deleting,
            f"pipeline 'nightly-etl' has no guardrails: put its JSON document at {GUARDRAILS_PARAMETER} ",
            "(Terraform's `pipelines` variable does this).",
        ),
        (break_guardrails_with_text("{max_instances: 8"), INVALID_GUARDRAILS, "); fix the document."),
        (
            break_guardrails_with_text(
                json.dumps({**default_guardrails().model_dump(mode="json"), "max_instances": 0})
            ),
            INVALID_GUARDRAILS,
            "); fix the document.",
        ),
    ],
    ids=["missing", "not-json", "invalid-document"],
)
def test_pipeline_without_valid_guardrails_fails_saying_where_to_fix_them(
    world: World, break_guardrails: Callable[[World], None], message_start: str, message_end: str
) -> None:
    # given
    break_guardrails(world)

    # when
    report = world.aws.run(load_event("scheduled-event"))

    # then
    assert report.status == "SUCCEEDED"
    assert report.states == GATHER_FAILED
    record = the_record(world.aws, report)
    assert record["outcome"] == "failed"
    gather_error = record["errors"]["gather"]
    assert gather_error["error"] == "PipelineNotConfigured"
    message = error_message(gather_error)
    assert message.startswith(message_start)
    assert message.endswith(message_end)
    assert lease_holder(world.aws, PIPELINE) is None


# --- recording failing --------------------------------------------------------------------------


def test_rejected_audit_write_fails_the_execution_loudly(world: World) -> None:
    # given the audit table rejects the write (a permission or validation error: retrying cannot help)
    world.aws.fail_next(RECORD, "AuditWriteFailed", "audit record: AccessDeniedException", times=10)

    # when
    report = world.aws.run(load_event("scheduled-event"))

    # then the one case where the execution fails, at once
    assert report.status == "FAILED"
    assert report.error == "AuditWriteFailed"
    assert report.states == [*FULL_CYCLE[:-1], "AuditWriteFailed"]
    assert world.aws.invocations.count(RECORD) == 1
    assert audit_items(world.aws, PIPELINE) == []


def test_throttled_audit_write_is_retried_until_it_lands(world: World) -> None:
    # given DynamoDB throttles the audit write twice (after the client's own retries)
    world.aws.fail_next(
        RECORD, "AwsUnavailable", "dynamodb:PutItem failed after retries: Throttling", times=2
    )

    # when
    report = world.aws.run(load_event("scheduled-event"))

    # then Step Functions retries RecordDecision and the cycle is recorded once
    assert report.status == "SUCCEEDED"
    assert world.aws.invocations.count(RECORD) == 3
    assert len(audit_items(world.aws, PIPELINE)) == 1


def test_audit_write_that_stays_throttled_fails_the_execution(world: World) -> None:
    world.aws.fail_next(
        RECORD, "AwsUnavailable", "dynamodb:PutItem failed after retries: Throttling", times=10
    )

    report = world.aws.run(load_event("scheduled-event"))

    assert report.status == "FAILED"
    assert report.states[-1] == "AuditWriteFailed"
    assert world.aws.invocations.count(RECORD) == 4  # one attempt and three retries


# --- the lease ----------------------------------------------------------------------------------


def test_cycle_is_skipped_while_another_cycle_holds_the_lease(world: World) -> None:
    # given
    other = "2026-12-03T11:58:00Z#another-execution"
    put_lease(world.aws, PIPELINE, other, expires_at=SAMPLE_EVENT_TIME + timedelta(minutes=8))

    # when
    report = world.aws.run(load_event("scheduled-event"))

    # then
    assert report.status == "SUCCEEDED"
    assert report.states == SKIPPED
    record = the_record(world.aws, report)
    assert record["outcome"] == "skipped"
    assert record["trigger_detail"] == f"scheduled cycle; skipped: lease held by {other}"
    assert record["decision"] is None
    assert lease_holder(world.aws, PIPELINE) == other  # the skipped cycle leaves the other's lease alone


def test_cycle_takes_over_an_expired_lease(world: World) -> None:
    # given
    put_lease(
        world.aws,
        PIPELINE,
        "2026-12-03T11:40:00Z#crashed",
        expires_at=SAMPLE_EVENT_TIME - timedelta(minutes=1),
    )

    # when
    report = world.aws.run(load_event("scheduled-event"))

    # then
    assert report.states == FULL_CYCLE
    assert the_record(world.aws, report)["outcome"] == "no_op"
    assert lease_holder(world.aws, PIPELINE) is None


# --- size and duplicates ------------------------------------------------------------------------


def test_state_document_stays_far_below_the_step_functions_payload_limit(embedded: EmbeddedAws) -> None:
    # given a pipeline of 40 workers, and the longest path (the interruption fast path, then the cycle)
    build_world(
        embedded,
        SAMPLE_EVENT_TIME,
        workers=40,
        guardrails=default_guardrails(max_instances=50, target_instances=40),
    )

    # when
    report = embedded.run(load_event("spot-interruption-warning"))

    # then (Step Functions refuses state documents above 256 KB)
    assert report.status == "SUCCEEDED"
    assert report.output is not None
    assert len(report.output["gathered"]["state"]["active_instances"]) == 40
    assert len(json.dumps(report.output).encode("utf-8")) < 64 * 1024
    record = the_record(embedded, report)
    snapshot = record["state"]
    assert snapshot["instance_count"] == 40
    assert len(snapshot["instances"]) == SNAPSHOT_MAX_INSTANCES
    # and the audit item, which keeps the whole state for replay, stays far below DynamoDB's 400 KB items
    assert len(record["replay"]["state"]["active_instances"]) == 40
    assert len(json.dumps(record).encode("utf-8")) < 64 * 1024


def test_duplicated_event_keeps_the_original_record_and_records_the_second_delivery_beside_it(
    world: World,
) -> None:
    # given EventBridge delivers the same event twice
    event = load_event("scheduled-event")

    # when
    first = world.aws.run(event, name="scheduled-delivery-1")
    second = world.aws.run(event, name="scheduled-delivery-2")

    # then the second delivery goes straight to RecordDecision and never acts
    assert (first.status, second.status) == ("SUCCEEDED", "SUCCEEDED")
    assert second.states == ["ReceiveEvent", "ReadTrigger", "RouteTrigger", "RecordDecision", "CycleRecorded"]
    original, duplicate = audit_records(world.aws, PIPELINE)
    assert original["cycle_id"] == SAMPLE_CYCLE_ID
    assert original["execution_name"] == "scheduled-delivery-1"
    assert duplicate["cycle_id"] == f"{SAMPLE_CYCLE_ID}#duplicate:scheduled-delivery-2"
    assert duplicate["outcome"] == "skipped"
    assert duplicate["duplicate_of"] == "scheduled-delivery-1"
