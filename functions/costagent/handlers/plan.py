"""PlanDecision / FallBackToRules Lambda. With `plan_error` in the document it is the fallback."""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from costagent.document import CycleDocument
from costagent.handlers._runtime import timed
from costagent.planning import plan_cycle

logger = Logger()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    started = time.perf_counter()
    document = CycleDocument.model_validate(event)
    result = plan_cycle(document)
    logger.info("planned", extra={"planner": result.planner, "reason": result.reason[:200]})
    return timed(result, started)
