"""PlanWithClaude / PlanWithRules / FallBackToRules Lambda. Never logs prompts or replies."""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from costagent.config import get_settings
from costagent.document import CycleDocument
from costagent.handlers._runtime import claude_planner, timed
from costagent.models import PlanResult
from costagent.planning import plan_cycle

PLAN_DEADLINE_MARGIN_SECONDS = 3.0  # left for the fallback, the response and Step Functions' overhead

logger = Logger()
metrics = Metrics()


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    started = time.perf_counter()
    document = CycleDocument.model_validate(event)
    deadline = context.get_remaining_time_in_millis() / 1000.0 - PLAN_DEADLINE_MARGIN_SECONDS
    result = plan_cycle(document, llm=get_settings().llm, claude=claude_planner, deadline_seconds=deadline)
    _emit_metrics(result)
    logger.info(
        "planned",
        extra={
            "planner": result.planner,
            "fallback_reason": result.fallback_reason,
            "reused_from": result.reused_from,
        },
    )
    return timed(result, started)


def _emit_metrics(result: PlanResult) -> None:
    metrics.add_metric(name=f"Planner_{result.planner}", unit=MetricUnit.Count, value=1)
    if result.fallback_reason:
        metrics.add_metric(name=f"PlannerFallback_{result.fallback_reason}", unit=MetricUnit.Count, value=1)
    if result.planner == "cached":
        metrics.add_metric(name="LlmReuseHits", unit=MetricUnit.Count, value=1)
    if result.llm is not None:
        metrics.add_metric(name="LlmLatency", unit=MetricUnit.Milliseconds, value=result.llm.latency_ms)
        metrics.add_metric(name="LlmInputTokens", unit=MetricUnit.Count, value=result.llm.input_tokens)
        metrics.add_metric(name="LlmOutputTokens", unit=MetricUnit.Count, value=result.llm.output_tokens)
        metrics.add_metric(
            name="LlmCacheReadTokens", unit=MetricUnit.Count, value=result.llm.cache_read_input_tokens
        )
        metrics.add_metric(
            name="LlmCacheWriteTokens", unit=MetricUnit.Count, value=result.llm.cache_creation_input_tokens
        )
