"""PlanDecision: choose the planner for this cycle and ask it; FallBackToRules when planning failed."""

from __future__ import annotations

from costagent.document import CycleDocument
from costagent.models import PlanResult
from costagent.planner import RulesPlanner

FALLBACK_REASON_MAX_CHARS = 500  # the caught error's cause can hold a stack trace; keep the record small


def plan_cycle(document: CycleDocument) -> PlanResult:
    gathered = document.gathered
    if gathered is None or gathered.state is None or gathered.guardrails is None:
        raise ValueError("PlanDecision needs the gathered state and guardrails")
    rules = RulesPlanner().plan(gathered.state, gathered.guardrails)
    if document.plan_error is not None:
        error = document.plan_error
        cause = error.cause[:FALLBACK_REASON_MAX_CHARS]
        reason = f"planning failed ({error.error}: {cause}); the rules planner decided"
        return rules.model_copy(update={"planner": "fallback", "reason": reason})
    if gathered.guardrails.planner == "claude":
        return rules.model_copy(
            update={"planner": "fallback", "reason": "the Claude planner is not available in this build"}
        )
    return rules
