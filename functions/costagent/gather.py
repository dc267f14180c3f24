"""GatherState: read everything a decision needs, under the pipeline's lease."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

from pydantic import ValidationError

from costagent.adapters.bundle import AwsAdapters
from costagent.config import Settings
from costagent.errors import PipelineNotConfigured
from costagent.events import cycle_id_for
from costagent.guardrails import Guardrails
from costagent.models import GatherResult, Mode, PipelineState, Trigger
from costagent.state_builder import build_state


def budget_name(pipeline_id: str) -> str:
    return f"costagent-{pipeline_id}"


KILL_SWITCH_OFF = "off"  # the only kill-switch value that lets pipelines execute


@dataclass(frozen=True)
class PipelineConfig:
    mode: Mode
    mode_source: str  # parameter | default | kill_switch: why the mode is what it is
    guardrails: Guardrails


def effective_mode(mode_value: str | None, kill_switch_value: str | None) -> tuple[Mode, str]:
    """Observe unless the pipeline explicitly says execute and the global kill switch is off (or absent)."""
    if kill_switch_value is not None and kill_switch_value.strip().lower() != KILL_SWITCH_OFF:
        return Mode.OBSERVE, "kill_switch"
    if (mode_value or "").strip().lower() == Mode.EXECUTE.value:
        return Mode.EXECUTE, "parameter"
    return Mode.OBSERVE, "parameter" if mode_value is not None else "default"


def load_pipeline_config(aws: AwsAdapters, settings: Settings, pipeline_id: str) -> PipelineConfig:
    """Mode and guardrails from Parameter Store, and the global kill switch that forces observe."""
    mode_name = settings.mode_parameter(pipeline_id)
    guardrails_name = settings.guardrails_parameter(pipeline_id)
    parameters = aws.ssm.pipeline_parameters(mode_name, guardrails_name, settings.kill_switch_parameter)
    if parameters.guardrails_json is None:
        raise PipelineNotConfigured(
            f"pipeline {pipeline_id!r} has no guardrails: put its JSON document at {guardrails_name} "
            "(Terraform's `pipelines` variable does this)."
        )
    try:
        guardrails = Guardrails.model_validate(json.loads(parameters.guardrails_json))
    except (ValueError, ValidationError) as error:
        first_line = str(error).splitlines()[0:3]
        raise PipelineNotConfigured(
            f"guardrails at {guardrails_name} are not valid ({' '.join(first_line)}); fix the document."
        ) from error
    mode, source = effective_mode(parameters.mode, parameters.kill_switch)
    return PipelineConfig(mode=mode, mode_source=source, guardrails=guardrails)


def gather_state(
    trigger: Trigger,
    aws: AwsAdapters,
    settings: Settings,
    *,
    holder: str,
    checkpoint_requested: bool = False,
) -> GatherResult:
    """`holder`: this execution (a retried step re-enters its own lease; another delivery of the same event
    does not). `checkpoint_requested`: this execution's CheckpointNow already asked the workers to save."""
    pipeline_id = trigger.pipeline_id
    if pipeline_id is None:
        raise PipelineNotConfigured("the trigger names no pipeline; ReadTrigger should have ignored it.")
    lease = aws.lease.acquire(pipeline_id, holder, trigger.event_time, settings.lease_seconds)
    if not lease.acquired:
        return GatherResult(lease=lease)
    try:
        config = load_pipeline_config(aws, settings, pipeline_id)
        state = _read_state(trigger, config, aws, settings, checkpoint_requested)
    except Exception:
        aws.lease.release(pipeline_id, holder)  # nothing acted; let the next cycle in at once
        raise
    return GatherResult(state=state, guardrails=config.guardrails, lease=lease)


def _read_state(
    trigger: Trigger,
    config: PipelineConfig,
    aws: AwsAdapters,
    settings: Settings,
    checkpoint_requested: bool,
) -> PipelineState:
    guardrails = config.guardrails
    assert trigger.pipeline_id is not None
    pipeline_id, now = trigger.pipeline_id, trigger.event_time
    instances = aws.ec2.pipeline_instances(pipeline_id)
    types = sorted(set(guardrails.allowed_instance_types) | {i.instance_type for i in instances})
    price_points = aws.ec2.spot_price_history(
        types, now - timedelta(hours=settings.price_lookback_hours), now
    )
    since = cycle_id_for(now - timedelta(hours=settings.interruption_lookback_hours), None, None)
    signals = [s for s in aws.audit.spot_signals(pipeline_id, since) if s.cycle_id != trigger.cycle_id]
    return build_state(
        trigger=trigger,
        mode=config.mode,
        mode_source=config.mode_source,
        guardrails=guardrails,
        instances=instances,
        group=aws.autoscaling.group(settings.group_name(pipeline_id)),
        price_points=price_points,
        signals=signals,
        progress=aws.checkpoints.progress(pipeline_id),
        checkpoint=aws.checkpoints.latest_checkpoint(pipeline_id),
        budget_remaining=aws.budgets.remaining_usd(budget_name(pipeline_id)),
        recent=aws.audit.recent(pipeline_id, trigger.cycle_id, settings.recent_decisions),
        checkpoint_requested=checkpoint_requested,
        drill=aws.checkpoints.last_drill(pipeline_id),
    )
