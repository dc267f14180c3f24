"""The benchmark's environment: a long job on spot or on-demand capacity, tick by tick.

Reproduces `bench/traces/README.md` exactly (tick semantics, the environment's deadline guarantee,
per-tick billing); several zones generalise it (cant-be-late-multi): a placement is a capacity type in a
zone, moving zones is a new launch and pays the restart overhead. Times are whole seconds, so the
arithmetic is exact. Pure: a policy is any object with `decide(observation) -> Placement`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Protocol

ON_DEMAND_PRICE_PER_HOUR = 3.06  # p3.2xlarge on-demand, the benchmark's constant
SPOT_PRICE_PER_HOUR = 0.9731  # the single-zone benchmark's constant spot price
SECONDS_PER_HOUR = 3600


class Kind(IntEnum):
    NONE = 0
    SPOT = 1
    ON_DEMAND = 2


@dataclass(frozen=True, order=True)
class Placement:
    """What runs during a tick: a capacity type in a zone (index into the scenario's zones)."""

    kind: Kind = Kind.NONE
    zone: int = 0

    @property
    def running(self) -> bool:
        return self.kind is not Kind.NONE


IDLE = Placement()


@dataclass(frozen=True)
class ZoneTrace:
    """One zone's availability per tick, and its spot price per tick when the trace has prices."""

    name: str
    available: tuple[bool, ...]
    spot_prices: tuple[float, ...] | None = None

    def spot_price(self, tick: int) -> float:
        return self.spot_prices[tick] if self.spot_prices is not None else SPOT_PRICE_PER_HOUR


@dataclass(frozen=True)
class Scenario:
    """One run: the zones a policy may use, the tick length, the job, the deadline and the overhead."""

    zones: tuple[ZoneTrace, ...]
    gap_seconds: int
    job_seconds: int
    deadline_seconds: int
    overhead_seconds: int
    on_demand_price: float = ON_DEMAND_PRICE_PER_HOUR
    label: str = ""

    @property
    def ticks(self) -> int:
        return min(len(zone.available) for zone in self.zones)

    def price(self, placement: Placement, tick: int) -> float:
        if placement.kind is Kind.SPOT:
            return self.zones[placement.zone].spot_price(tick)
        return self.on_demand_price if placement.kind is Kind.ON_DEMAND else 0.0

    def must_run_on_demand(self, t: int, done: int) -> bool:
        """The environment's guarantee: no slack left for anything but certain progress."""
        gap = self.gap_seconds
        needed = math.ceil((self.job_seconds - done + self.overhead_seconds) / gap) * gap
        left = math.floor((self.deadline_seconds - t) / gap) * gap
        return needed >= left


@dataclass(frozen=True)
class Observation:
    """What a policy sees at the start of tick `tick` (time `t`), after any preemption."""

    scenario: Scenario
    tick: int
    t: int
    available: tuple[bool, ...]  # per zone, during this tick
    spot_prices: tuple[float, ...]  # per zone, during this tick
    last: Placement  # what ran during the previous tick
    current: Placement  # what runs now (IDLE if the spot instance was just preempted)
    pending_seconds: int  # restart overhead still to pay before progress
    done_seconds: int

    @property
    def remaining_seconds(self) -> int:
        return self.scenario.job_seconds - self.done_seconds


class Policy(Protocol):
    name: str

    def reset(self, scenario: Scenario) -> None: ...

    def decide(self, observation: Observation) -> Placement: ...


@dataclass
class RunResult:
    policy: str
    cost: float
    finished: bool
    finish_seconds: int | None  # when the job completed (a tick boundary), None if it never did
    met_deadline: bool
    history: list[Placement] = field(default_factory=list)  # what ran in each tick, index = tick
    progress_seconds: list[int] = field(default_factory=list)  # work done at the end of each tick
    forced_ticks: int = 0  # ticks where the guarantee overrode the policy
    preemptions: int = 0
    launches: int = 0

    @property
    def finish_hours(self) -> float | None:
        return None if self.finish_seconds is None else self.finish_seconds / SECONDS_PER_HOUR


def simulate(scenario: Scenario, policy: Policy, *, keep_history: bool = False) -> RunResult:
    """Run `policy` through the scenario with the benchmark's tick semantics."""
    policy.reset(scenario)
    gap, overhead = scenario.gap_seconds, scenario.overhead_seconds
    current, pending, done = IDLE, 0, 0
    cost_units = 0.0  # sum of hourly prices of the ticks run; times gap/3600 at the end
    history: list[Placement] = []
    progress: list[int] = []
    forced = preemptions = launches = 0
    finish: int | None = None
    for tick in range(scenario.ticks):
        t = tick * gap
        available = tuple(zone.available[tick] for zone in scenario.zones)
        last = current
        if tick > 0:
            if keep_history:
                history.append(last)
            cost_units += scenario.price(last, tick - 1)
        if current.kind is Kind.SPOT and not available[current.zone]:
            current = IDLE
            preemptions += 1
        if last.running:
            useful = max(gap - pending, 0)
            pending = max(pending - gap, 0)
            done += min(useful, scenario.job_seconds - done)
        if tick > 0 and keep_history:
            progress.append(done)
        if done >= scenario.job_seconds:
            finish = t
            break
        request = policy.decide(
            Observation(
                scenario=scenario,
                tick=tick,
                t=t,
                available=available,
                spot_prices=tuple(zone.spot_price(tick) for zone in scenario.zones),
                last=last,
                current=current,
                pending_seconds=pending,
                done_seconds=done,
            )
        )
        if scenario.must_run_on_demand(t, done):
            forced_request = _guaranteed(request, last, current, pending)
            forced += forced_request != request
            request = forced_request
        if request.kind is Kind.SPOT and not available[request.zone]:
            request = IDLE
        if request.running and request != current:
            pending = overhead
            launches += 1
        current = request
    cost = cost_units * gap / SECONDS_PER_HOUR
    return RunResult(
        policy=policy.name,
        cost=cost,
        finished=finish is not None,
        finish_seconds=finish,
        met_deadline=finish is not None and finish <= scenario.deadline_seconds,
        history=history,
        progress_seconds=progress,
        forced_ticks=forced,
        preemptions=preemptions,
        launches=launches,
    )


def _guaranteed(request: Placement, last: Placement, current: Placement, pending: int) -> Placement:
    """The guarantee: keep a spot instance that is past its overhead, else on-demand. On-demand costs the
    same in every zone, so it stays where the job runs (no relaunch) or goes where the policy asked."""
    if last.kind is Kind.SPOT and pending == 0:
        return last
    if current.running:
        return Placement(Kind.ON_DEMAND, current.zone)
    return Placement(Kind.ON_DEMAND, request.zone)
