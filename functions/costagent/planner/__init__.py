"""Planners turn a gathered state into a proposed decision; the clamp makes the proposal safe.

Every planner implements `Planner`. The rules planner is the deterministic baseline: the Claude planner
falls back to it on any failure, and the backtest simulator calls it on thousands of states, so a planner
must be pure (no clock, no environment, no I/O; time is `state.time`) and deterministic.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from costagent.guardrails import Guardrails
from costagent.models import PipelineState, PlanResult
from costagent.planner.rules import RulesPlanner, Signals, compute_signals

__all__ = ["Planner", "RulesPlanner", "Signals", "compute_signals"]


@runtime_checkable
class Planner(Protocol):
    """Proposes the next decision for one pipeline; the proposal goes to the clamp, never to AWS."""

    def plan(self, state: PipelineState, guardrails: Guardrails) -> PlanResult: ...
