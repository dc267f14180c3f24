"""The deterministic rules planner: the baseline, the fallback, and the backtest's reference policy.

Pure: no clock, no environment, no I/O. `compute_signals` derives every figure the rules read (a later
prompt shows the same figures to Claude as advisory context); `decide` applies the rules in priority
order and the first that fires wins. Proposals are shaped as the clamp reads them, so it rarely has to
change one: always an allowed type; WAIT and CHECKPOINT keep the current count; scaling and migrating
move one scale step toward the target, which the guardrails keep within min and max instances.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from typing import Literal

from pydantic import BaseModel, ConfigDict

from costagent.guardrails import Guardrails
from costagent.models import (
    Action,
    AgentDecision,
    CapacityType,
    MigrationStatus,
    PipelineState,
    PlanResult,
    SpotPool,
)
from costagent.prices import on_demand_price

# Deadlines: slack is the time to the deadline minus the work left. Each launch costs the pipeline's restart
# overhead, and a decision can land a cycle late, so a fleet keeps a safety margin of one restart plus
# SAFETY_CYCLES cycles: with less, it moves to on-demand, which no one takes away. A fleet short of capacity
# with no spot pool to launch in waits for spot only while the slack stays above a reserve; below it, it
# runs on-demand and goes back to spot as soon as a pool has capacity and one restart fits in the slack.
# Backtested on real traces (docs/benchmarks.md): waiting down to a reserve of about a tenth of the work
# left, then on-demand until spot returns, beats Uniform Progress on every variant.
DEADLINE_RESERVE_MIN_HOURS = 1.0  # under an hour, one long outage uses all the slack before spot returns
DEADLINE_RESERVE_FRACTION_OF_REMAINING = 0.10  # long runs meet more outages: keep a tenth of the work left
SAFETY_CYCLES = 2  # a decision takes effect within two cycles
# A fleet short of capacity waits (while the slack stays above the reserve) for a pool this much cheaper
# than the best one it could launch in now, once that pool has capacity again: on the multi-zone traces
# launching in a dear zone and being reclaimed there cost more than waiting for the cheap one.
WAIT_FOR_CHEAPER_POOL_MIN_SAVING_FRACTION = 0.15
CHECKPOINT_EARLY_FRACTION = 0.9  # checkpoint just before overdue, so a late cycle does not make it overdue
MIGRATE_SAVINGS_MIN_FRACTION = 0.25  # a migration restarts every worker; smaller differences are price noise
MIGRATION_COST_INSTANCE_HOURS = 0.5  # checkpoint, boot, restore and warm-up idle a worker about 30 min
INTERRUPTION_PENALTY_PER_EVENT = 0.2  # each recent warning makes a pool 20% dearer: lost work, restarts
POOL_RANKING_MAX_ENTRIES = 8  # signals list the top pools only, so prompts and audit items stay small
SECONDS_PER_HOUR = 3600.0

PriceSource = Literal["spot", "on-demand", "estimate"]  # estimate: on-demand price standing in for spot


class Rule(str, Enum):
    """The rules in priority order; the name of the one that fired is in the reasoning and the signals."""

    INTERRUPTION_CHECKPOINT = "interruption_checkpoint"
    DEADLINE_TO_ON_DEMAND = "deadline_to_on_demand"
    ROLLBACK_MIGRATION = "rollback_migration"
    CONTINUE_MIGRATION = "continue_migration"
    RETURN_TO_SPOT = "return_to_spot"
    WAIT_FOR_CHEAPER_POOL = "wait_for_cheaper_pool"
    REPLACE_LOST_CAPACITY = "replace_lost_capacity"
    TRIM_EXCESS = "trim_excess"
    CHECKPOINT_DUE = "checkpoint_due"
    CHEAPER_POOL = "cheaper_pool"
    NOTHING_TO_DO = "nothing_to_do"


class PoolSignal(BaseModel):
    """One place the pipeline could run: a type, a zone when known, its price and how risky it is."""

    model_config = ConfigDict(frozen=True)

    instance_type: str
    zone: str | None = None
    capacity_type: CapacityType = CapacityType.SPOT
    price_per_hour: float
    recent_interruptions: int = 0
    score: float  # price weighted by recent interruptions; lower is better
    price_source: PriceSource


class Signals(BaseModel):
    """Everything the rules read, computed once per state; JSON-safe through `model_dump(mode="json")`."""

    model_config = ConfigDict(frozen=True)

    time: datetime
    current_count: int
    target_count: int
    lost_capacity: int  # instances short of the target
    excess_count: int  # instances above the target
    current_capacity_type: CapacityType
    current_pool: PoolSignal | None  # None when nothing runs and the group names no type
    best_pool: PoolSignal  # top of the ranking, or an on-demand estimate when no spot price is known
    cheapest_spot_pool: PoolSignal | None
    cheapest_on_demand: PoolSignal
    pool_ranking: list[PoolSignal]  # allowed spot pools, best first, at most POOL_RANKING_MAX_ENTRIES
    spot_return_pool: PoolSignal | None  # the pool to leave on-demand for: the best ranked one
    migration_candidate: PoolSignal | None  # best cheaper pool of another type, no riskier than the current
    migration_savings_fraction: float | None
    migration_savings_usd: float | None  # over the expected remaining hours, for the current fleet
    migration_cost_usd: float | None  # idle time of the restart, for the current fleet
    deadline: datetime | None
    hours_to_deadline: float | None
    expected_remaining_hours: float | None
    deadline_margin_hours: float  # the slack reserve: below it, capacity without spot runs on-demand
    safety_margin_hours: float  # one restart plus SAFETY_CYCLES cycles
    return_to_spot_slack_hours: float  # slack that pays one restart to spot and keeps the safety margin
    slack_hours: float | None
    deadline_at_risk: bool  # the slack no longer covers what the fleet must still do: on-demand now
    spot_capacity_offered: bool  # some allowed spot pool is quoted this cycle and not known to lack capacity
    cheaper_pool_without_capacity: PoolSignal | None = None  # worth waiting for while the slack allows
    minutes_since_checkpoint: float | None
    checkpoint_due_after_minutes: float
    checkpoint_due: bool
    interruption_pending: bool
    interrupted_instance_ids: list[str]
    rebalance_pending: bool
    rebalance_instance_ids: list[str]
    migration: MigrationStatus | None = None  # instances still outside the pool the group now launches
    capacity_check: str | None = None  # reached | pending | not_reached: did the last capacity change land
    checkpoint_check: str | None = None  # landed | pending | failed: did the last checkpoint request land


# --- signals ------------------------------------------------------------------------------------


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _score(price_per_hour: float, recent_interruptions: int) -> float:
    return price_per_hour * (1.0 + INTERRUPTION_PENALTY_PER_EVENT * recent_interruptions)


def _rank_key(pool: SpotPool) -> tuple[float, float, str, str, int]:
    score = _score(pool.price_per_hour, pool.recent_interruptions)
    return (score, pool.price_per_hour, pool.instance_type, pool.zone, pool.recent_interruptions)


def _price_key(pool: SpotPool) -> tuple[float, str, str, int]:
    return (pool.price_per_hour, pool.instance_type, pool.zone, pool.recent_interruptions)


def _spot_signal(pool: SpotPool) -> PoolSignal:
    return PoolSignal(
        instance_type=pool.instance_type,
        zone=pool.zone,
        price_per_hour=pool.price_per_hour,
        recent_interruptions=pool.recent_interruptions,
        score=_score(pool.price_per_hour, pool.recent_interruptions),
        price_source="spot",
    )


def _on_demand_signal(instance_type: str, price: float, zone: str | None, source: PriceSource) -> PoolSignal:
    capacity = CapacityType.ON_DEMAND if source == "on-demand" else CapacityType.SPOT
    return PoolSignal(
        instance_type=instance_type,
        zone=zone,
        capacity_type=capacity,
        price_per_hour=price,
        score=price,
        price_source=source,
    )


def _majority_zone(state: PipelineState, instance_type: str) -> str | None:
    counts: dict[str, int] = {}
    for instance in state.active_instances:
        if instance.instance_type == instance_type:
            counts[instance.zone] = counts.get(instance.zone, 0) + 1
    return max(sorted(counts), key=lambda zone: counts[zone]) if counts else None


def _current_pool(
    state: PipelineState, quotes: list[SpotPool], capacity: CapacityType, prices: dict[str, float]
) -> PoolSignal | None:
    instance_type = state.current_instance_type()
    if instance_type is None:
        return None
    zone = _majority_zone(state, instance_type)
    if capacity is CapacityType.ON_DEMAND:
        return _on_demand_signal(instance_type, on_demand_price(instance_type, prices), zone, "on-demand")
    # The fleet's own pool if quoted; else the type's cheapest quote, which under- rather than overstates
    # what the fleet pays, so it never invents savings.
    same_type = sorted((q for q in quotes if q.instance_type == instance_type), key=_price_key)
    own = [q for q in same_type if q.zone == zone] or same_type
    if own:
        return _spot_signal(own[0])
    return _on_demand_signal(instance_type, on_demand_price(instance_type, prices), zone, "estimate")


def _expected_remaining_hours(state: PipelineState, guardrails: Guardrails) -> float | None:
    if state.expected_remaining_hours is not None:
        return state.expected_remaining_hours
    if guardrails.expected_runtime_hours is not None:
        return guardrails.expected_runtime_hours * (1.0 - state.pipeline_progress)
    return None


def _deadline(state: PipelineState, guardrails: Guardrails) -> datetime | None:
    """The earlier of the pipeline's and the guardrails' deadlines: the stricter one binds."""
    deadlines = [_utc(d) for d in (state.deadline, guardrails.deadline) if d is not None]
    return min(deadlines) if deadlines else None


def compute_signals(state: PipelineState, guardrails: Guardrails) -> Signals:
    """Derive the figures the rules read. Pure; time is `state.time`."""
    allowed = set(guardrails.allowed_instance_types)
    # Guardrail prices override gathered ones, which override the built-in reference table.
    prices = {**state.on_demand_prices, **guardrails.on_demand_prices}
    quotes = [q for q in state.spot_prices if q.price_per_hour > 0]  # a zero price is a missing quote
    allowed_quotes = [q for q in quotes if q.instance_type in allowed]
    ranked = sorted((q for q in allowed_quotes if q.capacity is not False), key=_rank_key)

    current_count = state.instance_count
    target_count = guardrails.target_count
    capacity = state.current_capacity_type()
    current_pool = _current_pool(state, quotes, capacity, prices)

    if ranked:
        best_pool = _spot_signal(ranked[0])
    else:
        current_type = state.current_instance_type()
        fallback = current_type if current_type in allowed else guardrails.default_instance_type
        best_pool = _on_demand_signal(fallback, on_demand_price(fallback, prices), None, "estimate")
    cheapest_spot = min(ranked, key=_price_key, default=None)
    cheapest_od_type = min(sorted(allowed), key=lambda name: on_demand_price(name, prices))
    cheapest_on_demand = _on_demand_signal(
        cheapest_od_type, on_demand_price(cheapest_od_type, prices), None, "on-demand"
    )
    # Back to spot in the best ranked pool, however often it was reclaimed lately: the ranking already
    # weighs interruptions, and on the backtest's traces refusing reclaimed pools kept fleets on
    # on-demand for hours of available spot (mean cost +14% on one variant, docs/benchmarks.md).
    spot_return = ranked[0] if ranked else None

    remaining = _expected_remaining_hours(state, guardrails)
    deadline = _deadline(state, guardrails)
    hours_to_deadline = (
        (deadline - _utc(state.time)).total_seconds() / SECONDS_PER_HOUR if deadline is not None else None
    )
    margin = max(DEADLINE_RESERVE_MIN_HOURS, DEADLINE_RESERVE_FRACTION_OF_REMAINING * (remaining or 0.0))
    restart_hours = guardrails.restart_overhead_minutes / 60.0
    safety = restart_hours + SAFETY_CYCLES * guardrails.cycle_minutes / 60.0
    slack = hours_to_deadline - remaining if hours_to_deadline is not None and remaining is not None else None
    short = max(0, target_count - current_count) > 0
    # What the fleet must still pay for out of its slack: a running fleet only the safety margin; a fleet
    # short of capacity a launch too, and, with no spot pool to launch in, the reserve it keeps for waiting.
    cheapest_known = min(allowed_quotes, key=_price_key, default=None)
    worth_waiting_for = (
        cheapest_known
        if cheapest_known is not None
        and cheapest_known.capacity is False
        and ranked
        and cheapest_known.price_per_hour
        < (1 - WAIT_FOR_CHEAPER_POOL_MIN_SAVING_FRACTION) * ranked[0].price_per_hour
        else None
    )
    waiting = not ranked or worth_waiting_for is not None  # a short fleet that would rather wait for spot
    needed = safety + (restart_hours + (margin if waiting else 0.0) if short else 0.0)
    # With no work left nothing is at risk, however late it is.
    at_risk = slack is not None and remaining is not None and remaining > 0 and slack < needed

    candidate: SpotPool | None = None
    savings_fraction: float | None = None
    savings_usd: float | None = None
    cost_usd: float | None = None
    if current_pool is not None and current_pool.price_source == "spot":
        candidate = next(
            (
                q
                for q in ranked
                if q.instance_type != current_pool.instance_type
                and q.price_per_hour < current_pool.price_per_hour
                and q.recent_interruptions <= current_pool.recent_interruptions
            ),
            None,
        )
    if candidate is not None and current_pool is not None:
        saving_per_hour = current_pool.price_per_hour - candidate.price_per_hour
        savings_fraction = saving_per_hour / current_pool.price_per_hour
        cost_usd = MIGRATION_COST_INSTANCE_HOURS * current_pool.price_per_hour * current_count
        if remaining is not None:
            savings_usd = saving_per_hour * remaining * current_count

    minutes = state.minutes_since_checkpoint
    due_after = CHECKPOINT_EARLY_FRACTION * guardrails.checkpoint_overdue_minutes
    checkpoint_due = minutes >= due_after if minutes is not None else state.pipeline_progress > 0
    interrupted = sorted({n.instance_id for n in state.pending_interruptions()})
    rebalancing = sorted({n.instance_id for n in state.termination_notices if n.kind == "rebalance"})

    return Signals(
        time=_utc(state.time),
        current_count=current_count,
        target_count=target_count,
        lost_capacity=max(0, target_count - current_count),
        excess_count=max(0, current_count - target_count),
        current_capacity_type=capacity,
        current_pool=current_pool,
        best_pool=best_pool,
        cheapest_spot_pool=_spot_signal(cheapest_spot) if cheapest_spot is not None else None,
        cheapest_on_demand=cheapest_on_demand,
        pool_ranking=[_spot_signal(q) for q in ranked[:POOL_RANKING_MAX_ENTRIES]],
        spot_return_pool=_spot_signal(spot_return) if spot_return is not None else None,
        migration_candidate=_spot_signal(candidate) if candidate is not None else None,
        migration_savings_fraction=savings_fraction,
        migration_savings_usd=savings_usd,
        migration_cost_usd=cost_usd,
        deadline=deadline,
        hours_to_deadline=hours_to_deadline,
        expected_remaining_hours=remaining,
        deadline_margin_hours=margin,
        safety_margin_hours=safety,
        return_to_spot_slack_hours=restart_hours + safety,
        slack_hours=slack,
        deadline_at_risk=at_risk,
        spot_capacity_offered=bool(ranked),
        cheaper_pool_without_capacity=_spot_signal(worth_waiting_for) if worth_waiting_for else None,
        minutes_since_checkpoint=minutes,
        checkpoint_due_after_minutes=due_after,
        checkpoint_due=checkpoint_due,
        interruption_pending=bool(interrupted),
        interrupted_instance_ids=interrupted,
        rebalance_pending=bool(rebalancing),
        rebalance_instance_ids=rebalancing,
        migration=state.migration,
        capacity_check=state.action_checks.capacity if state.action_checks else None,
        checkpoint_check=state.action_checks.checkpoint if state.action_checks else None,
    )


# --- rules --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Context:
    """The signals plus what every rule needs: where the fleet stays if it does not move."""

    signals: Signals
    guardrails: Guardrails
    kept_type: str  # the current type if allowed, else the best pool's
    kept_capacity: CapacityType  # the current capacity type, spot if on-demand is not allowed
    next_count: int  # one scale step from the current count toward the target, as the clamp allows


def _next_count(current: int, target: int, guardrails: Guardrails) -> int:
    """Toward the target (which the guardrails keep within the bounds) by at most one scale step."""
    step = guardrails.max_scale_step_instances
    return current + max(-step, min(step, target - current))


def _count_text(c: _Context) -> str:
    s = c.signals
    if c.next_count == s.target_count:
        return f"{c.next_count} instance(s)"
    return (
        f"{c.next_count} instance(s) this cycle (target {s.target_count}, "
        f"at most {c.guardrails.max_scale_step_instances} per cycle)"
    )


def _where(pool: PoolSignal) -> str:
    return f"{pool.instance_type}/{pool.zone}" if pool.zone else pool.instance_type


def _ids(instance_ids: list[str]) -> str:
    more = len(instance_ids) - 3
    return ", ".join(instance_ids[:3]) + (f" and {more} more" if more > 0 else "")


def _stay(c: _Context, action: Action, reasoning: str) -> AgentDecision:
    """A decision that leaves type, capacity and count as they are: checkpoint or wait."""
    return AgentDecision(
        action=action,
        instance_type=c.kept_type,
        capacity_type=c.kept_capacity,
        instance_count=c.signals.current_count,  # holding actions never change the fleet
        should_checkpoint=action is Action.CHECKPOINT,
        reasoning=reasoning,
    )


def _interruption_checkpoint(c: _Context) -> AgentDecision | None:
    s = c.signals
    if not (s.interruption_pending and s.current_count > 0):
        return None
    return _stay(
        c,
        Action.CHECKPOINT,
        f"interruption notice for {_ids(s.interrupted_instance_ids)} with {s.current_count} instance(s) "
        "running; checkpointing now so the work survives the reclaim.",
    )


def _deadline_to_on_demand(c: _Context) -> AgentDecision | None:
    s, od = c.signals, c.signals.cheapest_on_demand
    on_spot = s.current_capacity_type is CapacityType.SPOT
    if not (s.deadline_at_risk and on_spot and c.guardrails.allow_on_demand and s.target_count > 0):
        return None
    return AgentDecision(
        action=Action.MIGRATE,
        instance_type=od.instance_type,
        capacity_type=CapacityType.ON_DEMAND,
        instance_count=c.next_count,
        should_checkpoint=s.current_count > 0,
        reasoning=f"{s.hours_to_deadline:.1f} h to the deadline with {s.expected_remaining_hours:.1f} h of "
        f"work left leaves {s.slack_hours:.1f} h of slack, {_risk_text(s)}; moving {_count_text(c)} to "
        f"on-demand {od.instance_type} at ${od.price_per_hour:.3f}/h.",
    )


def _risk_text(s: Signals) -> str:
    if s.lost_capacity == 0:
        return f"under the {s.safety_margin_hours:.2f} h safety margin (one restart and two cycles)"
    if s.spot_capacity_offered:
        return f"too little to launch on spot and keep the {s.safety_margin_hours:.2f} h safety margin"
    return (
        f"{s.lost_capacity} instance(s) short with no spot pool offering capacity, and waiting longer "
        f"would go below the {s.deadline_margin_hours:.1f} h reserve"
    )


def _return_to_spot(c: _Context) -> AgentDecision | None:
    s, spot, current = c.signals, c.signals.spot_return_pool, c.signals.current_pool
    if s.current_capacity_type is not CapacityType.ON_DEMAND or spot is None or s.target_count == 0:
        return None
    # Leaving on-demand costs a restart; it must leave the safety margin intact.
    comfortable = s.deadline is None or (
        s.slack_hours is not None and s.slack_hours > s.return_to_spot_slack_hours
    )
    if not comfortable or (current is not None and spot.price_per_hour >= current.price_per_hour):
        return None
    why = (
        "no deadline to protect"
        if s.slack_hours is None
        else f"{s.slack_hours:.1f} h of slack is above the "
        f"{s.return_to_spot_slack_hours:.1f} h return threshold"
    )
    return AgentDecision(
        action=Action.MIGRATE,
        instance_type=spot.instance_type,
        capacity_type=CapacityType.SPOT,
        instance_count=c.next_count,
        should_checkpoint=s.current_count > 0,
        reasoning=f"{why} and spot pool "
        f"{_where(spot)} at ${spot.price_per_hour:.3f}/h with {spot.recent_interruptions} recent "
        f"interruption(s); moving {_count_text(c)} back to spot.",
    )


def _wait_for_cheaper_pool(c: _Context) -> AgentDecision | None:
    s, cheap = c.signals, c.signals.cheaper_pool_without_capacity
    if s.lost_capacity == 0 or cheap is None or s.deadline_at_risk:
        return None
    return _stay(
        c,
        Action.WAIT,
        f"{s.current_count} of {s.target_count} instance(s) running; {_where(cheap)} at "
        f"${cheap.price_per_hour:.3f}/h has no spot capacity now but is more than "
        f"{WAIT_FOR_CHEAPER_POOL_MIN_SAVING_FRACTION:.0%} cheaper than {_where(s.best_pool)} at "
        f"${s.best_pool.price_per_hour:.3f}/h; waiting for it while the slack stays above the reserve.",
    )


def _replace_lost_capacity(c: _Context) -> AgentDecision | None:
    s = c.signals
    if s.lost_capacity == 0:
        return None
    return AgentDecision(
        action=Action.SCALE_UP,
        instance_type=c.kept_type,
        capacity_type=c.kept_capacity,
        instance_count=c.next_count,
        should_checkpoint=s.checkpoint_due and s.current_count > 0,
        reasoning=f"{s.current_count} of {s.target_count} target instance(s) running; scaling up to "
        f"{_count_text(c)} on {c.kept_capacity.value} {c.kept_type}.",
    )


def _trim_excess(c: _Context) -> AgentDecision | None:
    s, g = c.signals, c.guardrails
    if s.excess_count == 0:  # the target never exceeds max_instances, so this also trims above the max
        return None
    return AgentDecision(
        action=Action.SCALE_DOWN,
        instance_type=c.kept_type,
        capacity_type=c.kept_capacity,
        instance_count=c.next_count,
        should_checkpoint=True,  # the instances that go take their unsaved work with them
        reasoning=f"{s.current_count} instance(s) running, target {s.target_count} (max {g.max_instances}); "
        f"checkpointing and scaling down to {_count_text(c)}.",
    )


def _checkpoint_due(c: _Context) -> AgentDecision | None:
    s = c.signals
    retry = s.checkpoint_check == "failed"
    in_flight = s.checkpoint_check == "pending"  # asked already; the workers are saving
    if in_flight or not ((s.checkpoint_due or s.rebalance_pending or retry) and s.current_count > 0):
        return None
    if retry:
        why = "the last checkpoint request did not land in time; asking again"
    elif s.rebalance_pending:
        why = f"rebalance recommendation for {_ids(s.rebalance_instance_ids)}"
    elif s.minutes_since_checkpoint is None:
        why = "progress made but never checkpointed"
    else:
        why = (
            f"{s.minutes_since_checkpoint:.0f} min since the last checkpoint reaches the "
            f"{s.checkpoint_due_after_minutes:.0f} min due point"
        )
    return _stay(c, Action.CHECKPOINT, f"{why}; checkpointing {s.current_count} instance(s).")


def _rollback_migration(c: _Context) -> AgentDecision | None:
    s, move = c.signals, c.signals.migration
    if move is None or s.capacity_check != "not_reached":
        return None
    if move.from_type is None or move.from_capacity is None:
        return None
    if move.from_type not in c.guardrails.allowed_instance_types:
        return None
    return AgentDecision(
        action=Action.MIGRATE,
        instance_type=move.from_type,
        capacity_type=move.from_capacity,
        instance_count=c.next_count,
        should_checkpoint=s.current_count > 0,
        reasoning=f"the move to {move.target_type} {move.target_capacity.value} has not reached its capacity "
        f"in time ({move.misplaced} of {move.total} instance(s) still elsewhere); rolling back to "
        f"{move.from_type} {move.from_capacity.value}.",
    )


def _continue_migration(c: _Context) -> AgentDecision | None:
    s, move = c.signals, c.signals.migration
    if move is None or s.capacity_check == "pending":
        return None  # replacements still launching: moving more now would shrink the fleet further
    if move.target_type not in c.guardrails.allowed_instance_types:
        return None
    if move.target_capacity is CapacityType.ON_DEMAND and not c.guardrails.allow_on_demand:
        return None
    return AgentDecision(
        action=Action.MIGRATE,
        instance_type=move.target_type,
        capacity_type=move.target_capacity,
        instance_count=c.next_count,
        should_checkpoint=True,
        reasoning=f"{move.misplaced} of {move.total} instance(s) still run outside {move.target_type} "
        f"{move.target_capacity.value}; replacing the next batch.",
    )


def _cheaper_pool(c: _Context) -> AgentDecision | None:
    s, cand, current = c.signals, c.signals.migration_candidate, c.signals.current_pool
    savings, cost, fraction = s.migration_savings_usd, s.migration_cost_usd, s.migration_savings_fraction
    if cand is None or current is None or savings is None or cost is None or fraction is None:
        return None  # the candidate exists only for a fleet on spot with a quoted price
    if s.current_count == 0 or fraction <= MIGRATE_SAVINGS_MIN_FRACTION or savings <= cost:
        return None
    return AgentDecision(
        action=Action.MIGRATE,
        instance_type=cand.instance_type,
        capacity_type=CapacityType.SPOT,
        instance_count=c.next_count,
        should_checkpoint=True,
        reasoning=f"{_where(cand)} at ${cand.price_per_hour:.3f}/h ({cand.recent_interruptions} recent "
        f"interruption(s)) is {fraction:.0%} cheaper than {_where(current)} at "
        f"${current.price_per_hour:.3f}/h; over {s.expected_remaining_hours:.1f} h that saves "
        f"${savings:.2f} against a ${cost:.2f} restart.",
    )


def _nothing_to_do(c: _Context) -> AgentDecision:
    s = c.signals
    return _stay(
        c,
        Action.WAIT,
        f"{s.current_count} of {s.target_count} instance(s) on {c.kept_capacity.value} {c.kept_type}; no "
        "notice waiting for a checkpoint, no deadline risk, checkpoint not due and no pool cheap enough "
        "to move to.",
    )


RULES_IN_PRIORITY_ORDER: tuple[tuple[Rule, Callable[[_Context], AgentDecision | None]], ...] = (
    (Rule.INTERRUPTION_CHECKPOINT, _interruption_checkpoint),
    (Rule.DEADLINE_TO_ON_DEMAND, _deadline_to_on_demand),
    (Rule.ROLLBACK_MIGRATION, _rollback_migration),
    (Rule.CONTINUE_MIGRATION, _continue_migration),
    (Rule.RETURN_TO_SPOT, _return_to_spot),
    (Rule.WAIT_FOR_CHEAPER_POOL, _wait_for_cheaper_pool),
    (Rule.REPLACE_LOST_CAPACITY, _replace_lost_capacity),
    (Rule.TRIM_EXCESS, _trim_excess),
    (Rule.CHECKPOINT_DUE, _checkpoint_due),
    (Rule.CHEAPER_POOL, _cheaper_pool),
    (Rule.NOTHING_TO_DO, _nothing_to_do),
)


def decide(signals: Signals, guardrails: Guardrails) -> tuple[Rule, AgentDecision]:
    """Apply the rules in priority order; the first that fires decides, and its name leads the reasoning."""
    allowed = guardrails.allowed_instance_types
    current_type = signals.current_pool.instance_type if signals.current_pool else None
    on_demand = signals.current_capacity_type is CapacityType.ON_DEMAND and guardrails.allow_on_demand
    context = _Context(
        signals=signals,
        guardrails=guardrails,
        kept_type=current_type if current_type in allowed else signals.best_pool.instance_type,
        kept_capacity=CapacityType.ON_DEMAND if on_demand else CapacityType.SPOT,
        next_count=_next_count(signals.current_count, signals.target_count, guardrails),
    )
    for rule, apply in RULES_IN_PRIORITY_ORDER:
        decision = apply(context)
        if decision is not None:
            return rule, decision.model_copy(update={"reasoning": f"Rule {rule.value}: {decision.reasoning}"})
    raise AssertionError("unreachable: the last rule always decides")


class RulesPlanner:
    """The deterministic planner: pure, fast, and the fallback for every other planner."""

    def plan(self, state: PipelineState, guardrails: Guardrails) -> PlanResult:
        signals = compute_signals(state, guardrails)
        rule, decision = decide(signals, guardrails)
        return PlanResult(
            planner="rules",
            proposal=decision.model_dump(mode="json"),
            signals={**signals.model_dump(mode="json"), "rule": rule.value},
            reason=f"rule {rule.value} fired",
        )
