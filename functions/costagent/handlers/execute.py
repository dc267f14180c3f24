"""ExecuteDecision Lambda."""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from costagent.config import get_settings
from costagent.document import CycleDocument
from costagent.execute import execute_decision
from costagent.handlers._runtime import adapters, timed

logger = Logger()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    started = time.perf_counter()
    document = CycleDocument.model_validate(event)
    gathered, clamped, trigger = document.gathered, document.clamped, document.trigger
    assert gathered and gathered.state and gathered.guardrails and clamped and trigger
    result = execute_decision(
        decision=clamped.decision,
        state=gathered.state,
        guardrails=gathered.guardrails,
        cycle_id=trigger.cycle_id,
        aws=adapters(),
        settings=get_settings(),
    )
    logger.info("executed", extra={"outcome": result.outcome.value, "mode": result.mode.value})
    return timed(result, started)
