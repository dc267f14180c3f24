"""ExecuteDecision Lambda."""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from costagent.config import get_settings
from costagent.document import CycleDocument
from costagent.execute import execute_decision, plan_actions
from costagent.handlers._runtime import adapters, once, timed
from costagent.models import Mode

logger = Logger()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    started = time.perf_counter()
    document = CycleDocument.model_validate(event)
    gathered, clamped, trigger = document.gathered, document.clamped, document.trigger
    assert gathered and gathered.state and gathered.guardrails and clamped and trigger
    state, guardrails, decision = gathered.state, gathered.guardrails, clamped.decision

    def act() -> dict[str, Any]:
        result = execute_decision(
            decision=decision,
            state=state,
            guardrails=guardrails,
            cycle_id=trigger.cycle_id,
            aws=adapters(),
            settings=get_settings(),
        )
        logger.info("executed", extra={"outcome": result.outcome.value, "mode": result.mode.value})
        return timed(result, started)

    # Only a cycle that will call AWS needs an idempotency record; observing or waiting changes nothing,
    # so most cycles skip the two DynamoDB writes.
    steps = plan_actions(decision, state, guardrails, get_settings().group_name(state.pipeline_id))
    if state.mode is Mode.OBSERVE or not steps:
        return act()
    key = f"{state.pipeline_id}#{trigger.cycle_id}#{decision.action.value}"
    return once("execute", key, context, act)
