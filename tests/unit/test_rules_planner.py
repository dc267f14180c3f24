"""The rules planner: one test per rule, the hysteresis, determinism, and a property over random states."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from costagent.guardrails import Guardrails
from costagent.models import (
    Action,
    AgentDecision,
    CapacityType,
    GroupCapacity,
    Instance,
    PipelineState,
    PlanResult,
    SpotPool,
    TerminationNotice,
)
from costagent.planner import Planner, RulesPlanner, compute_signals

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
ALLOWED = ["c5.xlarge", "c5a.xlarge", "m5.xlarge"]  # on-demand: 0.17, 0.154, 0.192 USD/h
SPOT = CapacityType.SPOT
ON_DEMAND = CapacityType.ON_DEMAND


# --- builders -----------------------------------------------------------------------------------


def guardrails(**overrides: Any) -> Guardrails:
    values: dict[str, Any] = {
        "allowed_instance_types": ALLOWED,
        "default_instance_type": "c5.xlarge",
        "min_instances": 1,
        "max_instances": 8,
        "target_instances": 4,
    }
    return Guardrails.model_validate({**values, **overrides})


def fleet(
    count: int, instance_type: str = "c5.xlarge", lifecycle: CapacityType = SPOT, zone: str = "us-east-1a"
) -> list[Instance]:
    return [
        Instance(
            instance_id=f"i-{index:017x}",
            instance_type=instance_type,
            zone=zone,
            lifecycle=lifecycle,
            launch_time=T0 - timedelta(hours=2),
        )
        for index in range(1, count + 1)
    ]


def pool(instance_type: str, price: float, interruptions: int = 0, zone: str = "us-east-1a") -> SpotPool:
    return SpotPool(
        instance_type=instance_type, zone=zone, price_per_hour=price, recent_interruptions=interruptions
    )


def default_pools() -> list[SpotPool]:
    """The current pool, a pool too little cheaper to be worth a move, and a dearer one."""
    return [pool("c5.xlarge", 0.070), pool("c5a.xlarge", 0.065), pool("m5.xlarge", 0.090)]


def state(**overrides: Any) -> PipelineState:
    """A steady pipeline: 4 spot c5.xlarge at target, checkpointed 10 minutes ago, half done, no deadline."""
    values: dict[str, Any] = {
        "pipeline_id": "nightly-etl",
        "time": T0,
        "active_instances": fleet(4),
        "spot_prices": default_pools(),
        "pipeline_progress": 0.5,
        "minutes_since_checkpoint": 10.0,
    }
    return PipelineState.model_validate({**values, **overrides})


def notice(kind: str, instance_id: str = "i-00000000000000001") -> TerminationNotice:
    return TerminationNotice.model_validate({"kind": kind, "instance_id": instance_id, "time": T0})


def propose(pipeline: PipelineState, limits: Guardrails | None = None) -> AgentDecision:
    result = RulesPlanner().plan(pipeline, limits or guardrails())
    return AgentDecision.model_validate(result.proposal)


# --- the rules ----------------------------------------------------------------------------------


def test_interruption_notice_with_instances_running_checkpoints_now() -> None:
    decision = propose(state(termination_notices=[notice("interruption")]))

    assert decision.action is Action.CHECKPOINT
    assert decision.should_checkpoint
    assert decision.reasoning.startswith("Rule interruption_checkpoint")


def test_interruption_outranks_a_deadline_at_risk() -> None:
    pipeline = state(
        termination_notices=[notice("interruption")],
        deadline=T0 + timedelta(hours=2),
        expected_remaining_hours=5.0,
    )

    assert propose(pipeline).action is Action.CHECKPOINT


def test_deadline_at_risk_on_spot_moves_to_the_cheapest_on_demand_type() -> None:
    # 6 h to go, 5.9 h of work: 0.1 h of slack is under the 0.2 h safety margin (10 min restart, 2 cycles).
    pipeline = state(deadline=T0 + timedelta(hours=6), expected_remaining_hours=5.9)

    decision = propose(pipeline)

    assert decision.action is Action.MIGRATE
    assert decision.capacity_type is ON_DEMAND
    assert decision.instance_type == "c5a.xlarge"  # 0.154 USD/h, the cheapest allowed on-demand
    assert decision.instance_count == 4
    assert decision.should_checkpoint


def test_deadline_at_risk_from_guardrails_runtime_when_state_has_no_estimate() -> None:
    # 10 h run, 60% done: 4 h left, 4.1 h to the deadline, slack 0.1 h.
    limits = guardrails(deadline=T0 + timedelta(hours=4.1), expected_runtime_hours=10.0)

    decision = propose(state(pipeline_progress=0.6), limits)

    assert (decision.action, decision.capacity_type) == (Action.MIGRATE, ON_DEMAND)


def test_deadline_at_risk_without_on_demand_allowed_stays_on_spot() -> None:
    pipeline = state(deadline=T0 + timedelta(hours=6), expected_remaining_hours=5.9)

    decision = propose(pipeline, guardrails(allow_on_demand=False))

    assert decision.capacity_type is SPOT
    assert decision.action is Action.WAIT


def test_comfortably_ahead_on_on_demand_returns_to_the_best_spot_pool() -> None:
    # Slack 15 h is far above the 3 h return threshold.
    pipeline = state(
        active_instances=fleet(4, "c5a.xlarge", ON_DEMAND),
        deadline=T0 + timedelta(hours=20),
        expected_remaining_hours=5.0,
    )

    decision = propose(pipeline)

    assert decision.action is Action.MIGRATE
    assert decision.capacity_type is SPOT
    assert decision.instance_type == "c5a.xlarge"  # 0.065 USD/h, the best spot pool
    assert decision.instance_count == 4


def test_on_demand_without_a_deadline_returns_to_spot() -> None:
    decision = propose(state(active_instances=fleet(4, "c5a.xlarge", ON_DEMAND)))

    assert (decision.action, decision.capacity_type) == (Action.MIGRATE, SPOT)


def test_on_demand_returns_to_spot_even_in_a_pool_interrupted_lately() -> None:
    # The backtest's lesson: refusing reclaimed pools keeps fleets on on-demand through hours of spot.
    pipeline = state(
        active_instances=fleet(4, "c5a.xlarge", ON_DEMAND),
        spot_prices=[pool("c5.xlarge", 0.07, interruptions=3), pool("c5a.xlarge", 0.065, interruptions=2)],
        deadline=T0 + timedelta(hours=20),
        expected_remaining_hours=5.0,
    )

    assert (propose(pipeline).action, propose(pipeline).capacity_type) == (Action.MIGRATE, SPOT)


def test_on_demand_without_slack_for_a_restart_stays_on_demand() -> None:
    # 0.3 h of slack: a move to spot would cost the 10 min restart and leave less than the safety margin.
    pipeline = state(
        active_instances=fleet(4, "c5a.xlarge", ON_DEMAND),
        deadline=T0 + timedelta(hours=6),
        expected_remaining_hours=5.7,
    )

    assert (propose(pipeline).action, propose(pipeline).capacity_type) == (Action.WAIT, ON_DEMAND)


def test_without_spot_capacity_a_short_fleet_waits_while_the_slack_stays_above_the_reserve() -> None:
    # No spot pool offered; 5 h of work: the reserve is 1 h, plus a restart and the safety margin.
    no_spot = {"active_instances": [], "spot_prices": [], "expected_remaining_hours": 5.0}

    waiting = propose(state(deadline=T0 + timedelta(hours=7), **no_spot))  # 2 h of slack
    on_demand = propose(state(deadline=T0 + timedelta(hours=6.2), **no_spot))  # 1.2 h of slack

    assert (waiting.action, waiting.capacity_type) == (Action.SCALE_UP, SPOT)
    assert (on_demand.action, on_demand.capacity_type) == (Action.MIGRATE, ON_DEMAND)
    assert "reserve" in on_demand.reasoning


def test_slack_between_the_two_thresholds_keeps_either_capacity_type_no_flap() -> None:
    # 0.3 h of slack: above the 0.2 h safety margin, below the 0.37 h a return to spot needs.
    between = {"deadline": T0 + timedelta(hours=6), "expected_remaining_hours": 5.7}

    on_demand = propose(state(active_instances=fleet(4, "c5a.xlarge", ON_DEMAND), **between))
    on_spot = propose(state(**between))

    assert (on_demand.action, on_demand.capacity_type) == (Action.WAIT, ON_DEMAND)
    assert (on_spot.action, on_spot.capacity_type) == (Action.WAIT, SPOT)


def test_lost_capacity_scales_up_to_target_on_the_current_type() -> None:
    decision = propose(state(active_instances=fleet(2)))

    assert decision.action is Action.SCALE_UP
    assert (decision.instance_type, decision.capacity_type, decision.instance_count) == ("c5.xlarge", SPOT, 4)


def test_no_instances_at_all_scales_up_on_the_best_pool_without_checkpoint() -> None:
    decision = propose(state(active_instances=[]))

    assert decision.action is Action.SCALE_UP
    assert decision.instance_type == "c5a.xlarge"
    assert decision.instance_count == 4
    assert not decision.should_checkpoint


def test_scale_up_moves_at_most_one_scale_step_per_cycle() -> None:
    limits = guardrails(target_instances=8, max_scale_step_instances=3)

    decision = propose(state(active_instances=fleet(1)), limits)

    assert (decision.action, decision.instance_count) == (Action.SCALE_UP, 4)


def test_more_instances_than_target_scales_down_to_target_with_checkpoint() -> None:
    decision = propose(state(active_instances=fleet(6)))

    assert (decision.action, decision.instance_count) == (Action.SCALE_DOWN, 4)
    assert decision.should_checkpoint


def test_checkpoint_nearly_overdue_checkpoints() -> None:
    # 28 min is past 90% of the 30 min limit.
    decision = propose(state(minutes_since_checkpoint=28.0))

    assert decision.action is Action.CHECKPOINT
    assert decision.reasoning.startswith("Rule checkpoint_due")


def test_never_checkpointed_with_progress_checkpoints() -> None:
    assert propose(state(minutes_since_checkpoint=None, pipeline_progress=0.2)).action is Action.CHECKPOINT


def test_rebalance_recommendation_checkpoints() -> None:
    decision = propose(state(termination_notices=[notice("rebalance")]))

    assert decision.action is Action.CHECKPOINT
    assert "rebalance" in decision.reasoning


def test_cheaper_pool_with_fewer_interruptions_migrates_there() -> None:
    # 40% cheaper; over 10 h for 4 instances it saves 1.60 USD against a 0.20 USD restart.
    pipeline = state(
        spot_prices=[pool("c5.xlarge", 0.10, interruptions=2), pool("c5a.xlarge", 0.06, zone="us-east-1b")],
        expected_remaining_hours=10.0,
    )

    decision = propose(pipeline)

    assert (decision.action, decision.instance_type, decision.capacity_type) == (
        Action.MIGRATE,
        "c5a.xlarge",
        SPOT,
    )
    assert decision.should_checkpoint


def test_cheaper_pool_with_many_interruptions_is_not_worth_a_move() -> None:
    pipeline = state(
        spot_prices=[pool("c5.xlarge", 0.10), pool("c5a.xlarge", 0.06, interruptions=5)],
        expected_remaining_hours=10.0,
    )

    assert propose(pipeline).action is Action.WAIT


def test_cheaper_pool_with_too_little_work_left_to_repay_the_restart_is_not_worth_a_move() -> None:
    # Saves 0.04 USD/h x 0.2 h x 4 = 0.03 USD against a 0.20 USD restart.
    pipeline = state(
        spot_prices=[pool("c5.xlarge", 0.10), pool("c5a.xlarge", 0.06)], expected_remaining_hours=0.2
    )

    assert propose(pipeline).action is Action.WAIT


def test_steady_pipeline_waits_with_its_current_count() -> None:
    decision = propose(state())

    assert decision.action is Action.WAIT
    assert (decision.instance_type, decision.capacity_type, decision.instance_count) == ("c5.xlarge", SPOT, 4)
    assert not decision.should_checkpoint
    assert decision.reasoning.startswith("Rule nothing_to_do")


# --- the contract -------------------------------------------------------------------------------


def test_rules_planner_implements_the_planner_protocol() -> None:
    assert isinstance(RulesPlanner(), Planner)


def test_same_state_twice_gives_an_identical_result() -> None:
    pipeline = state(deadline=T0 + timedelta(hours=6), expected_remaining_hours=5.5)

    first = RulesPlanner().plan(pipeline, guardrails())
    second = RulesPlanner().plan(pipeline.model_copy(deep=True), guardrails())

    assert first.model_dump(mode="json") == second.model_dump(mode="json")
    assert first.planner == "rules"


def test_order_of_spot_prices_does_not_change_the_result() -> None:
    pools = [
        pool(t, p, i, z) for t in ALLOWED for p, i, z in ((0.07, 0, "a"), (0.07, 0, "b"), (0.05, 1, "c"))
    ]
    shuffled = pools[::-1]
    random.Random(7).shuffle(shuffled)

    first = RulesPlanner().plan(state(spot_prices=pools), guardrails())
    second = RulesPlanner().plan(state(spot_prices=shuffled), guardrails())

    assert first.model_dump(mode="json") == second.model_dump(mode="json")


def test_signals_are_json_serialisable_and_name_the_rule() -> None:
    pipeline = state(deadline=T0 + timedelta(hours=6), expected_remaining_hours=5.875)

    result = RulesPlanner().plan(pipeline, guardrails())
    decoded = json.loads(json.dumps(result.signals))

    assert decoded["rule"] == "deadline_to_on_demand"
    assert decoded["deadline_at_risk"] is True
    assert decoded["slack_hours"] == 0.125
    assert decoded["best_pool"]["instance_type"] == "c5a.xlarge"
    assert PlanResult.model_validate_json(result.model_dump_json()) == result


def test_signals_fall_back_to_an_on_demand_estimate_when_no_spot_price_is_known() -> None:
    signals = compute_signals(state(spot_prices=[]), guardrails())

    assert signals.best_pool.instance_type == "c5.xlarge"
    assert signals.best_pool.price_source == "estimate"
    assert signals.best_pool.price_per_hour == 0.17
    assert signals.pool_ranking == []


# --- property: the proposal is always within the guardrails --------------------------------------

TYPE_NAMES = ["c5.xlarge", "c5a.xlarge", "m5.xlarge", "p3.2xlarge", "x9.unknown"]
ZONES = ["us-east-1a", "us-east-1b", "us-east-1c"]
hours = st.floats(min_value=-48, max_value=480, allow_nan=False)


@st.composite
def random_guardrails(draw: st.DrawFn) -> Guardrails:
    allowed = draw(st.lists(st.sampled_from(TYPE_NAMES), min_size=1, max_size=4, unique=True))
    max_instances = draw(st.integers(1, 16))
    min_instances = draw(st.integers(0, max_instances))
    return Guardrails(
        allowed_instance_types=allowed,
        default_instance_type=draw(st.sampled_from(allowed)),
        min_instances=min_instances,
        max_instances=max_instances,
        target_instances=draw(st.none() | st.integers(min_instances, max_instances)),
        max_scale_step_instances=draw(st.integers(1, 6)),
        allow_on_demand=draw(st.booleans()),
        deadline=draw(st.none() | hours.map(lambda h: T0 + timedelta(hours=h))),
        expected_runtime_hours=draw(st.none() | st.floats(min_value=0.1, max_value=500)),
    )


@st.composite
def random_states(draw: st.DrawFn) -> PipelineState:
    # Mostly one type and lifecycle, as real fleets are, plus a few strays of any kind.
    main_type, main_lifecycle = draw(st.sampled_from(TYPE_NAMES)), draw(st.sampled_from(list(CapacityType)))
    kinds = [(main_type, main_lifecycle)] * draw(st.integers(0, 12)) + draw(
        st.lists(st.tuples(st.sampled_from(TYPE_NAMES), st.sampled_from(list(CapacityType))), max_size=4)
    )
    instances = [
        Instance(
            instance_id=f"i-{index:017x}",
            instance_type=instance_type,
            zone=draw(st.sampled_from(ZONES)),
            lifecycle=lifecycle,
            launch_time=T0,
        )
        for index, (instance_type, lifecycle) in enumerate(kinds, start=1)
    ]
    pools = [
        pool(draw(st.sampled_from(TYPE_NAMES)), price, draw(st.integers(0, 8)), draw(st.sampled_from(ZONES)))
        for price in draw(st.lists(st.floats(min_value=0, max_value=3), max_size=12))
    ]
    ids = [i.instance_id for i in instances] or ["i-00000000000000099"]
    kinds_of_notice = st.sampled_from(["interruption", "rebalance"])
    notices = draw(st.lists(st.builds(notice, kinds_of_notice, st.sampled_from(ids)), max_size=2))
    notices = notices if draw(st.booleans()) else []
    capacity = draw(
        st.none()
        | st.builds(
            GroupCapacity,
            group_name=st.just("costagent-nightly-etl"),
            desired_capacity=st.integers(0, 40),
            min_size=st.just(0),
            max_size=st.just(40),
            instance_type=st.none() | st.sampled_from(TYPE_NAMES),
            on_demand_base_capacity=st.integers(0, 3),
        )
    )
    return PipelineState(
        pipeline_id="random",
        time=T0,
        active_instances=instances,
        spot_prices=pools,
        termination_notices=notices,
        pipeline_progress=draw(st.floats(min_value=0, max_value=1)),
        minutes_since_checkpoint=draw(st.none() | st.floats(min_value=0, max_value=600)),
        deadline=draw(st.none() | hours.map(lambda h: T0 + timedelta(hours=h))),
        expected_remaining_hours=draw(st.none() | st.floats(min_value=0, max_value=500)),
        capacity=capacity,
    )


@settings(max_examples=200, deadline=None)
@given(pipeline=random_states(), limits=random_guardrails())
def test_any_state_gives_a_proposal_within_the_guardrails(
    pipeline: PipelineState, limits: Guardrails
) -> None:
    result = RulesPlanner().plan(pipeline, limits)
    decision = AgentDecision.model_validate(result.proposal)

    assert decision.instance_type in limits.allowed_instance_types
    assert decision.capacity_type is SPOT or limits.allow_on_demand
    count, current, step = decision.instance_count, pipeline.instance_count, limits.max_scale_step_instances
    assert count is not None
    if decision.action in (Action.WAIT, Action.CHECKPOINT):
        assert count == current  # holding actions never change the fleet
    else:  # one scale step toward the target, which lies within the bounds
        assert abs(count - current) <= step
        assert min(current, limits.target_count) <= count <= max(current, limits.target_count)
        in_bounds = limits.min_instances <= count <= limits.max_instances
        assert in_bounds or abs(count - current) == step
    assert decision.reasoning.startswith("Rule ")
    json.dumps(result.signals)
    assert RulesPlanner().plan(pipeline, limits) == result
