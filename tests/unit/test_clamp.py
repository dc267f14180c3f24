"""clamp_decision: every guardrail rule, case by case. Given a fleet and a proposal, then a decision
and the ClampEvents that explain each change."""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

import pytest

from costagent import clamp
from costagent.clamp import clamp_decision
from costagent.clamp_rules import (
    RULE_BUDGET,
    RULE_CHECKPOINT_NEEDS_FLAG,
    RULE_CHECKPOINT_OVERDUE,
    RULE_CONTRADICTORY_FIELDS,
    RULE_COUNT_BOUNDS,
    RULE_INTERRUPTION_PENDING,
    RULE_INVALID_ACTION,
    RULE_INVALID_CAPACITY_TYPE,
    RULE_INVALID_COUNT,
    RULE_INVALID_SHOULD_CHECKPOINT,
    RULE_MIGRATE_NEEDS_CHECKPOINT,
    RULE_NO_INSTANCES_TO_CHECKPOINT,
    RULE_ON_DEMAND_NOT_ALLOWED,
    RULE_REASONING,
    RULE_SCALE_STEP,
    RULE_UNKNOWN_INSTANCE_TYPE,
    RULE_UNREADABLE_PROPOSAL,
    RULE_VALIDATOR_ERROR,
)
from costagent.guardrails import REASONING_MAX_CHARS, Guardrails
from costagent.models import (
    Action,
    AgentDecision,
    CapacityType,
    ClampResult,
    Instance,
    PipelineState,
    SpotPool,
    TerminationNotice,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
SPOT = CapacityType.SPOT
ON_DEMAND = CapacityType.ON_DEMAND


def make_guardrails(**overrides: Any) -> Guardrails:
    """c5.xlarge (default) or m5.xlarge, 0..50 instances, steps of at most 4, checkpoint every 30 min."""
    settings: dict[str, Any] = {
        "allowed_instance_types": ["c5.xlarge", "m5.xlarge"],
        "default_instance_type": "c5.xlarge",
        "min_instances": 0,
        "max_instances": 50,
        "max_scale_step_instances": 4,
        "checkpoint_overdue_minutes": 30.0,
    }
    return Guardrails(**{**settings, **overrides})


def make_instances(
    count: int, instance_type: str = "c5.xlarge", lifecycle: CapacityType = SPOT
) -> list[Instance]:
    return [
        Instance(
            instance_id=f"i-{instance_type}-{n:04d}",
            instance_type=instance_type,
            zone="us-east-1a",
            lifecycle=lifecycle,
            launch_time=NOW - timedelta(hours=2),
        )
        for n in range(count)
    ]


def make_state(
    instance_count: int = 3,
    instance_type: str = "c5.xlarge",
    lifecycle: CapacityType = SPOT,
    **overrides: Any,
) -> PipelineState:
    """A healthy pipeline: 3 spot c5.xlarge, 40 % done, checkpointed 5 minutes ago, no budget."""
    fields: dict[str, Any] = {
        "pipeline_id": "genome-align",
        "time": NOW,
        "active_instances": make_instances(instance_count, instance_type, lifecycle),
        "pipeline_progress": 0.4,
        "minutes_since_checkpoint": 5.0,
    }
    return PipelineState(**{**fields, **overrides})


def proposal(action: str, count: int | float | str | None = None, **fields: Any) -> dict[str, Any]:
    return {
        "action": action,
        "instance_type": "c5.xlarge",
        "capacity_type": "spot",
        "instance_count": count,
        "should_checkpoint": False,
        "reasoning": "the planner's reasons",
        **fields,
    }


def run(raw: object, state: PipelineState | None = None, guardrails: Guardrails | None = None) -> ClampResult:
    return clamp_decision(raw, state or make_state(), guardrails or make_guardrails())


def rules(result: ClampResult) -> list[tuple[str, str]]:
    return [(event.rule, event.field) for event in result.clamps]


# --- a sound proposal passes untouched ---------------------------------------------------------------


def test_sound_scale_up_passes_unchanged() -> None:
    result = run(proposal("SCALE_UP", 5))

    assert result.decision.action is Action.SCALE_UP
    assert result.decision.instance_count == 5
    assert result.decision.reasoning == "the planner's reasons"
    assert result.clamps == []
    assert result.latency_ms == 0


def test_agent_decision_object_is_read_like_its_json() -> None:
    decision = AgentDecision(action=Action.SCALE_DOWN, instance_type="c5.xlarge", instance_count=2)

    result = run(decision)

    assert (result.decision.action, result.decision.instance_count) == (Action.SCALE_DOWN, 2)
    assert result.clamps == []


# --- unreadable proposals and actions ------------------------------------------------------------------


@pytest.mark.parametrize("raw", [None, [], ["SCALE_UP", 5], "SCALE_UP", 42, 3.5, True, object()])
def test_non_object_proposal_becomes_wait_with_one_event(raw: object) -> None:
    result = run(raw)

    assert result.decision.action is Action.WAIT
    assert result.decision.instance_count == 3
    assert rules(result) == [(RULE_UNREADABLE_PROPOSAL, "proposal")]


def test_invalid_action_becomes_wait() -> None:
    result = run({"action": "LAUNCH_ROCKETS", "instance_count": 3})

    assert result.decision.action is Action.WAIT
    assert result.decision.instance_count == 3
    assert rules(result) == [(RULE_INVALID_ACTION, "action")]
    assert result.clamps[0].proposed == "LAUNCH_ROCKETS"
    assert result.clamps[0].applied == "WAIT"


@pytest.mark.parametrize("raw_action", [None, 7, ["SCALE_UP"], {"name": "SCALE_UP"}, ""])
def test_missing_or_non_text_action_becomes_wait(raw_action: object) -> None:
    result = run({"action": raw_action})

    assert result.decision.action is Action.WAIT
    assert rules(result) == [(RULE_INVALID_ACTION, "action")]


@pytest.mark.parametrize("spelling", ["scale_up", "Scale-Up", " SCALE UP ", "scaleup"])
def test_other_spellings_of_an_action_are_read_silently(spelling: str) -> None:
    result = run(proposal(spelling, 5))

    assert result.decision.action is Action.SCALE_UP
    assert result.clamps == []


# --- instance type and capacity type -------------------------------------------------------------------


def test_unknown_instance_type_becomes_default() -> None:
    result = run(proposal("SCALE_UP", 5, instance_type="x1e.32xlarge"))

    assert result.decision.instance_type == "c5.xlarge"
    assert result.decision.instance_count == 5
    assert rules(result) == [(RULE_UNKNOWN_INSTANCE_TYPE, "instance_type")]
    assert result.clamps[0].proposed == "x1e.32xlarge"


def test_wait_without_a_type_takes_the_current_type_silently() -> None:
    result = run({"action": "WAIT"}, make_state(instance_type="m5.xlarge"))

    assert result.decision.instance_type == "m5.xlarge"
    assert result.clamps == []


def test_wait_on_a_disallowed_fleet_type_takes_the_default_silently() -> None:
    result = run({"action": "WAIT"}, make_state(instance_type="t2.micro"))

    assert result.decision.instance_type == "c5.xlarge"
    assert result.clamps == []


def test_wait_with_a_disallowed_type_still_gets_an_event_and_the_default() -> None:
    result = run({"action": "WAIT", "instance_type": "t2.micro"}, make_state(instance_type="m5.xlarge"))

    assert result.decision.instance_type == "c5.xlarge"
    assert rules(result) == [(RULE_UNKNOWN_INSTANCE_TYPE, "instance_type")]


@pytest.mark.parametrize("spelling", ["on-demand", "on_demand", "ondemand", "ON-DEMAND", "On Demand"])
def test_on_demand_spellings_are_read_silently(spelling: str) -> None:
    result = run(proposal("SCALE_UP", 5, capacity_type=spelling))

    assert result.decision.capacity_type is ON_DEMAND
    assert result.clamps == []


def test_invalid_capacity_type_becomes_the_current_one() -> None:
    result = run(proposal("SCALE_UP", 5, capacity_type="reserved"), make_state(lifecycle=ON_DEMAND))

    assert result.decision.capacity_type is ON_DEMAND
    assert rules(result) == [(RULE_INVALID_CAPACITY_TYPE, "capacity_type")]


def test_on_demand_when_not_allowed_becomes_spot() -> None:
    result = run(
        proposal("SCALE_UP", 5, capacity_type="on-demand"), guardrails=make_guardrails(allow_on_demand=False)
    )

    assert result.decision.capacity_type is SPOT
    assert rules(result) == [(RULE_ON_DEMAND_NOT_ALLOWED, "capacity_type")]


def test_wait_on_a_no_longer_allowed_on_demand_fleet_reports_spot_silently() -> None:
    state = make_state(lifecycle=ON_DEMAND)

    result = run({"action": "WAIT"}, state, make_guardrails(allow_on_demand=False))

    assert result.decision.capacity_type is SPOT
    assert result.clamps == []


# --- counts: coercion, bounds and scale step ----------------------------------------------------------


def test_count_500_is_clamped_to_max_50() -> None:
    result = run(proposal("SCALE_UP", 500), make_state(instance_count=48))

    assert result.decision.instance_count == 50
    assert rules(result) == [(RULE_COUNT_BOUNDS, "instance_count")]
    event = result.clamps[0]
    assert (event.proposed, event.applied) == (500, 50)
    assert event.reason == "instance_count 500 is above max_instances 50; clamped to 50"


def test_count_below_min_is_raised_to_min() -> None:
    result = run(proposal("SCALE_DOWN", 0), make_state(instance_count=4), make_guardrails(min_instances=2))

    assert result.decision.instance_count == 2
    assert rules(result) == [(RULE_COUNT_BOUNDS, "instance_count")]


def test_scale_step_limits_a_large_scale_up() -> None:
    result = run(proposal("SCALE_UP", 20))

    assert result.decision.instance_count == 7
    assert rules(result) == [(RULE_SCALE_STEP, "instance_count")]


def test_scale_step_limits_a_large_scale_down() -> None:
    result = run(proposal("SCALE_DOWN", 1), make_state(instance_count=12))

    assert result.decision.instance_count == 8
    assert rules(result) == [(RULE_SCALE_STEP, "instance_count")]


def test_huge_count_is_clamped_then_stepped() -> None:
    result = run(proposal("SCALE_UP", 10**400))

    assert result.decision.instance_count == 7
    assert rules(result) == [(RULE_COUNT_BOUNDS, "instance_count"), (RULE_SCALE_STEP, "instance_count")]
    assert isinstance(result.clamps[0].proposed, str)  # too long for a JSON number anyone can read


def test_fleet_above_max_scales_down_one_step_toward_max() -> None:
    result = run(proposal("SCALE_DOWN", 10), make_state(instance_count=60))

    assert result.decision.instance_count == 56
    assert rules(result) == [(RULE_SCALE_STEP, "instance_count")]


def test_fleet_above_max_cannot_scale_up() -> None:
    result = run(proposal("SCALE_UP", 70), make_state(instance_count=60))

    assert (result.decision.action, result.decision.instance_count) == (Action.WAIT, 60)
    assert rules(result) == [(RULE_COUNT_BOUNDS, "instance_count"), (RULE_CONTRADICTORY_FIELDS, "action")]


def test_fleet_below_min_cannot_scale_down() -> None:
    result = run(proposal("SCALE_DOWN", 0), make_state(instance_count=1), make_guardrails(min_instances=2))

    assert (result.decision.action, result.decision.instance_count) == (Action.WAIT, 1)
    assert rules(result) == [
        (RULE_COUNT_BOUNDS, "instance_count"),
        (RULE_CONTRADICTORY_FIELDS, "action"),
    ]


@pytest.mark.parametrize("raw_count", ["7", " 7 ", "+7", "7.9"])
def test_numeric_string_count_is_read_with_an_event(raw_count: str) -> None:
    result = run(proposal("SCALE_UP", raw_count))

    assert result.decision.instance_count == 7
    assert rules(result) == [(RULE_INVALID_COUNT, "instance_count")]
    assert result.clamps[0].proposed == raw_count


def test_fractional_count_rounds_down_with_an_event() -> None:
    result = run(proposal("SCALE_UP", 6.7))

    assert result.decision.instance_count == 6
    assert rules(result) == [(RULE_INVALID_COUNT, "instance_count")]


def test_whole_float_count_is_read_silently() -> None:
    result = run(proposal("SCALE_UP", 6.0))

    assert result.decision.instance_count == 6
    assert result.clamps == []


@pytest.mark.parametrize(
    "raw_count", [math.nan, math.inf, -math.inf, -3, -0.5, "seven", "1e3", "", True, False, [5], {"n": 5}]
)
def test_unusable_count_becomes_current_so_scale_up_waits(raw_count: object) -> None:
    result = run(proposal("SCALE_UP", raw_count))  # type: ignore[arg-type]

    assert result.decision.action is Action.WAIT
    assert result.decision.instance_count == 3
    assert rules(result) == [(RULE_INVALID_COUNT, "instance_count"), (RULE_CONTRADICTORY_FIELDS, "action")]
    json.dumps(result.model_dump(mode="json"), allow_nan=False)


def test_missing_count_on_wait_is_filled_silently() -> None:
    result = run({"action": "WAIT", "reasoning": "all good"})

    assert result.decision.instance_count == 3
    assert result.clamps == []


# --- contradictions ------------------------------------------------------------------------------------


def test_scale_up_to_no_more_than_current_becomes_wait() -> None:
    result = run(proposal("SCALE_UP", 2))

    assert result.decision.action is Action.WAIT
    assert result.decision.instance_count == 3
    assert rules(result) == [
        (RULE_CONTRADICTORY_FIELDS, "action"),
        (RULE_CONTRADICTORY_FIELDS, "instance_count"),
    ]


def test_scale_down_to_no_fewer_than_current_becomes_wait() -> None:
    result = run(proposal("SCALE_DOWN", 3))

    assert result.decision.action is Action.WAIT
    assert rules(result) == [(RULE_CONTRADICTORY_FIELDS, "action")]


def test_migrate_to_the_current_pool_becomes_wait() -> None:
    result = run(proposal("MIGRATE", 3, should_checkpoint=True))

    assert result.decision.action is Action.WAIT
    assert rules(result) == [(RULE_CONTRADICTORY_FIELDS, "action")]


def test_migrate_to_zero_instances_becomes_wait() -> None:
    result = run(proposal("MIGRATE", 0, instance_type="m5.xlarge", should_checkpoint=True))

    assert result.decision.action is Action.WAIT
    assert result.decision.instance_count == 3
    assert rules(result) == [
        (RULE_CONTRADICTORY_FIELDS, "action"),
        (RULE_CONTRADICTORY_FIELDS, "instance_count"),
    ]


def test_migrate_off_a_disallowed_type_to_the_default_is_allowed() -> None:
    result = run(proposal("MIGRATE", 3, should_checkpoint=True), make_state(instance_type="t2.micro"))

    assert (result.decision.action, result.decision.instance_type) == (Action.MIGRATE, "c5.xlarge")
    assert result.clamps == []


def test_wait_with_a_different_count_keeps_the_current_count() -> None:
    result = run(proposal("WAIT", 9))

    assert (result.decision.action, result.decision.instance_count) == (Action.WAIT, 3)
    assert rules(result) == [(RULE_CONTRADICTORY_FIELDS, "instance_count")]


def test_wait_keeps_a_fleet_that_is_above_max() -> None:
    result = run(proposal("WAIT", 60), make_state(instance_count=60))

    assert result.decision.instance_count == 60
    assert result.clamps == []


# --- budget --------------------------------------------------------------------------------------------


def budget_state(budget_usd: float, hours: float = 12.0, **overrides: Any) -> PipelineState:
    pool = SpotPool(instance_type="c5.xlarge", zone="us-east-1a", price_per_hour=0.07)
    return make_state(
        budget_remaining=budget_usd, expected_remaining_hours=hours, spot_prices=[pool], **overrides
    )


def test_budget_reduces_scale_up_to_the_largest_affordable_count() -> None:
    result = run(proposal("SCALE_UP", 8), budget_state(5.0), make_guardrails(max_scale_step_instances=10))

    assert result.decision.instance_count == 5
    assert rules(result) == [(RULE_BUDGET, "instance_count")]
    assert result.clamps[0].reason == (
        "8 \u00d7 c5.xlarge spot at $0.0700/h for 12.0 h = $6.72 exceeds the $5.00 budget remaining; "
        "reduced to 5"
    )


def test_scale_up_one_instance_over_budget_loses_that_instance() -> None:
    result = run(proposal("SCALE_UP", 6), budget_state(4.9))  # 5 instances cost $4.20, 6 cost $5.04

    assert result.decision.instance_count == 5
    assert rules(result) == [(RULE_BUDGET, "instance_count")]


def test_budget_that_pays_for_no_growth_turns_scale_up_into_wait() -> None:
    result = run(proposal("SCALE_UP", 6), budget_state(2.6))  # 3 instances cost $2.52

    assert (result.decision.action, result.decision.instance_count) == (Action.WAIT, 3)
    assert rules(result) == [(RULE_BUDGET, "action"), (RULE_BUDGET, "instance_count")]


def test_exactly_affordable_scale_up_is_kept() -> None:
    result = run(proposal("SCALE_UP", 5), budget_state(4.2))  # 5 x 0.07 x 12 = 4.20

    assert result.decision.instance_count == 5
    assert result.clamps == []


def test_exhausted_budget_turns_migrate_into_wait() -> None:
    raw = proposal("MIGRATE", 3, instance_type="m5.xlarge", should_checkpoint=True)

    result = run(raw, budget_state(0.0))

    assert result.decision.action is Action.WAIT
    assert rules(result) == [(RULE_BUDGET, "action")]


def test_migrate_the_budget_cannot_pay_for_becomes_wait() -> None:
    raw = proposal("MIGRATE", 3, instance_type="m5.xlarge", capacity_type="on-demand", should_checkpoint=True)

    result = run(raw, budget_state(5.0))  # 3 x 0.192 x 12 = 6.91

    assert result.decision.action is Action.WAIT
    assert rules(result) == [(RULE_BUDGET, "action")]
    assert "$0.1920/h" in result.clamps[0].reason


def test_spot_pool_without_a_quote_is_priced_at_on_demand() -> None:
    raw = proposal("MIGRATE", 3, instance_type="m5.xlarge", should_checkpoint=True)

    result = run(raw, budget_state(5.0))  # no m5.xlarge spot quote: 3 x 0.192 x 12 = 6.91

    assert result.decision.action is Action.WAIT
    assert "m5.xlarge spot (no quote; on-demand price) at $0.1920/h" in result.clamps[0].reason


def test_guardrail_on_demand_price_overrides_the_reference_table() -> None:
    raw = proposal("MIGRATE", 3, instance_type="m5.xlarge", capacity_type="on-demand", should_checkpoint=True)

    result = run(raw, budget_state(5.0), make_guardrails(on_demand_prices={"m5.xlarge": 0.1}))

    assert result.decision.action is Action.MIGRATE
    assert result.clamps == []


def test_scale_down_is_never_stopped_by_the_budget() -> None:
    result = run(proposal("SCALE_DOWN", 2), budget_state(-5.0))

    assert result.decision.action is Action.SCALE_DOWN
    assert result.clamps == []


# --- checkpoints ---------------------------------------------------------------------------------------


def test_overdue_checkpoint_is_forced() -> None:
    result = run(proposal("WAIT", 3), make_state(minutes_since_checkpoint=45.0))

    assert result.decision.action is Action.CHECKPOINT
    assert result.decision.should_checkpoint is True
    assert rules(result) == [
        (RULE_CHECKPOINT_OVERDUE, "should_checkpoint"),
        (RULE_CHECKPOINT_OVERDUE, "action"),
    ]
    assert "45 minutes" in result.clamps[0].reason


def test_overdue_checkpoint_keeps_a_scale_down_and_sets_the_flag() -> None:
    result = run(proposal("SCALE_DOWN", 2), make_state(minutes_since_checkpoint=45.0))

    assert (result.decision.action, result.decision.should_checkpoint) == (Action.SCALE_DOWN, True)
    assert rules(result) == [(RULE_CHECKPOINT_OVERDUE, "should_checkpoint")]


def test_never_checkpointed_with_progress_is_overdue() -> None:
    result = run(proposal("WAIT", 3), make_state(minutes_since_checkpoint=None, pipeline_progress=0.2))

    assert result.decision.action is Action.CHECKPOINT
    assert (RULE_CHECKPOINT_OVERDUE, "action") in rules(result)


def test_never_checkpointed_without_progress_forces_nothing() -> None:
    result = run(proposal("WAIT", 3), make_state(minutes_since_checkpoint=None, pipeline_progress=0.0))

    assert result.decision.action is Action.WAIT
    assert result.clamps == []


def notice(kind: Literal["interruption", "rebalance"]) -> TerminationNotice:
    return TerminationNotice(kind=kind, instance_id="i-c5.xlarge-0001", time=NOW)


def test_interruption_notice_forces_checkpoint() -> None:
    result = run(proposal("WAIT", 3), make_state(termination_notices=[notice("interruption")]))

    assert (result.decision.action, result.decision.should_checkpoint) == (Action.CHECKPOINT, True)
    assert rules(result) == [
        (RULE_INTERRUPTION_PENDING, "should_checkpoint"),
        (RULE_INTERRUPTION_PENDING, "action"),
    ]


def test_rebalance_recommendation_alone_forces_nothing() -> None:
    result = run(proposal("WAIT", 3), make_state(termination_notices=[notice("rebalance")]))

    assert result.decision.action is Action.WAIT
    assert result.clamps == []


def test_migrate_that_says_no_checkpoint_checkpoints_anyway() -> None:
    result = run(proposal("MIGRATE", 3, instance_type="m5.xlarge", should_checkpoint=False))

    assert (result.decision.action, result.decision.should_checkpoint) == (Action.MIGRATE, True)
    assert rules(result) == [(RULE_MIGRATE_NEEDS_CHECKPOINT, "should_checkpoint")]


def test_checkpoint_without_the_flag_gets_it_silently() -> None:
    result = run({"action": "CHECKPOINT"})

    assert (result.decision.action, result.decision.should_checkpoint) == (Action.CHECKPOINT, True)
    assert result.clamps == []


def test_checkpoint_that_says_false_gets_the_flag_with_an_event() -> None:
    result = run({"action": "CHECKPOINT", "should_checkpoint": False})

    assert result.decision.should_checkpoint is True
    assert rules(result) == [(RULE_CHECKPOINT_NEEDS_FLAG, "should_checkpoint")]


def test_checkpoint_with_no_instances_becomes_wait() -> None:
    state = make_state(instance_count=0, minutes_since_checkpoint=400.0)

    result = run({"action": "CHECKPOINT", "should_checkpoint": True}, state)

    assert (result.decision.action, result.decision.should_checkpoint) == (Action.WAIT, False)
    assert rules(result) == [
        (RULE_NO_INSTANCES_TO_CHECKPOINT, "should_checkpoint"),
        (RULE_NO_INSTANCES_TO_CHECKPOINT, "action"),
    ]


def test_scale_up_from_no_instances_is_allowed() -> None:
    result = run(proposal("SCALE_UP", 4), make_state(instance_count=0, minutes_since_checkpoint=None))

    assert (result.decision.action, result.decision.instance_count) == (Action.SCALE_UP, 4)
    assert result.clamps == []


@pytest.mark.parametrize(("raw_flag", "read_as"), [("true", True), ("FALSE", False), (1, True), (0, False)])
def test_should_checkpoint_spellings_are_read_with_an_event(raw_flag: object, read_as: bool) -> None:
    result = run(proposal("SCALE_DOWN", 2, should_checkpoint=raw_flag))

    assert result.decision.should_checkpoint is read_as
    assert rules(result) == [(RULE_INVALID_SHOULD_CHECKPOINT, "should_checkpoint")]


@pytest.mark.parametrize("raw_flag", ["maybe", 2, 0.5, [], {"x": 1}])
def test_unreadable_should_checkpoint_becomes_false(raw_flag: object) -> None:
    result = run(proposal("SCALE_DOWN", 2, should_checkpoint=raw_flag))

    assert result.decision.should_checkpoint is False
    assert rules(result) == [(RULE_INVALID_SHOULD_CHECKPOINT, "should_checkpoint")]


# --- reasoning -----------------------------------------------------------------------------------------


def test_reasoning_too_long_is_cut() -> None:
    result = run(proposal("SCALE_DOWN", 2, reasoning="r" * (REASONING_MAX_CHARS + 500)))

    assert result.decision.reasoning == "r" * REASONING_MAX_CHARS
    assert rules(result) == [(RULE_REASONING, "reasoning")]
    assert len(result.clamps[0].proposed) <= 200


def test_reasoning_control_characters_are_removed_but_newlines_kept() -> None:
    result = run(proposal("SCALE_DOWN", 2, reasoning="spot is\x00 cheap\x1b[31m\nnow\ud800"))

    assert result.decision.reasoning == "spot is cheap[31m\nnow"
    assert rules(result) == [(RULE_REASONING, "reasoning")]
    json.dumps(result.model_dump(mode="json")).encode("utf-8")


def test_non_text_reasoning_is_stored_as_text() -> None:
    result = run(proposal("SCALE_DOWN", 2, reasoning={"why": "cheaper"}))

    assert result.decision.reasoning == "{'why': 'cheaper'}"
    assert rules(result) == [(RULE_REASONING, "reasoning")]


def test_missing_reasoning_is_noted_silently() -> None:
    result = run({"action": "WAIT"})

    assert result.decision.reasoning == "(no reasoning given)"
    assert result.clamps == []


# --- robustness ----------------------------------------------------------------------------------------


def test_unknown_keys_are_ignored() -> None:
    raw: dict[Any, object] = {**proposal("SCALE_UP", 5), "rm -rf": True, 7: "seven"}

    result = run(raw)

    assert result.decision.instance_count == 5
    assert result.clamps == []


def test_internal_error_yields_a_safe_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_rule(*_: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(clamp, "POLICY_RULES", (broken_rule,))

    result = run(proposal("SCALE_UP", 5))

    assert (result.decision.action, result.decision.instance_count) == (Action.WAIT, 3)
    assert rules(result) == [(RULE_VALIDATOR_ERROR, "decision")]
    assert "report it" in result.clamps[0].reason
