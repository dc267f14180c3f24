"""CheckpointNow: the interruption fast path. Asks the pipeline's workers to checkpoint at once,
before (and without) any planning. In observe mode it records what it would have sent."""

from __future__ import annotations

from costagent.adapters.bundle import AwsAdapters
from costagent.config import Settings
from costagent.gather import load_pipeline_config
from costagent.models import ActionRecord, CheckpointResult, Mode, Trigger


def checkpoint_now(trigger: Trigger, aws: AwsAdapters, settings: Settings) -> CheckpointResult:
    assert trigger.pipeline_id is not None, "ReadTrigger routes only managed instances here"
    config = load_pipeline_config(aws, settings, trigger.pipeline_id)
    mode, guardrails = config.mode, config.guardrails
    instances = [i.instance_id for i in aws.ec2.pipeline_instances(trigger.pipeline_id)]
    detail = f"SSM Run Command on {len(instances)} instance(s): {guardrails.checkpoint_command}"
    target = ",".join(instances)
    if not instances:
        action = ActionRecord(kind="checkpoint", target="", status="skipped", detail="no running instances")
    elif mode is Mode.OBSERVE:
        action = ActionRecord(kind="checkpoint", target=target, status="would_run", detail=detail)
    else:
        command_id = aws.ssm.send_checkpoint(
            instances, guardrails.checkpoint_command, f"costagent interruption checkpoint {trigger.cycle_id}"
        )
        action = ActionRecord(kind="checkpoint", target=target, status="done", detail=f"command {command_id}")
    return CheckpointResult(
        pipeline_id=trigger.pipeline_id, mode=mode, requested_at=trigger.event_time, actions=[action]
    )
