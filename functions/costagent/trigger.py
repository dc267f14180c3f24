"""ReadTrigger: classify the incoming event and, for spot events, find the pipeline that owns the instance."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from costagent.adapters.bundle import AwsAdapters
from costagent.events import make_trigger, parse_event
from costagent.models import Trigger


def read_trigger(
    event: Any, *, received_at: datetime, execution_name: str | None, aws: AwsAdapters
) -> Trigger:
    parsed = parse_event(event, received_at)
    if not parsed.needs_instance_lookup:
        return make_trigger(parsed, execution_name=execution_name)
    assert parsed.instance_id is not None
    owner, instance = aws.ec2.owner_of(parsed.instance_id)
    trigger = make_trigger(parsed, execution_name=execution_name, pipeline_id=owner)
    if instance is not None:
        trigger = trigger.model_copy(update={"instance_type": instance.instance_type, "zone": instance.zone})
    return trigger
