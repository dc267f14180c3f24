"""ReadTrigger Lambda."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext

from costagent.document import CycleDocument
from costagent.handlers._runtime import adapters, timed
from costagent.trigger import read_trigger

logger = Logger()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    started = time.perf_counter()
    document = parse(event=event, model=CycleDocument)
    received_at = datetime.now(timezone.utc)
    trigger = read_trigger(
        document.event,
        received_at=received_at,
        execution_name=document.execution_name,
        aws=adapters(),
    )
    logger.info("trigger read", extra={"kind": trigger.kind.value, "pipeline_id": trigger.pipeline_id})
    return timed(trigger.model_copy(update={"received_at": received_at}), started)
