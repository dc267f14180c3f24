"""Which planner answers a cycle: rules, Claude, Claude's reused decision, or the fallback."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from costagent.adapters.claude import ClaudeNotConfigured
from costagent.config import LlmSettings
from costagent.document import CycleDocument
from costagent.guardrails import Guardrails
from costagent.models import (
    Action,
    CapacityType,
    CycleRecord,
    GatherResult,
    LeaseInfo,
    Outcome,
    PipelineState,
    PlanResult,
    StepError,
    TriggerKind,
    ValidDecision,
)
from costagent.planner import RulesPlanner
from costagent.planning import plan_cycle
from costagent.prompt import PROMPT_VERSION
from costagent.reuse import fingerprint
from costagent.state_builder import last_llm_plan

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=timezone.utc)
CLAUDE = Guardrails(
    allowed_instance_types=["c5.xlarge"],
    default_instance_type="c5.xlarge",
    max_instances=10,
    planner="claude",
)


class AnsweringPlanner:
    """Stands in for ClaudePlanner here; the real client is tested against the fake API elsewhere."""

    def __init__(self) -> None:
        self.calls = 0

    def plan(
        self, state: PipelineState, guardrails: Guardrails, deadline_seconds: float = 60.0
    ) -> PlanResult:
        self.calls += 1
        return PlanResult(planner="claude", proposal={"action": "WAIT"}, reason="asked")


def document(guardrails: Guardrails = CLAUDE, **state_changes: object) -> CycleDocument:
    state = PipelineState.model_validate({"pipeline_id": "etl", "time": NOW, **state_changes})
    return CycleDocument(
        gathered=GatherResult(state=state, guardrails=guardrails, lease=LeaseInfo(acquired=True))
    )


def test_rules_pipeline_never_asks_claude() -> None:
    planner = AnsweringPlanner()
    result = plan_cycle(document(CLAUDE.model_copy(update={"planner": "rules"})), claude=lambda: planner)
    assert result.planner == "rules" and planner.calls == 0


def test_claude_pipeline_asks_claude() -> None:
    planner = AnsweringPlanner()
    assert plan_cycle(document(), claude=lambda: planner).planner == "claude"
    assert planner.calls == 1


def test_missing_credentials_fall_back_with_the_reason() -> None:
    def unconfigured() -> AnsweringPlanner:
        raise ClaudeNotConfigured("no Anthropic API key: set ANTHROPIC_API_KEY")

    result = plan_cycle(document(), claude=unconfigured)
    assert result.planner == "fallback" and result.fallback_reason == "not_configured"
    assert "ANTHROPIC_API_KEY" in result.reason


def test_plan_lambda_failure_makes_the_rules_decide() -> None:
    failed = document().model_copy(update={"plan_error": StepError(Error="States.Timeout", Cause="60 s")})
    result = plan_cycle(failed, claude=AnsweringPlanner)
    assert result.planner == "fallback" and result.fallback_reason == "plan_lambda_failed"


def test_unchanged_state_reuses_claudes_last_wait_without_a_call() -> None:
    earlier = document().gathered
    assert earlier is not None and earlier.state is not None
    rules_action = RulesPlanner().plan(earlier.state, CLAUDE).proposal["action"]
    facts = fingerprint(
        earlier.state,
        CLAUDE,
        model="claude-sonnet-5",
        prompt_version=PROMPT_VERSION,
        rules_action=rules_action,
    )
    record = CycleRecord(
        pipeline_id="etl",
        cycle_id="2026-12-03T12:00:00Z#a",
        cycle_time=NOW,
        trigger=TriggerKind.SCHEDULED,
        outcome=Outcome.NO_OP,
        planner="claude",
        proposal={"action": "WAIT"},
        plan_fingerprint=facts,
        decision=ValidDecision(
            action=Action.WAIT,
            instance_type="c5.xlarge",
            capacity_type=CapacityType.SPOT,
            instance_count=0,
            should_checkpoint=False,
            reasoning="",
        ),
    )
    last = last_llm_plan([record])
    assert last is not None and last.cycle_id == "2026-12-03T12:00:00Z#a"
    later = document(time=NOW + timedelta(minutes=1), last_llm_plan=last)
    planner = AnsweringPlanner()
    result = plan_cycle(later, llm=LlmSettings(reuse=True), claude=lambda: planner)
    assert result.planner == "cached" and result.reused_from == last.cycle_id and planner.calls == 0
    assert plan_cycle(later, llm=LlmSettings(reuse=False), claude=lambda: planner).planner == "claude"


def test_a_rules_decision_in_between_stops_reuse() -> None:
    rules_record = CycleRecord(
        pipeline_id="etl",
        cycle_id="2026-12-03T12:01:00Z#b",
        cycle_time=NOW,
        trigger=TriggerKind.SCHEDULED,
        outcome=Outcome.NO_OP,
        planner="fallback",
    )
    assert last_llm_plan([rules_record]) is None
