"""PlanWithClaude / PlanWithRules / FallBackToRules: choose the planner for this cycle and ask it.

Never raises for a planning failure: a Claude failure of any kind is the rules planner's decision,
recorded as `fallback` with a reason code. A steady pipeline reuses Claude's last WAIT (`cached`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from costagent.config import LlmSettings
from costagent.document import CycleDocument
from costagent.errors import CostagentError
from costagent.guardrails import Guardrails
from costagent.models import PipelineState, PlanResult
from costagent.planner import RulesPlanner
from costagent.prompt import PROMPT_VERSION
from costagent.reuse import fingerprint, reuse_verdict

FALLBACK_REASON_MAX_CHARS = 500  # the caught error's cause can hold a stack trace; keep the record small


class DeadlinePlanner(Protocol):
    def plan(
        self, state: PipelineState, guardrails: Guardrails, deadline_seconds: float = ...
    ) -> PlanResult: ...


def plan_cycle(
    document: CycleDocument,
    *,
    llm: LlmSettings | None = None,
    claude: Callable[[], DeadlinePlanner] | None = None,
    deadline_seconds: float = 60.0,
) -> PlanResult:
    gathered = document.gathered
    if gathered is None or gathered.state is None or gathered.guardrails is None:
        raise ValueError("planning needs the gathered state and guardrails")
    state, guardrails = gathered.state, gathered.guardrails
    rules = RulesPlanner().plan(state, guardrails)
    if document.plan_error is not None:
        error = document.plan_error
        cause = error.cause[:FALLBACK_REASON_MAX_CHARS]
        reason = f"planning failed ({error.error}: {cause}); the rules planner decided"
        return rules.model_copy(
            update={"planner": "fallback", "fallback_reason": "plan_lambda_failed", "reason": reason}
        )
    if guardrails.planner == "rules":
        return rules
    llm = llm or LlmSettings()
    if llm.reuse:
        current = fingerprint(
            state,
            guardrails,
            model=llm.model_id,
            prompt_version=PROMPT_VERSION,
            rules_action=_action(rules.proposal),
        )
        reusable, why = reuse_verdict(state.last_llm_plan, current, state.trigger, state.time)
        if reusable and state.last_llm_plan is not None:
            last = state.last_llm_plan
            return PlanResult(
                planner="cached",
                proposal=last.proposal,
                signals=rules.signals,
                reason=f"reused Claude's decision: {why}",
                fingerprint=last.fingerprint,
                reused_from=last.cycle_id,
            )
    if claude is None:
        return _not_configured(rules, "no Claude client in this process")
    try:
        planner = claude()
    except CostagentError as error:
        return _not_configured(rules, str(error))
    return planner.plan(state, guardrails, deadline_seconds)


def _action(proposal: object) -> str | None:
    return str(proposal.get("action")) if isinstance(proposal, dict) else None


def _not_configured(rules: PlanResult, detail: str) -> PlanResult:
    return rules.model_copy(
        update={
            "planner": "fallback",
            "fallback_reason": "not_configured",
            "reason": f"Claude is not configured ({detail}); the rules planner decided",
        }
    )
