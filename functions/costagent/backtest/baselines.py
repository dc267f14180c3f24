"""The reference policies of the benchmark: on-demand only, greedy, and Uniform Progress.

With several zones, greedy and Uniform Progress take the cheapest available spot zone and stay in the
zone they run in while it has spot (moving would pay the overhead for a price difference of cents).
"""

from __future__ import annotations

from dataclasses import dataclass

from costagent.backtest.environment import IDLE, Kind, Observation, Placement, Scenario


def cheapest_available_spot(observation: Observation) -> Placement | None:
    """Stay on the current zone's spot while it is available; otherwise the cheapest available zone."""
    current = observation.current
    if current.running and observation.available[current.zone]:
        return Placement(Kind.SPOT, current.zone)
    zones = [z for z, up in enumerate(observation.available) if up]
    if not zones:
        return None
    return Placement(Kind.SPOT, min(zones, key=lambda z: (observation.spot_prices[z], z)))


def _on_demand_here(observation: Observation) -> Placement:
    zone = observation.current.zone if observation.current.running else observation.last.zone
    return Placement(Kind.ON_DEMAND, zone)


@dataclass
class OnDemandOnly:
    name: str = "on_demand"

    def reset(self, scenario: Scenario) -> None:
        pass

    def decide(self, observation: Observation) -> Placement:
        return _on_demand_here(observation)


@dataclass
class Greedy:
    """Spot whenever available, idle otherwise; the environment's guarantee brings on-demand at the end."""

    name: str = "greedy"

    def reset(self, scenario: Scenario) -> None:
        pass

    def decide(self, observation: Observation) -> Placement:
        return cheapest_available_spot(observation) or IDLE


@dataclass
class UniformProgress:
    """Wu et al., NSDI'24: keep progress on the line ep(t) = t * job / deadline.

    Take spot whenever available; when idle and behind ep(t), run on-demand; once on on-demand, stay until
    progress reaches ep(t + 2d) (hysteresis over the restart overhead d)."""

    name: str = "uniform_progress"

    def reset(self, scenario: Scenario) -> None:
        self._rate = scenario.job_seconds / scenario.deadline_seconds
        self._overhead = scenario.overhead_seconds

    def _expected(self, t: float) -> float:
        return t * self._rate

    def decide(self, observation: Observation) -> Placement:
        done, t = observation.done_seconds, observation.t
        if observation.current.kind is Kind.ON_DEMAND and done < self._expected(t + 2 * self._overhead):
            return observation.current
        spot = cheapest_available_spot(observation)
        if spot is not None:
            return spot
        if done < self._expected(t):
            return _on_demand_here(observation)
        return IDLE
