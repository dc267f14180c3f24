"""The cloud layer's hard stop: a budget limit notification suspends launches of the pipeline's group."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.stub import Stubber

from costagent.budget_stop import pipeline_of_topic
from costagent.handlers import _runtime
from costagent.handlers import budget_stop as budget_stop_handler
from costagent.local.runner import LocalContext
from costagent.local.world import World
from tests.events import load_event
from tests.support import PIPELINE, audit_records


def suspended_processes(world: World) -> list[str]:
    group = world.aws.client("autoscaling").describe_auto_scaling_groups(
        AutoScalingGroupNames=[world.aws.settings.group_name(PIPELINE)]
    )["AutoScalingGroups"][0]
    return [p["ProcessName"] for p in group.get("SuspendedProcesses", [])]


def notification_from(topic_arn: str) -> dict[str, Any]:
    event = load_event("budget-limit-notification")
    event["Records"][0]["Sns"]["TopicArn"] = topic_arn
    return event


@pytest.mark.parametrize(
    ("topic", "pipeline"),
    [
        ("arn:aws:sns:us-east-1:123456789012:costagent-budget-nightly-etl", "nightly-etl"),
        ("arn:aws:sns:us-east-1:123456789012:costagent-budget-", None),
        ("arn:aws:sns:us-east-1:123456789012:billing-alerts", None),
        ("not-an-arn", None),
    ],
)
def test_only_costagent_budget_topics_name_a_pipeline(topic: str, pipeline: str | None) -> None:
    assert pipeline_of_topic(topic, "costagent-") == pipeline


def test_budget_limit_suspends_launches_and_is_audited_even_in_observe_mode(world: World) -> None:
    # given the observe-mode pipeline of the default world, whose group launches freely
    assert "Launch" not in suspended_processes(world)

    # when its budget's limit notification arrives
    result = budget_stop_handler.handler(load_event("budget-limit-notification"), LocalContext("budget-stop"))

    # then the group launches nothing more, and the audit trail says why
    assert result == {"stopped": [{"pipeline_id": PIPELINE, "outcome": "acted"}]}
    assert "Launch" in suspended_processes(world)
    record = next(r for r in audit_records(world.aws, PIPELINE) if r["trigger"] == "budget_limit")
    assert record["actions"][0]["kind"] == "suspend_launch"
    assert record["actions"][0]["status"] == "done"


def test_notification_from_another_topic_changes_nothing(world: World) -> None:
    event = notification_from("arn:aws:sns:us-east-1:123456789012:billing-alerts")

    result = budget_stop_handler.handler(event, LocalContext("budget-stop"))

    assert result == {"stopped": []}
    assert "Launch" not in suspended_processes(world)


def test_suspension_refused_by_aws_is_recorded_as_failed(world: World) -> None:
    # given Auto Scaling refuses the call (the Stubber answers before any request leaves the client)
    autoscaling = _runtime.adapters().autoscaling.client
    with Stubber(autoscaling) as stubber:
        stubber.add_client_error("suspend_processes", "AccessDenied", "not authorized", 403)

        # when the limit notification arrives
        result = budget_stop_handler.handler(
            load_event("budget-limit-notification"), LocalContext("budget-stop")
        )

    # then the failure is recorded for the operator, not lost
    assert result == {"stopped": [{"pipeline_id": PIPELINE, "outcome": "failed"}]}
    record = next(r for r in audit_records(world.aws, PIPELINE) if r["trigger"] == "budget_limit")
    assert record["actions"][0]["status"] == "failed"
    assert "AccessDenied" in record["actions"][0]["detail"]
