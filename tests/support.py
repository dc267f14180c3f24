"""What the state machine and mode tests read and arrange on embedded AWS, through the same APIs an
operator (or a pipeline's workers) would use: the audit and lease tables, the Auto Scaling group, SSM."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from costagent.local.runner import EmbeddedAws, ExecutionReport
from costagent.local.world import World
from tests.events import SAMPLE_EVENT_TIME

PIPELINE = "nightly-etl"  # the pipeline of the default world
UNMANAGED = "_unmanaged"  # the audit partition of events that name no pipeline of ours


# --- the audit table ----------------------------------------------------------------------------


def audit_items(aws: EmbeddedAws, pipeline_id: str) -> list[dict[str, Any]]:
    """Every stored audit item of a pipeline, as DynamoDB returns it (a query by partition key)."""
    items: list[dict[str, Any]] = []
    pages = (
        aws.client("dynamodb")
        .get_paginator("query")
        .paginate(
            TableName=aws.settings.audit_table,
            KeyConditionExpression="pipeline_id = :p",
            ExpressionAttributeValues={":p": {"S": pipeline_id}},
            ConsistentRead=True,
        )
    )
    for page in pages:
        items.extend(page["Items"])
    return items


def audit_records(aws: EmbeddedAws, pipeline_id: str) -> list[dict[str, Any]]:
    """The cycle records of a pipeline's audit items, oldest cycle first."""
    return [json.loads(item["record"]["S"]) for item in audit_items(aws, pipeline_id)]


def the_record(aws: EmbeddedAws, report: ExecutionReport) -> dict[str, Any]:
    """The one audit record of the cycle the execution recorded; fails when there is none or several."""
    assert report.output is not None, f"execution {report.name} ended {report.status} without output"
    key = report.output["audit"]
    found = [r for r in audit_records(aws, key["pipeline_id"]) if r["cycle_id"] == key["cycle_id"]]
    if len(found) != 1:
        raise AssertionError(f"expected one audit item for {key}, found {len(found)}")
    return found[0]


def error_message(step_error: dict[str, Any]) -> str:
    """The Lambda's own message inside a caught error's Cause (which is the Lambda error JSON)."""
    return str(json.loads(step_error["cause"])["errorMessage"])


# --- the lease table ----------------------------------------------------------------------------


def put_lease(aws: EmbeddedAws, pipeline_id: str, holder: str, expires_at: datetime) -> None:
    """What another execution's GatherState leaves in the lease table while it acts."""
    aws.client("dynamodb").put_item(
        TableName=aws.settings.lease_table,
        Item={
            "pipeline_id": {"S": pipeline_id},
            "holder": {"S": holder},
            "expires_at": {"N": str(int(expires_at.timestamp()))},
        },
    )


def lease_holder(aws: EmbeddedAws, pipeline_id: str) -> str | None:
    item = (
        aws.client("dynamodb")
        .get_item(
            TableName=aws.settings.lease_table, Key={"pipeline_id": {"S": pipeline_id}}, ConsistentRead=True
        )
        .get("Item")
    )
    return item["holder"]["S"] if item else None


# --- the world ----------------------------------------------------------------------------------


def lose_workers(world: World, count: int) -> list[str]:
    """Spot reclaims `count` workers and the group does not replace them (desired capacity drops too)."""
    lost = world.instance_ids()[:count]
    for instance_id in lost:
        world.aws.client("autoscaling").terminate_instance_in_auto_scaling_group(
            InstanceId=instance_id, ShouldDecrementDesiredCapacity=True
        )
    return lost


def make_checkpoint_overdue(world: World, minutes_ago: float = 40.0) -> None:
    """The workers' latest checkpoint is older than the guardrails allow (30 minutes by default)."""
    world.record_checkpoint("ckpt-old", SAMPLE_EVENT_TIME - timedelta(minutes=minutes_ago), progress=0.25)


def ssm_commands(aws: EmbeddedAws) -> list[dict[str, Any]]:
    commands: list[dict[str, Any]] = aws.client("ssm").list_commands()["Commands"]
    return commands


def actions(record: dict[str, Any]) -> list[tuple[str, str]]:
    """(kind, status) of each action in a record, in order."""
    return [(action["kind"], action["status"]) for action in record["actions"]]
