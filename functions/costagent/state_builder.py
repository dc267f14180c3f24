"""Pure assembly of a PipelineState from what the adapters read. No AWS, no clock: `now` is the cycle time."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

from costagent.adapters.dynamodb import SpotSignal
from costagent.adapters.ec2 import SpotPricePoint
from costagent.adapters.s3 import CheckpointPointer, ProgressReport
from costagent.guardrails import Guardrails
from costagent.models import (
    ActionChecks,
    CapacityType,
    CycleRecord,
    DecisionSummary,
    GroupCapacity,
    Instance,
    LastPlan,
    MigrationStatus,
    Mode,
    PipelineState,
    SpotPool,
    TerminationNotice,
    Trigger,
    TriggerKind,
)
from costagent.prices import on_demand_price
from costagent.worker_contract import DrillRecord

PRICE_CHANGE_WINDOW_HOURS = 1.0  # "recent change" compares with the price one hour before the cycle
INTERRUPTION_NOTICE_MINUTES = 2.0  # a spot interruption warning comes two minutes before reclaim
REBALANCE_NOTICE_MINUTES = 30.0  # a rebalance recommendation stays relevant for a while, not for ever
MIN_PROGRESS_FOR_RATE = 0.01  # below 1 % done, the observed rate is too noisy to extrapolate


def summarize_spot_prices(
    points: Iterable[SpotPricePoint], now: datetime, interruptions: dict[tuple[str, str], int]
) -> list[SpotPool]:
    """Per pool: the price in force at `now`, its change over the last hour, and the 24 h range."""
    by_pool: dict[tuple[str, str], list[SpotPricePoint]] = defaultdict(list)
    for point in points:
        if point.time <= now:
            by_pool[(point.instance_type, point.zone)].append(point)
    pools: list[SpotPool] = []
    for (instance_type, zone), history in sorted(by_pool.items()):
        history.sort(key=lambda p: p.time)
        current = history[-1].price_per_hour
        hour_ago_cutoff = now - timedelta(hours=PRICE_CHANGE_WINDOW_HOURS)
        before = [p for p in history if p.time <= hour_ago_cutoff]
        reference = before[-1].price_per_hour if before else history[0].price_per_hour
        change = 0.0 if reference <= 0 else round(100.0 * (current - reference) / reference, 2)
        prices = [p.price_per_hour for p in history]
        pools.append(
            SpotPool(
                instance_type=instance_type,
                zone=zone,
                price_per_hour=current,
                price_change_pct_1h=change,
                min_price_24h=min(prices),
                max_price_24h=max(prices),
                recent_interruptions=interruptions.get((instance_type, zone), 0),
            )
        )
    return pools


def count_interruptions(signals: Iterable[SpotSignal]) -> dict[tuple[str, str], int]:
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for signal in signals:
        if signal.kind == TriggerKind.INTERRUPTION.value and signal.instance_type and signal.zone:
            counts[(signal.instance_type, signal.zone)] += 1
    return dict(counts)


def _signal_time(cycle_id: str) -> datetime | None:
    try:
        return datetime.fromisoformat(cycle_id.split("#", 1)[0].replace("Z", "+00:00"))
    except ValueError:
        return None


def pending_notices(
    trigger: Trigger,
    signals: Iterable[SpotSignal],
    active: list[Instance],
    now: datetime,
    checkpoint_requested: bool = False,
) -> list[TerminationNotice]:
    """Notices that still matter: this cycle's own, and recent ones for instances still running."""
    running = {i.instance_id for i in active}
    notices: dict[tuple[str, str], TerminationNotice] = {}
    if trigger.kind in (TriggerKind.INTERRUPTION, TriggerKind.REBALANCE) and trigger.instance_id:
        kind = "interruption" if trigger.kind is TriggerKind.INTERRUPTION else "rebalance"
        notices[(kind, trigger.instance_id)] = TerminationNotice(
            kind=kind,
            instance_id=trigger.instance_id,
            time=trigger.event_time,
            instance_type=trigger.instance_type,
            zone=trigger.zone,
            checkpoint_requested=checkpoint_requested,
        )
    for signal in signals:
        when = _signal_time(signal.cycle_id)
        if when is None or signal.instance_id not in running:
            continue
        kind = "interruption" if signal.kind == TriggerKind.INTERRUPTION.value else "rebalance"
        window = INTERRUPTION_NOTICE_MINUTES if kind == "interruption" else REBALANCE_NOTICE_MINUTES
        if timedelta(0) <= now - when <= timedelta(minutes=window):
            notices.setdefault(
                (kind, signal.instance_id),
                TerminationNotice(
                    kind=kind,
                    instance_id=signal.instance_id,
                    time=when,
                    instance_type=signal.instance_type,
                    zone=signal.zone,
                    checkpoint_requested=signal.checkpointed,
                ),
            )
    return sorted(notices.values(), key=lambda n: (n.time, n.instance_id))


