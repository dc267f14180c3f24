"""ClampDecision Lambda."""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from costagent.clamp import clamp_decision
from costagent.document import CycleDocument
from costagent.handlers._runtime import timed

logger = Logger()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    started = time.perf_counter()
    document = CycleDocument.model_validate(event)
    assert document.gathered is not None and document.gathered.state and document.gathered.guardrails
    proposal = document.plan.proposal if document.plan else None
    result = clamp_decision(proposal, document.gathered.state, document.gathered.guardrails)
    if result.clamps:
        logger.info("proposal clamped", extra={"rules": [c.rule for c in result.clamps]})
    return timed(result, started)
