"""costagent's planners as backtest policies, through the same interface the plan Lambda uses.

Each tick becomes the `PipelineState` a GatherState would assemble for a one-worker pipeline: the worker
(if one runs) with its zone and lifecycle; a spot quote for every zone, marked without capacity when its
pool has none this tick (what failed launches or a Spot placement score tell a real deployment); each
pool's interruptions in the last 24 hours (capacity lost at a tick boundary); the deadline and the
expected remaining hours (work left plus any restart overhead still to pay). The guardrails carry the
pipeline's restart overhead and cycle length, as an operator would configure them. The planner's
decision is clamped by the same validator as in production, then read back as a placement: the
decision's capacity type, in the zone of the worker if it stays, else in the zone the planner ranked
best. The planner sees no future and nothing the environment hides.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from costagent.backtest.environment import IDLE, Kind, Observation, Placement, Scenario
from costagent.clamp import clamp_decision
from costagent.guardrails import Guardrails
from costagent.models import CapacityType, Instance, PipelineState, SpotPool
from costagent.planner.rules import RulesPlanner

INSTANCE_TYPE = "p3.2xlarge"  # every trace of both sets is p3/p2 capacity priced as p3.2xlarge
RUN_START = datetime(2026, 1, 5, tzinfo=timezone.utc)  # any fixed instant: the planner reads differences
INTERRUPTION_LOOKBACK = timedelta(hours=24)  # Settings.interruption_lookback_hours


@dataclass
class PlannerPolicy:
    """Drive a costagent planner (anything with `plan(state, guardrails) -> PlanResult`) tick by tick."""

    planner: Any = field(default_factory=RulesPlanner)
    name: str = "costagent_rules"

    def reset(self, scenario: Scenario) -> None:
        self._scenario = scenario
        self._guardrails = Guardrails(
            allowed_instance_types=[INSTANCE_TYPE],
            default_instance_type=INSTANCE_TYPE,
            min_instances=0,
            max_instances=1,
            target_instances=1,
            deadline=RUN_START + timedelta(seconds=scenario.deadline_seconds),
            on_demand_prices={INSTANCE_TYPE: scenario.on_demand_price},
            # What an operator configures for the pipeline: its restart time and the schedule's rate.
            restart_overhead_minutes=scenario.overhead_seconds / 60,
            cycle_minutes=scenario.gap_seconds / 60,
        )
        self._interruptions: list[deque[datetime]] = [deque() for _ in scenario.zones]
        self._was_available = [False for _ in scenario.zones]
        self._launched_at = RUN_START

    def _zone_name(self, zone: int) -> str:
        return self._scenario.zones[zone].name

    def state(self, observation: Observation) -> PipelineState:
        now = RUN_START + timedelta(seconds=observation.t)
        last, current = observation.last, observation.current
        # A pool losing its capacity is an interruption of that pool, seen for every zone (AWS publishes
        # interruption rates per pool; the environment shows every zone's availability to every policy).
        for zone, up in enumerate(observation.available):
            if self._was_available[zone] and not up:
                self._interruptions[zone].append(now)
        self._was_available = list(observation.available)
        if current.running and current != last:
            self._launched_at = now
        for seen in self._interruptions:
            while seen and now - seen[0] > INTERRUPTION_LOOKBACK:
                seen.popleft()
        instances = []
        if current.running:
            instances.append(
                Instance(
                    instance_id="i-worker",
                    instance_type=INSTANCE_TYPE,
                    zone=self._zone_name(current.zone),
                    lifecycle=CapacityType.SPOT if current.kind is Kind.SPOT else CapacityType.ON_DEMAND,
                    launch_time=self._launched_at,
                )
            )
        pools = [
            SpotPool(
                instance_type=INSTANCE_TYPE,
                zone=self._zone_name(zone),
                price_per_hour=observation.spot_prices[zone],
                recent_interruptions=len(self._interruptions[zone]),
                capacity=up,
            )
            for zone, up in enumerate(observation.available)
        ]
        job = self._scenario.job_seconds
        return PipelineState(
            pipeline_id="backtest",
            time=now,
            active_instances=instances,
            spot_prices=pools,
            on_demand_prices={INSTANCE_TYPE: self._scenario.on_demand_price},
            pipeline_progress=min(1.0, observation.done_seconds / job),
            minutes_since_checkpoint=0.0,  # this benchmark keeps progress across restarts
            deadline=self._guardrails.deadline,
            expected_remaining_hours=(observation.remaining_seconds + observation.pending_seconds) / 3600,
        )

    def decide(self, observation: Observation) -> Placement:
        state = self.state(observation)
        plan = self.planner.plan(state, self._guardrails)
        decision = clamp_decision(plan.proposal, state, self._guardrails).decision
        if decision.instance_count == 0:
            return IDLE
        current = observation.current
        kind = Kind.ON_DEMAND if decision.capacity_type is CapacityType.ON_DEMAND else Kind.SPOT
        if current.running and (current.kind is kind or kind is Kind.ON_DEMAND):
            return Placement(kind, current.zone)
        best_zone = (plan.signals.get("best_pool") or {}).get("zone")
        names = [zone.name for zone in self._scenario.zones]
        zone = names.index(best_zone) if best_zone in names else (current.zone if current.running else 0)
        return Placement(kind, zone)
