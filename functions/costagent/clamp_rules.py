"""The policy rules clamp runs on a proposal once its fields are read, and the event helpers they share.

Each rule is a pure function from a draft decision to a (possibly) changed draft plus the events that
explain every change. `POLICY_RULES` lists them in the order they run: later rules see earlier changes,
so bounds come before the scale step, the step before contradictions, and the budget before the
checkpoint forcing that may turn a WAIT into a CHECKPOINT.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import Enum

from costagent import prices
from costagent.guardrails import Guardrails
from costagent.models import Action, CapacityType, ClampEvent, PipelineState

# Rule names, as stored in ClampEvent.rule; operators filter the audit table by them.
RULE_UNREADABLE_PROPOSAL = "unreadable_proposal"
RULE_INVALID_ACTION = "invalid_action"
RULE_UNKNOWN_INSTANCE_TYPE = "unknown_instance_type"
RULE_INVALID_CAPACITY_TYPE = "invalid_capacity_type"
RULE_ON_DEMAND_NOT_ALLOWED = "on_demand_not_allowed"
RULE_INVALID_COUNT = "invalid_count"
RULE_COUNT_BOUNDS = "count_bounds"
RULE_SCALE_STEP = "scale_step"
RULE_CONTRADICTORY_FIELDS = "contradictory_fields"
RULE_BUDGET = "budget"
RULE_CHECKPOINT_OVERDUE = "checkpoint_overdue"
RULE_INTERRUPTION_PENDING = "interruption_pending"
RULE_MIGRATE_NEEDS_CHECKPOINT = "migrate_needs_checkpoint"
RULE_CHECKPOINT_NEEDS_FLAG = "checkpoint_needs_flag"
RULE_NO_INSTANCES_TO_CHECKPOINT = "no_instances_to_checkpoint"
RULE_INVALID_SHOULD_CHECKPOINT = "invalid_should_checkpoint"
RULE_REASONING = "reasoning"
RULE_VALIDATOR_ERROR = "validator_error"

SCALING_ACTIONS = frozenset({Action.SCALE_UP, Action.SCALE_DOWN, Action.MIGRATE})  # change the fleet
HOLDING_ACTIONS = frozenset({Action.WAIT, Action.CHECKPOINT})  # never change the fleet's size or pool
BUDGETED_ACTIONS = frozenset({Action.SCALE_UP, Action.MIGRATE})  # the only ones that can add cost

EVENT_TEXT_MAX_CHARS = 200  # events ride in Step Functions payloads (256 KB) and DynamoDB items (400 KB)
JSON_SAFE_INT_BITS = 53  # larger JSON integers lose precision in JavaScript readers (console, SFN)
BUDGET_TOLERANCE_INSTANCES = 1e-9  # float noise must not make an exactly affordable count unaffordable
DIGITS_PER_BIT = math.log10(2)  # sizes a huge integer without printing it (str() fails past 4300 digits)
TIMES = "\u00d7"  # the multiplication sign of budget reasons, escaped because it looks like an x


@dataclass(frozen=True)
class Fleet:
    """What the pipeline runs now, as the rules need it; computed once per clamp."""

    count: int
    instance_type: str | None  # as gathered, even if no longer allowed; None before the first launch
    capacity_type: CapacityType
    fill_type: str  # what a decision that does not name a type gets: current if allowed, else default
    fill_capacity: CapacityType  # current, or spot when on-demand is no longer allowed
    checkpoint_overdue: bool
    interruption_pending: bool
    pools: frozenset[tuple[str, CapacityType]] = frozenset()  # (type, lifecycle) of every running instance

    @property
    def has_instances(self) -> bool:
        return self.count > 0

    @classmethod
    def of(cls, state: PipelineState, guardrails: Guardrails) -> Fleet:
        count = state.instance_count
        current_type = state.current_instance_type()
        current_capacity = state.current_capacity_type()
        type_allowed = current_type in guardrails.allowed_instance_types
        capacity_allowed = current_capacity is CapacityType.SPOT or guardrails.allow_on_demand
        minutes = state.minutes_since_checkpoint
        if minutes is None:  # never checkpointed: overdue as soon as there is progress to lose
            overdue = state.pipeline_progress > 0
        else:
            overdue = minutes > guardrails.checkpoint_overdue_minutes
        # A request still within its landing window is not repeated: workers are saving already.
        in_flight = state.action_checks is not None and state.action_checks.checkpoint == "pending"
        return cls(
            count=count,
            instance_type=current_type,
            capacity_type=current_capacity,
            fill_type=current_type if current_type and type_allowed else guardrails.default_instance_type,
            fill_capacity=current_capacity if capacity_allowed else CapacityType.SPOT,
            checkpoint_overdue=count > 0 and overdue and not in_flight,
            interruption_pending=count > 0 and bool(state.pending_interruptions()),
            pools=frozenset((i.instance_type, i.lifecycle) for i in state.active_instances),
        )


@dataclass(frozen=True)
class Draft:
    """A decision being clamped; becomes a ValidDecision once every rule has run."""

    action: Action
    instance_type: str
    capacity_type: CapacityType
    instance_count: int
    should_checkpoint: bool
    should_checkpoint_given: bool  # the proposal said true/false itself, so overriding it is news
    reasoning: str


RuleOutcome = tuple[Draft, list[ClampEvent]]
PolicyRule = Callable[[Draft, Fleet, PipelineState, Guardrails], RuleOutcome]


# --- JSON-safe values and readable text for events ------------------------------------------------


def clip(text: str, limit: int = EVENT_TEXT_MAX_CHARS) -> str:
    # Lone surrogates (legal in JSON text, illegal in UTF-8) would fail the DynamoDB write.
    safe = str.__str__(text).encode("utf-8", "backslashreplace").decode("utf-8")
    return safe if len(safe) <= limit else safe[: limit - 1] + "…"


def describe(value: object, limit: int = EVENT_TEXT_MAX_CHARS) -> str:
    """A short repr for reasons and events that no value can make fail."""
    if isinstance(value, Enum):
        return describe(value.value, limit)
    if isinstance(value, int) and not isinstance(value, bool):
        digits = int(value.bit_length() * DIGITS_PER_BIT) + 1
        if digits > limit:
            return f"<{'-' if value < 0 else ''}integer of about {digits} digits>"
    try:
        text = repr(value)
    except Exception:  # a hostile __repr__ or a structure nested too deep to print
        text = f"<unprintable {type(value).__name__}>"
    return clip(text, limit)


def jsonable(value: object) -> object:
    """`value` as something json.dumps(allow_nan=False), DynamoDB and Step Functions all accept."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, Enum):
        return jsonable(value.value)
    if isinstance(value, int):
        return int(value) if value.bit_length() <= JSON_SAFE_INT_BITS else describe(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else repr(float(value))
    if isinstance(value, str):
        return clip(value)
    # copy_abs, unlike abs(), ignores the decimal context, so 1e999999999 cannot overflow here.
    if isinstance(value, Decimal) and value.is_finite() and value.copy_abs() < 2**JSON_SAFE_INT_BITS:
        return float(value)
    return describe(value)


def clamp_event(rule: str, field: str, proposed: object, applied: object, reason: str) -> ClampEvent:
    return ClampEvent(
        rule=rule, field=field, proposed=jsonable(proposed), applied=jsonable(applied), reason=reason
    )


def usd(amount: float) -> str:
    return f"${amount:,.2f}" if math.isfinite(amount) else f"${amount}"


# --- shared moves ------------------------------------------------------------------------------------


def become_wait(draft: Draft, fleet: Fleet, rule: str, reason: str) -> RuleOutcome:
    """Turn any action into WAIT, which keeps the fleet exactly as it is."""
    events = [clamp_event(rule, "action", draft.action, Action.WAIT, reason)]
    if draft.instance_count != fleet.count:
        events.append(
            clamp_event(
                rule,
                "instance_count",
                draft.instance_count,
                fleet.count,
                f"WAIT keeps the fleet at its current {fleet.count} instances",
            )
        )
    return replace(draft, action=Action.WAIT, instance_count=fleet.count), events


def force_checkpoint(draft: Draft, rule: str, why: str) -> RuleOutcome:
    events: list[ClampEvent] = []
    if not draft.should_checkpoint:
        events.append(clamp_event(rule, "should_checkpoint", False, True, f"{why}; checkpointing"))
        draft = replace(draft, should_checkpoint=True)
    if draft.action is Action.WAIT:
        events.append(
            clamp_event(rule, "action", Action.WAIT, Action.CHECKPOINT, f"{why}; checkpointing, not waiting")
        )
        draft = replace(draft, action=Action.CHECKPOINT)
    return draft, events


# --- the policy rules, in the order they run ---------------------------------------------------------


def bound_count(draft: Draft, fleet: Fleet, state: PipelineState, guardrails: Guardrails) -> RuleOutcome:
    # A fleet already outside [min, max] (the limits changed, or instances were lost) may stay where it
    # is or move toward the limits, a step at a time, but never further out.
    if draft.action not in SCALING_ACTIONS:
        return draft, []
    count, low, high = draft.instance_count, guardrails.min_instances, guardrails.max_instances
    if count > max(high, fleet.count):
        bounded = max(high, fleet.count)
        limit = (
            f"max_instances {high}" if bounded == high else f"the current {bounded}, already above max {high}"
        )
        reason = f"instance_count {describe(count)} is above {limit}; clamped to {bounded}"
    elif count < min(low, fleet.count):
        bounded = min(low, fleet.count)
        limit = (
            f"min_instances {low}" if bounded == low else f"the current {bounded}, already below min {low}"
        )
        reason = f"instance_count {count} is below {limit}; raised to {bounded}"
    else:
        return draft, []
    event = clamp_event(RULE_COUNT_BOUNDS, "instance_count", count, bounded, reason)
    return replace(draft, instance_count=bounded), [event]


def limit_scale_step(draft: Draft, fleet: Fleet, state: PipelineState, guardrails: Guardrails) -> RuleOutcome:
    step = guardrails.max_scale_step_instances
    change = draft.instance_count - fleet.count
    if draft.action not in SCALING_ACTIONS or abs(change) <= step:
        return draft, []
    stepped = fleet.count + (step if change > 0 else -step)
    reason = (
        f"moving from {fleet.count} to {draft.instance_count} instances is a step of {abs(change)}, above "
        f"max_scale_step_instances {step}; moving to {stepped} this cycle"
    )
    event = clamp_event(RULE_SCALE_STEP, "instance_count", draft.instance_count, stepped, reason)
    return replace(draft, instance_count=stepped), [event]


def resolve_contradictions(
    draft: Draft, fleet: Fleet, state: PipelineState, guardrails: Guardrails
) -> RuleOutcome:
    action, count = draft.action, draft.instance_count
    rule = RULE_CONTRADICTORY_FIELDS
    if action is Action.SCALE_UP and count <= fleet.count:
        return become_wait(
            draft, fleet, rule, f"SCALE_UP to {count} does not add to the current {fleet.count}"
        )
    if action is Action.SCALE_DOWN and count >= fleet.count:
        return become_wait(
            draft, fleet, rule, f"SCALE_DOWN to {count} does not remove from the current {fleet.count}"
        )
    if action is Action.MIGRATE and count == 0:
        return become_wait(draft, fleet, rule, "MIGRATE to 0 instances would stop the pipeline, not move it")
    pool = (draft.instance_type, draft.capacity_type)
    # Contradictory only when every instance already runs there: a migration part-way through still has
    # instances to move, and repeating the MIGRATE is how the next batch is replaced.
    already_there = (
        fleet.pools <= {pool} if fleet.pools else pool == (fleet.instance_type, fleet.capacity_type)
    )
    if action is Action.MIGRATE and already_there:
        where = f"{draft.instance_type} {draft.capacity_type.value}"
        return become_wait(draft, fleet, rule, f"MIGRATE to {where} is where the pipeline already runs")
    if action in HOLDING_ACTIONS and count != fleet.count:
        reason = f"{action.value} never changes the fleet; instance_count reset to the current {fleet.count}"
        event = clamp_event(rule, "instance_count", count, fleet.count, reason)
        return replace(draft, instance_count=fleet.count), [event]
    return draft, []


def hourly_price_usd(
    instance_type: str, capacity_type: CapacityType, state: PipelineState, guardrails: Guardrails
) -> tuple[float, str]:
    """The target pool's price per instance-hour and what it is based on, for the reason.

    A spot pool with no quote is priced at on-demand, which bounds it from above; a nonsense price
    (NaN, negative) is replaced by the dear price of an unknown type, so the check errs on the safe side.
    """
    spot = [p.price_per_hour for p in state.spot_prices if p.instance_type == instance_type]
    if capacity_type is CapacityType.SPOT and spot:
        price, basis = min(spot), "spot"
    else:
        overrides = {**state.on_demand_prices, **guardrails.on_demand_prices}
        price = prices.on_demand_price(instance_type, overrides)
        basis = "on-demand" if capacity_type is CapacityType.ON_DEMAND else "spot (no quote; on-demand price)"
    return (price if price >= 0 else prices.UNKNOWN_TYPE_USD_PER_HOUR), basis


def affordable_count(budget_usd: float, instance_cost_usd: float) -> int | None:
    """The most instances the budget pays for; None when the budget bounds nothing."""
    # Zero cost (a free pool, no hours left; NaN only from 0 h at an infinite price) needs no limit.
    if math.isnan(instance_cost_usd) or instance_cost_usd <= 0:
        return None
    ratio = budget_usd / instance_cost_usd
    if math.isnan(ratio) or ratio == math.inf:
        return None
    return max(0, math.floor(ratio + BUDGET_TOLERANCE_INSTANCES))


def enforce_budget(draft: Draft, fleet: Fleet, state: PipelineState, guardrails: Guardrails) -> RuleOutcome:
    budget, hours = state.budget_remaining, state.expected_remaining_hours
    if draft.action not in BUDGETED_ACTIONS or budget is None or math.isnan(budget):
        return draft, []
    action = draft.action.value
    if budget <= 0:
        reason = f"the budget remaining is {usd(budget)}; {action} waits"
        return become_wait(draft, fleet, RULE_BUDGET, reason)
    if hours is None:
        return draft, []
    price, basis = hourly_price_usd(draft.instance_type, draft.capacity_type, state, guardrails)
    affordable = affordable_count(budget, price * hours)
    if affordable is None or draft.instance_count <= affordable:
        return draft, []
    figures = (
        f"{draft.instance_count} {TIMES} {draft.instance_type} {basis} at ${price:.4f}/h "
        f"for {hours:.1f} h = {usd(draft.instance_count * price * hours)} exceeds the {usd(budget)} "
        "budget remaining"
    )
    if draft.action is Action.MIGRATE or affordable <= fleet.count:
        return become_wait(draft, fleet, RULE_BUDGET, f"{figures}; {action} waits")
    event = clamp_event(
        RULE_BUDGET, "instance_count", draft.instance_count, affordable, f"{figures}; reduced to {affordable}"
    )
    return replace(draft, instance_count=affordable), [event]


def force_overdue_checkpoint(
    draft: Draft, fleet: Fleet, state: PipelineState, guardrails: Guardrails
) -> RuleOutcome:
    if not fleet.checkpoint_overdue:
        return draft, []
    minutes = state.minutes_since_checkpoint
    if minutes is None:
        why = f"the pipeline is {state.pipeline_progress:.0%} done and has never checkpointed"
    else:
        limit = guardrails.checkpoint_overdue_minutes
        why = f"the last checkpoint was {minutes:.0f} minutes ago, over the {limit:g} allowed"
    return force_checkpoint(draft, RULE_CHECKPOINT_OVERDUE, why)


def force_checkpoint_on_interruption(
    draft: Draft, fleet: Fleet, state: PipelineState, guardrails: Guardrails
) -> RuleOutcome:
    if not fleet.interruption_pending:
        return draft, []
    notices = state.pending_interruptions()
    first = describe(notices[0].instance_id, EVENT_TEXT_MAX_CHARS // 4)
    why = f"{len(notices)} spot interruption notice(s) pending (first: {first})"
    return force_checkpoint(draft, RULE_INTERRUPTION_PENDING, why)


def settle_checkpoint_flag(
    draft: Draft, fleet: Fleet, state: PipelineState, guardrails: Guardrails
) -> RuleOutcome:
    events: list[ClampEvent] = []
    if not fleet.has_instances:
        rule = RULE_NO_INSTANCES_TO_CHECKPOINT
        if draft.should_checkpoint:
            reason = "there are no active instances to checkpoint"
            events.append(clamp_event(rule, "should_checkpoint", True, False, reason))
            draft = replace(draft, should_checkpoint=False)
        if draft.action is Action.CHECKPOINT:
            draft, waited = become_wait(draft, fleet, rule, "there are no active instances to checkpoint")
            events += waited
        return draft, events
    if draft.action in (Action.MIGRATE, Action.CHECKPOINT) and not draft.should_checkpoint:
        rule = RULE_MIGRATE_NEEDS_CHECKPOINT if draft.action is Action.MIGRATE else RULE_CHECKPOINT_NEEDS_FLAG
        if draft.should_checkpoint_given:  # said false outright; a missing flag is just filled in
            reason = f"{draft.action.value} always checkpoints first so no work is lost"
            events.append(clamp_event(rule, "should_checkpoint", False, True, reason))
        draft = replace(draft, should_checkpoint=True)
    return draft, events


POLICY_RULES: tuple[PolicyRule, ...] = (
    bound_count,
    limit_scale_step,
    resolve_contradictions,
    enforce_budget,
    force_overdue_checkpoint,
    force_checkpoint_on_interruption,
    settle_checkpoint_flag,
)