def expected_remaining_hours(
    progress: ProgressReport | None, guardrails: Guardrails, now: datetime
) -> float | None:
    """From the observed rate once there is one; from the configured run time before that."""
    done = progress.progress if progress else 0.0
    if done >= 1.0:
        return 0.0
    if progress and progress.started_at and done >= MIN_PROGRESS_FOR_RATE:
        elapsed_hours = (progress.updated_at - progress.started_at).total_seconds() / 3600.0
        if elapsed_hours > 0:
            return round(elapsed_hours * (1.0 - done) / done, 3)
    if guardrails.expected_runtime_hours is not None:
        return round(guardrails.expected_runtime_hours * (1.0 - done), 3)
    return None


def last_llm_plan(records: Iterable[CycleRecord]) -> LastPlan | None:
    """Claude's latest decision among the recent records (newest first). A `cached` record carries the
    original decision's fingerprint and cycle, so reuse is always measured from the real call."""
    for record in records:
        if record.phase != "final" or record.duplicate_of:
            continue
        if record.planner in ("claude", "cached") and record.plan_fingerprint:
            try:
                decided_at = datetime.fromisoformat(str(record.plan_fingerprint.get("time")))
            except ValueError:
                return None
            return LastPlan(
                cycle_id=record.reused_from or record.cycle_id,
                time=decided_at,
                proposal=record.proposal,
                fingerprint=record.plan_fingerprint,
            )
        return None  # the latest decision was not Claude's (rules, fallback): nothing to reuse
    return None


CHECKPOINT_LANDING_MINUTES = 5.0  # workers have this long to write the checkpoint a request asked for
CAPACITY_LANDING_MINUTES = 10.0  # new instances have this long to appear after a capacity change
CAPACITY_ACTIONS = frozenset({"set_desired_capacity", "terminate_instance", "replace_instance"})
CLOCK_SKEW_SECONDS = 30  # a checkpoint stamped slightly before the request still answers it


def action_checks(
    records: Iterable[CycleRecord],
    checkpoint: CheckpointPointer | None,
    group: GroupCapacity | None,
    instances: list[Instance],
    now: datetime,
) -> ActionChecks | None:
    """Did the last checkpoint request land, and did the last capacity change take effect?"""
    requested_at: datetime | None = None
    target: tuple[datetime, int] | None = None
    for record in records:  # newest first
        done = [a for a in record.actions if a.status == "done"]
        if record.checkpoint is not None:
            done += [a for a in record.checkpoint.actions if a.status == "done"]
        if requested_at is None and any(a.kind == "checkpoint" for a in done):
            requested_at = record.cycle_time
        changed_capacity = any(a.kind in CAPACITY_ACTIONS for a in done)
        if target is None and record.decision is not None and changed_capacity:
            target = (record.cycle_time, record.decision.instance_count)
    if requested_at is None and target is None:
        return None
    checks = ActionChecks()
    if requested_at is not None:
        landed = checkpoint is not None and checkpoint.time >= requested_at - timedelta(
            seconds=CLOCK_SKEW_SECONDS
        )
        late = now - requested_at > timedelta(minutes=CHECKPOINT_LANDING_MINUTES)
        checks = checks.model_copy(
            update={
                "checkpoint": "landed" if landed else ("failed" if late else "pending"),
                "checkpoint_requested_at": requested_at,
            }
        )
    if target is not None and group is not None:
        asked_at, count = target
        reached = group.desired_capacity == count and len(instances) >= count
        late = now - asked_at > timedelta(minutes=CAPACITY_LANDING_MINUTES)
        checks = checks.model_copy(
            update={
                "capacity": "reached" if reached else ("not_reached" if late else "pending"),
                "capacity_target": count,
            }
        )
    return checks


