"""ReadTrigger: classify the incoming event and, for spot events, find the pipeline that owns the instance."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from costagent.adapters.bundle import AwsAdapters
from costagent.events import make_trigger, parse_event
from costagent.models import Trigger, TriggerKind


def read_trigger(
    event: Any, *, received_at: datetime, execution_name: str | None, aws: AwsAdapters
) -> Trigger:
    parsed = parse_event(event, received_at)
    if not parsed.needs_instance_lookup:
        return _mark_duplicate(make_trigger(parsed, execution_name=execution_name), execution_name, aws)
    assert parsed.instance_id is not None
    owner, instance = aws.ec2.owner_of(parsed.instance_id)
    trigger = make_trigger(parsed, execution_name=execution_name, pipeline_id=owner)
    if instance is not None:
        trigger = trigger.model_copy(update={"instance_type": instance.instance_type, "zone": instance.zone})
    return _mark_duplicate(trigger, execution_name, aws)


def _mark_duplicate(trigger: Trigger, execution_name: str | None, aws: AwsAdapters) -> Trigger:
    """EventBridge delivers at least once: an event whose cycle another execution already recorded is a
    duplicate, routed straight to RecordDecision so it never acts twice. (Two deliveries running at the same
    moment are kept apart by the pipeline's lease, whose holder is the execution.)"""
    if trigger.kind is TriggerKind.IGNORED or trigger.pipeline_id is None:
        return trigger
    existing = aws.audit.get(trigger.pipeline_id, trigger.cycle_id)
    if existing is None or existing.execution_name == execution_name:
        return trigger
    return trigger.model_copy(
        update={
            "duplicate_of": existing.execution_name or "an earlier execution",
            "reason": f"duplicate delivery: cycle already recorded by {existing.execution_name}",
        }
    )
