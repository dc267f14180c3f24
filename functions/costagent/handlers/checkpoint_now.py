"""CheckpointNow Lambda: the interruption fast path (never calls a planner)."""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from costagent.checkpoint import checkpoint_now
from costagent.config import get_settings
from costagent.document import CycleDocument
from costagent.handlers._runtime import adapters, once, timed

logger = Logger()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    started = time.perf_counter()
    document = CycleDocument.model_validate(event)
    trigger = document.trigger
    assert trigger is not None

    def act() -> dict[str, Any]:
        return timed(checkpoint_now(trigger, aws=adapters(), settings=get_settings()), started)

    return once("checkpoint", f"{trigger.pipeline_id}#{trigger.cycle_id}#CHECKPOINT", context, act)
