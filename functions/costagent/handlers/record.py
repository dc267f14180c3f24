"""RecordCheckpoint / RecordDecision Lambda: the execution's one audit item, then the lease is released."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Literal

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from costagent.audit import cycle_metrics
from costagent.config import get_settings
from costagent.document import CycleDocument
from costagent.handlers._runtime import adapters
from costagent.recording import record_cycle

logger = Logger()
metrics = Metrics()


class RecordInput(BaseModel):
    document: CycleDocument
    phase: Literal["checkpoint", "final"] = "final"


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = RecordInput.model_validate(event)
    record = record_cycle(
        request.document,
        phase=request.phase,
        recorded_at=datetime.now(timezone.utc),
        aws=adapters(),
        settings=get_settings(),
    )
    for name, unit, value in cycle_metrics(record):
        metrics.add_metric(name=name, unit=MetricUnit(unit), value=value)
    logger.info("cycle recorded", extra={"cycle_id": record.cycle_id, "outcome": record.outcome.value})
    return {
        "pipeline_id": record.pipeline_id,
        "cycle_id": record.cycle_id,
        "outcome": record.outcome.value,
        "phase": record.phase,
    }
