"""Incoming EventBridge events, parsed with powertools parser models, and the trigger they make.

Pure: no AWS calls. Spot events name an instance, not a pipeline; which pipeline (if any) owns that
instance is looked up by the ReadTrigger handler and passed to `trigger_for_instance`.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from costagent.models import Trigger, TriggerKind

SCHEDULED_DETAIL_TYPE = "Scheduled Event"
INTERRUPTION_DETAIL_TYPE = "EC2 Spot Instance Interruption Warning"
REBALANCE_DETAIL_TYPE = "EC2 Instance Rebalance Recommendation"
PIPELINE_ID_MAX_CHARS = 64  # pipeline ids become key parts and execution names; keep them short


class ScheduledDetail(BaseModel):
    model_config = ConfigDict(extra="ignore")
    pipeline_id: str = Field(min_length=1, max_length=PIPELINE_ID_MAX_CHARS, pattern=r"^[A-Za-z0-9._-]+$")


class InstanceDetail(BaseModel):
    """Detail of both spot events: the interruption warning also carries `instance-action`."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    instance_id: str = Field(alias="instance-id", pattern=r"^i-[0-9a-f]{8,17}$")
    instance_action: str | None = Field(default=None, alias="instance-action")


class ScheduledEvent(EventBridgeModel):
    detail: ScheduledDetail


class SpotInstanceEvent(EventBridgeModel):
    detail: InstanceDetail


class ParsedEvent(BaseModel):
    """What the event says, before any lookup."""

    kind: TriggerKind
    time: datetime
    event_id: str | None = None
    detail_type: str | None = None
    pipeline_id: str | None = None
    instance_id: str | None = None
    reason: str = ""

    @property
    def needs_instance_lookup(self) -> bool:
        return self.kind in (TriggerKind.INTERRUPTION, TriggerKind.REBALANCE)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _short_error(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first.get("loc", ()))
    return f"{where or 'event'}: {first.get('msg', 'invalid')}"


def _readable_time(event: dict[str, Any], fallback: datetime) -> datetime:
    """The event's own `time` when it can be read, so even an ignored event is recorded when it happened."""
    raw = event.get("time")
    if isinstance(raw, str):
        try:
            return _utc(datetime.fromisoformat(raw.replace("Z", "+00:00")))
        except ValueError:
            pass
    return fallback


def parse_event(event: Any, received_at: datetime) -> ParsedEvent:
    """Classify an incoming event. Never raises: unreadable events become IGNORED with the reason."""
    received_at = _utc(received_at)
    if not isinstance(event, dict):
        return ParsedEvent(
            kind=TriggerKind.IGNORED, time=received_at, reason="malformed event: not a JSON object"
        )
    detail_type = event.get("detail-type")
    when = _readable_time(event, received_at)
    model: type[EventBridgeModel]
    if detail_type == SCHEDULED_DETAIL_TYPE:
        model, kind = ScheduledEvent, TriggerKind.SCHEDULED
    elif detail_type == INTERRUPTION_DETAIL_TYPE:
        model, kind = SpotInstanceEvent, TriggerKind.INTERRUPTION
    elif detail_type == REBALANCE_DETAIL_TYPE:
        model, kind = SpotInstanceEvent, TriggerKind.REBALANCE
    else:
        shown = str(detail_type)[:80] if detail_type is not None else "none"
        return ParsedEvent(
            kind=TriggerKind.IGNORED, time=when, reason=f"unsupported event: detail-type {shown!r}"
        )
    try:
        parsed = model.model_validate(event)
    except ValidationError as error:
        return ParsedEvent(
            kind=TriggerKind.IGNORED,
            time=when,
            detail_type=detail_type,
            reason=f"malformed {detail_type!r} event ({_short_error(error)})",
        )
    common = {"time": _utc(parsed.time), "event_id": parsed.id, "detail_type": detail_type}
    if isinstance(parsed, ScheduledEvent):
        return ParsedEvent(kind=kind, pipeline_id=parsed.detail.pipeline_id, **common)
    assert isinstance(parsed, SpotInstanceEvent)
    return ParsedEvent(kind=kind, instance_id=parsed.detail.instance_id, **common)


def cycle_id_for(time: datetime, event_id: str | None, execution_name: str | None) -> str:
    """Sortable by time, unique per event: a duplicated event maps to the same cycle (and audit item)."""
    stamp = _utc(time).strftime("%Y-%m-%dT%H:%M:%SZ")
    suffix = event_id or execution_name or "no-id"
    return f"{stamp}#{suffix[:64]}"


def make_trigger(
    parsed: ParsedEvent,
    *,
    execution_name: str | None,
    pipeline_id: str | None = None,
    ignore_reason: str = "",
) -> Trigger:
    """The trigger record. For spot events, `pipeline_id` is the owner found by lookup (None: not ours)."""
    kind = parsed.kind
    reason = parsed.reason
    owner = parsed.pipeline_id
    if parsed.needs_instance_lookup:
        owner = pipeline_id
        if owner is None:
            kind = TriggerKind.IGNORED
            reason = ignore_reason or f"instance {parsed.instance_id} is not managed by costagent"
        else:
            reason = f"{parsed.detail_type} for {parsed.instance_id}"
    elif kind is TriggerKind.SCHEDULED:
        reason = "scheduled cycle"
    return Trigger(
        kind=kind,
        pipeline_id=owner,
        cycle_id=cycle_id_for(parsed.time, parsed.event_id, execution_name),
        event_time=parsed.time,
        event_id=parsed.event_id,
        detail_type=parsed.detail_type,
        instance_id=parsed.instance_id,
        reason=reason,
    )
