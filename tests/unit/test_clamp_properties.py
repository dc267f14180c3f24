"""clamp_decision over arbitrary proposals, fleets and guardrails: it never raises, every decision keeps
every guardrail, every change is explained by an event, and the result can be stored as JSON."""

from __future__ import annotations

import json
import math
import re
from datetime import datetime, timedelta, timezone
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from costagent import prices
from costagent.clamp import clamp_decision
from costagent.clamp_rules import RULE_UNREADABLE_PROPOSAL, RULE_VALIDATOR_ERROR
from costagent.guardrails import REASONING_MAX_CHARS, Guardrails
from costagent.models import (
    Action,
    AgentDecision,
    CapacityType,
    ClampResult,
    GroupCapacity,
    Instance,
    PipelineState,
    SpotPool,
    TerminationNotice,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
KNOWN_TYPES = ["c5.xlarge", "m5.xlarge", "r5.xlarge", "p3.2xlarge"]
DISALLOWED_TYPES = ["t2.micro", "x1e.32xlarge"]  # never in any generated allow list
DECISION_KEYS = [
    "action",
    "instance_type",
    "capacity_type",
    "instance_count",
    "should_checkpoint",
    "reasoning",
]
PROPERTY_SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)

# --- strategies ----------------------------------------------------------------------------------------

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**400), max_value=10**400)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
    | st.decimals(allow_nan=True, allow_infinity=True)  # numbers as DynamoDB hands them back
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
# Built from a repeated piece: drawing 2000 characters one by one would make the suite slow.
long_reasonings = st.builds(
    lambda piece, repeats: piece * repeats,
    st.sampled_from(["r", "ok\n", "\x00", "é\t"]),
    st.integers(REASONING_MAX_CHARS // 3, REASONING_MAX_CHARS + 50),
)
# Near-misses and valid values, so the strategies reach the rules behind the readers.
field_values: dict[str, st.SearchStrategy[Any]] = {
    "action": st.sampled_from(
        [a.value for a in Action] + ["scale_up", "Scale-Down", "migrate ", "LAUNCH", ""]
    ),
    "instance_type": st.sampled_from([*KNOWN_TYPES, *DISALLOWED_TYPES, "C5.XLARGE"]),
    "capacity_type": st.sampled_from(["spot", "on-demand", "on_demand", "ONDEMAND", "reserved", "Spot"]),
    "instance_count": st.integers(0, 12)  # near typical fleets, so the scale actions survive
    | st.integers(0, 80)
    | st.floats(-5, 80)
    | st.sampled_from(["7", "7.5", "-1", "nan", "1e3", math.nan, math.inf, 10**30]),
    "should_checkpoint": st.sampled_from([True, False, "true", "False", 0, 1, 2, "yes"]),
    "reasoning": st.text(max_size=50) | long_reasonings,
}
decision_dicts = st.fixed_dictionaries(
    {},
    optional={key: json_values | values for key, values in field_values.items()} | {"surprise": json_values},
)
agent_decisions = st.builds(
    AgentDecision,
    action=st.sampled_from(Action),
    instance_type=st.none() | st.sampled_from(KNOWN_TYPES + DISALLOWED_TYPES),
    capacity_type=st.sampled_from(CapacityType),
    instance_count=st.none() | st.integers(0, 100),
    should_checkpoint=st.booleans(),
    reasoning=st.text(max_size=30),
)
plausible_dicts = st.fixed_dictionaries(
    field_values
)  # every key, near-valid values: reaches the policy rules
proposals = plausible_dicts | plausible_dicts | decision_dicts | agent_decisions | json_values


# Strategies are built once here, not inside the composites: rebuilding them per example is slow.
instance_types = st.sampled_from(KNOWN_TYPES + DISALLOWED_TYPES)
prices_usd = st.floats(0, 10) | st.sampled_from([math.nan, math.inf, -1.0])  # config may hold nonsense
spot_pools = st.builds(
    SpotPool,
    instance_type=instance_types,
    zone=st.just("us-east-1a"),
    price_per_hour=st.floats(0, 10) | st.just(math.inf),
)
termination_notices = st.builds(
    TerminationNotice,
    kind=st.sampled_from(["interruption", "rebalance"]),
    instance_id=st.integers(0, 60).map(lambda n: f"i-{n:04d}"),
    time=st.just(NOW),
)
groups = st.builds(
    GroupCapacity,
    group_name=st.just("costagent-p"),
    desired_capacity=st.integers(0, 60),
    min_size=st.just(0),
    max_size=st.just(60),
    instance_type=st.none() | instance_types,
    on_demand_base_capacity=st.integers(0, 3),
)
# Small budgets and horizons too, so some proposals are just over budget and the reduction is exercised.
budgets_usd = (
    st.none() | st.floats(-10, 100) | st.floats(-10, 1e6) | st.sampled_from([math.nan, math.inf, 0.0])
)
remaining_hours = st.none() | st.floats(0, 48) | st.floats(0, 1000) | st.just(math.inf)


@st.composite
def guardrails_strategy(draw: st.DrawFn) -> Guardrails:
    allowed = draw(st.lists(st.sampled_from(KNOWN_TYPES), min_size=1, max_size=4, unique=True))
    max_instances = draw(st.integers(1, 60))
    return Guardrails(
        allowed_instance_types=allowed,
        default_instance_type=draw(st.sampled_from(allowed)),
        min_instances=draw(st.integers(0, max_instances)),
        max_instances=max_instances,
        max_scale_step_instances=draw(st.integers(1, 10)),
        checkpoint_overdue_minutes=draw(st.floats(1, 120)),
        allow_on_demand=draw(st.booleans()),
        on_demand_prices=draw(st.dictionaries(st.sampled_from(KNOWN_TYPES), prices_usd, max_size=2)),
    )


@st.composite
def states(draw: st.DrawFn) -> PipelineState:
    fleet_type = draw(instance_types)
    # Mostly one type, as real fleets are, with strays so current_instance_type has ties to break.
    member_types = st.sampled_from([fleet_type, fleet_type, fleet_type, *KNOWN_TYPES])
    fleet = draw(st.lists(st.tuples(member_types, st.sampled_from(CapacityType)), max_size=60))
    instances = [
        Instance(
            instance_id=f"i-{n:04d}",
            instance_type=instance_type,
            zone="us-east-1a",
            lifecycle=lifecycle,
            launch_time=NOW - timedelta(hours=1),
        )
        for n, (instance_type, lifecycle) in enumerate(fleet)
    ]
    return PipelineState(
        pipeline_id="p",
        time=NOW,
        active_instances=instances,
        spot_prices=draw(st.lists(spot_pools, max_size=4)),
        on_demand_prices=draw(st.dictionaries(instance_types, st.floats(0, 10), max_size=2)),
        termination_notices=draw(st.lists(termination_notices, max_size=3)),
        pipeline_progress=draw(st.floats(0, 1)),
        minutes_since_checkpoint=draw(st.none() | st.floats(0, 500)),
        budget_remaining=draw(budgets_usd),
        expected_remaining_hours=draw(remaining_hours),
        capacity=draw(st.none() | groups),
    )


# --- what every result must satisfy -------------------------------------------------------------------


def hourly_price_usd(
    instance_type: str, capacity: CapacityType, state: PipelineState, guard: Guardrails
) -> float:
    spot = [p.price_per_hour for p in state.spot_prices if p.instance_type == instance_type]
    if capacity is CapacityType.SPOT and spot:
        return min(spot)
    price = prices.on_demand_price(instance_type, {**state.on_demand_prices, **guard.on_demand_prices})
    return price if price >= 0 else prices.UNKNOWN_TYPE_USD_PER_HOUR


def assert_guardrails_hold(result: ClampResult, state: PipelineState, guard: Guardrails) -> None:
    decision, current = result.decision, state.instance_count
    has_instances = current > 0
    assert decision.instance_type in guard.allowed_instance_types
    assert guard.allow_on_demand or decision.capacity_type is CapacityType.SPOT
    assert abs(decision.instance_count - current) <= guard.max_scale_step_instances
    if decision.action in (Action.WAIT, Action.CHECKPOINT):
        assert decision.instance_count == current
    else:  # inside the bounds, or (a fleet outside them) no further out than now
        assert (
            min(guard.min_instances, current) <= decision.instance_count <= max(guard.max_instances, current)
        )
    if decision.action is Action.SCALE_UP:
        assert decision.instance_count > current
    if decision.action is Action.SCALE_DOWN:
        assert decision.instance_count < current
    if decision.action is Action.MIGRATE:
        assert decision.instance_count > 0
        # a MIGRATE always has somewhere to go: some instance runs outside the target pool
        target = (decision.instance_type, decision.capacity_type)
        pools = {(i.instance_type, i.lifecycle) for i in state.active_instances}
        if pools:
            assert pools != {target}
        else:
            assert target != (state.current_instance_type(), state.current_capacity_type())
    minutes = state.minutes_since_checkpoint
    overdue = (
        minutes > guard.checkpoint_overdue_minutes if minutes is not None else state.pipeline_progress > 0
    )
    if has_instances and (overdue or state.pending_interruptions()):
        assert decision.should_checkpoint and decision.action is not Action.WAIT
    if has_instances and decision.action in (Action.MIGRATE, Action.CHECKPOINT):
        assert decision.should_checkpoint
    if not has_instances:
        assert not decision.should_checkpoint and decision.action is not Action.CHECKPOINT
    budget, hours = state.budget_remaining, state.expected_remaining_hours
    if decision.action in (Action.SCALE_UP, Action.MIGRATE) and budget is not None and not math.isnan(budget):
        assert budget > 0
        if hours is not None:
            cost = (
                decision.instance_count
                * hourly_price_usd(decision.instance_type, decision.capacity_type, state, guard)
                * hours
            )
            assert math.isnan(cost) or cost <= budget * (1 + 1e-9) + 1e-9
    assert len(decision.reasoning) <= REASONING_MAX_CHARS
    assert not re.search("[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff]", decision.reasoning)


def assert_storable(result: ClampResult) -> None:
    text = json.dumps(result.model_dump(mode="json"), allow_nan=False)
    text.encode("utf-8")  # what DynamoDB and Step Functions receive
    for event in result.clamps:
        assert event.reason
        for value in (event.proposed, event.applied):
            assert not isinstance(value, str) or len(value) <= 200
            assert not isinstance(value, int) or abs(value) < 2**53


def assert_every_change_explained(proposal: object, result: ClampResult) -> None:
    fields = proposal.model_dump(mode="json") if isinstance(proposal, AgentDecision) else proposal
    if not isinstance(fields, dict):
        assert [event.rule for event in result.clamps[:1]] == [RULE_UNREADABLE_PROPOSAL]
        return
    changed_fields = {event.field for event in result.clamps}
    decision = result.decision.model_dump()
    for key in DECISION_KEYS:
        if fields.get(key) is not None and not kept(key, fields[key], decision[key]):
            assert key in changed_fields, f"{key}: {fields[key]!r} became {decision[key]!r} without an event"


def spelled(value: object) -> str | None:
    return re.sub(r"[\s_-]+", "", value).lower() if isinstance(value, str) else None


def kept(key: str, proposed: object, applied: object) -> bool:
    """Whether the decision says what the proposal said for `key` (spelling aside)."""
    if key in ("action", "capacity_type"):
        return spelled(proposed) == spelled(getattr(applied, "value", applied))
    if key == "instance_count":
        return type(proposed) in (int, float) and proposed == applied
    if key == "should_checkpoint":
        return proposed is applied
    return isinstance(proposed, str) and proposed == applied


# --- properties ----------------------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(proposal=proposals, state=states(), guard=guardrails_strategy())
def test_any_proposal_yields_a_guarded_explained_storable_decision(
    proposal: object, state: PipelineState, guard: Guardrails
) -> None:
    result = clamp_decision(proposal, state, guard)

    assert RULE_VALIDATOR_ERROR not in {event.rule for event in result.clamps}
    assert_guardrails_hold(result, state, guard)
    assert_every_change_explained(proposal, result)
    assert_storable(result)


@PROPERTY_SETTINGS
@given(proposal=proposals, state=states(), guard=guardrails_strategy())
def test_a_clamped_decision_passes_clamp_unchanged(
    proposal: object, state: PipelineState, guard: Guardrails
) -> None:
    decision = clamp_decision(proposal, state, guard).decision

    again = clamp_decision(decision.model_dump(mode="json"), state, guard)

    assert again.decision == decision
    assert again.clamps == []


@PROPERTY_SETTINGS
@given(
    current=st.integers(0, 10),
    proposed=st.integers(0, 20),
    price_usd=st.floats(0.01, 1),
    budget_usd=st.floats(0, 50),
    hours=st.floats(0.5, 24),
)
def test_scale_up_is_cut_to_the_largest_count_the_budget_pays_for(
    current: int, proposed: int, price_usd: float, budget_usd: float, hours: float
) -> None:
    pool = SpotPool(instance_type="c5.xlarge", zone="us-east-1a", price_per_hour=price_usd)
    fleet = [
        Instance(
            instance_id=f"i-{n}",
            instance_type="c5.xlarge",
            zone="us-east-1a",
            lifecycle="spot",
            launch_time=NOW,
        )
        for n in range(current)
    ]
    state = PipelineState(
        pipeline_id="p",
        time=NOW,
        active_instances=fleet,
        spot_prices=[pool],
        budget_remaining=budget_usd,
        expected_remaining_hours=hours,
        minutes_since_checkpoint=0,
    )
    guard = Guardrails(
        allowed_instance_types=["c5.xlarge"],
        default_instance_type="c5.xlarge",
        max_instances=50,
        max_scale_step_instances=50,
    )
    raw = {
        "action": "SCALE_UP",
        "instance_type": "c5.xlarge",
        "capacity_type": "spot",
        "instance_count": proposed,
    }

    decision = clamp_decision(raw, state, guard).decision

    affordable = math.floor(budget_usd / (price_usd * hours) + 1e-9)
    expected = min(proposed, affordable)
    if expected > current:
        assert (decision.action, decision.instance_count) == (Action.SCALE_UP, expected)
    else:
        assert (decision.action, decision.instance_count) == (Action.WAIT, current)