def migration_status(group: GroupCapacity | None, instances: list[Instance]) -> MigrationStatus | None:
    """A migration is in progress while the group launches one pool and instances still run in another.
    Groups with a partial on-demand base (neither 0 nor all) are mixed on purpose, not migrating."""
    if group is None or group.instance_type is None or not instances:
        return None
    base, desired = group.on_demand_base_capacity, group.desired_capacity
    if 0 < base < desired:
        return None
    capacity = CapacityType.ON_DEMAND if base > 0 else CapacityType.SPOT
    misplaced = [
        i for i in instances if i.instance_type != group.instance_type or i.lifecycle is not capacity
    ]
    if not misplaced:
        return None
    pools: dict[tuple[str, CapacityType], int] = defaultdict(int)
    for instance in misplaced:
        pools[(instance.instance_type, instance.lifecycle)] += 1
    from_type, from_capacity = max(sorted(pools, key=lambda p: (p[0], p[1].value)), key=lambda p: pools[p])
    return MigrationStatus(
        target_type=group.instance_type,
        target_capacity=capacity,
        misplaced=len(misplaced),
        total=len(instances),
        from_type=from_type,
        from_capacity=from_capacity,
    )


def summarize_decisions(records: Iterable[CycleRecord]) -> list[DecisionSummary]:
    return [
        DecisionSummary(
            cycle_id=r.cycle_id,
            action=r.decision.action,
            instance_type=r.decision.instance_type,
            capacity_type=r.decision.capacity_type,
            instance_count=r.decision.instance_count,
            outcome=r.outcome,
        )
        for r in records
        if r.decision is not None
    ]


def build_state(
    *,
    trigger: Trigger,
    mode: Mode,
    mode_source: str = "parameter",
    guardrails: Guardrails,
    instances: list[Instance],
    group: GroupCapacity | None,
    price_points: list[SpotPricePoint],
    signals: list[SpotSignal],
    progress: ProgressReport | None,
    checkpoint: CheckpointPointer | None,
    budget_remaining: float | None,
    recent: list[CycleRecord],
    checkpoint_requested: bool = False,
    drill: DrillRecord | None = None,
) -> PipelineState:
    assert trigger.pipeline_id is not None
    now = trigger.event_time
    minutes_since_checkpoint = None
    if checkpoint is not None:
        minutes_since_checkpoint = round(max((now - checkpoint.time).total_seconds(), 0.0) / 60.0, 2)
    types = set(guardrails.allowed_instance_types) | {i.instance_type for i in instances}
    overrides = guardrails.on_demand_prices
    return PipelineState(
        pipeline_id=trigger.pipeline_id,
        time=now,
        mode=mode,
        mode_source=mode_source,
        trigger=trigger.kind,
        active_instances=instances,
        spot_prices=summarize_spot_prices(price_points, now, count_interruptions(signals)),
        on_demand_prices={t: on_demand_price(t, overrides) for t in sorted(types)},
        termination_notices=pending_notices(trigger, signals, instances, now, checkpoint_requested),
        pipeline_progress=min(max(progress.progress if progress else 0.0, 0.0), 1.0),
        minutes_since_checkpoint=minutes_since_checkpoint,
        last_checkpoint_id=checkpoint.checkpoint_id if checkpoint else None,
        budget_remaining=budget_remaining,
        deadline=guardrails.deadline,
        expected_remaining_hours=expected_remaining_hours(progress, guardrails, now),
        capacity=group,
        recent_decisions=summarize_decisions(recent),
        last_llm_plan=last_llm_plan(recent),
        action_checks=action_checks(
            [r for r in recent if r.phase == "final"], checkpoint, group, instances, now
        ),
        migration=migration_status(group, instances),
        last_drill_ok=drill.ok if drill else None,
        last_successful_drill_at=(drill.time if drill.ok else drill.last_success_time) if drill else None,
    )
