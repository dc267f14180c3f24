"""The cloud layer's hard stop: when a pipeline's AWS Budget reaches its limit, its group stops launching.

AWS Budgets publishes the 100 % notification of budget `costagent-<id>` to the SNS topic
`costagent-budget-<id>` (infra/budgets.tf); the BudgetStop Lambda suspends the `Launch` process of group
`costagent-<id>`. Nothing new starts, spot replacements included; running workers keep running and can
still checkpoint and be scaled in. No planner and no mode are involved: this layer holds in observe mode
too, as the budget is the user's own limit. An operator resumes with `aws autoscaling resume-processes`.
"""

from __future__ import annotations

from datetime import datetime

from costagent.adapters.bundle import AwsAdapters
from costagent.config import Settings
from costagent.errors import CostagentError
from costagent.models import ActionRecord, CycleRecord, Outcome, TriggerKind

BUDGET_TOPIC_INFIX = "budget-"  # topic name: <group prefix>budget-<pipeline id>


def pipeline_of_topic(topic_arn: str, group_prefix: str) -> str | None:
    """The pipeline id a budget topic belongs to, or None for a topic that is not one of ours."""
    name = topic_arn.rsplit(":", 1)[-1]
    prefix = f"{group_prefix}{BUDGET_TOPIC_INFIX}"
    pipeline_id = name[len(prefix) :] if name.startswith(prefix) else ""
    return pipeline_id or None


def stop_launches(
    *,
    topic_arn: str,
    message_id: str,
    subject: str,
    received_at: datetime,
    aws: AwsAdapters,
    settings: Settings,
) -> CycleRecord | None:
    """Suspend launches of the budget's pipeline and record it in the audit table; None if not ours."""
    pipeline_id = pipeline_of_topic(topic_arn, settings.group_name_prefix)
    if pipeline_id is None:
        return None
    group = settings.group_name(pipeline_id)
    try:
        aws.autoscaling.suspend_launches(group)
        action = ActionRecord(kind="suspend_launch", target=group, status="done", detail=subject[:200])
    except CostagentError as error:
        action = ActionRecord(kind="suspend_launch", target=group, status="failed", detail=str(error)[:500])
    record = CycleRecord(
        pipeline_id=pipeline_id,
        cycle_id=f"{received_at.isoformat()}#budget:{message_id}",
        cycle_time=received_at,
        trigger=TriggerKind.BUDGET_LIMIT,
        trigger_detail=f"AWS Budget {group} reached its limit: new launches of {group} suspended",
        outcome=Outcome.ACTED if action.status == "done" else Outcome.FAILED,
        actions=[action],
    )
    aws.audit.put(record)
    return record
