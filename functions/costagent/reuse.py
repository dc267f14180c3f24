"""When the last Claude decision can stand for this cycle too. Pure.

A pipeline in steady state changes little from one minute to the next; asking Claude every minute costs
tokens and seconds for the same answer. The last decision is reused only while nothing material changed
since Claude made it, and only when it was WAIT: repeating WAIT is harmless, while a repeated CHECKPOINT
or MIGRATE would act again.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from costagent.guardrails import Guardrails
from costagent.models import LastPlan, PipelineState, TriggerKind

REUSE_MAX_AGE_MINUTES = 15.0  # ask Claude at least this often, whatever happens
REUSE_PRICE_CHANGE_FRACTION = 0.05  # a pool's price moving 5 % or more is news
REUSE_PROGRESS_DELTA = 0.05  # five points of progress change the remaining-time arithmetic
REUSE_CHECKPOINT_AGE_DRIFT_MINUTES = 10.0  # checkpoint age drifting this far can make a checkpoint due
REUSE_BUDGET_CHANGE_FRACTION = 0.10  # a tenth of the remaining budget spent changes what is affordable
REUSABLE_ACTIONS = frozenset({"WAIT"})


def guardrails_digest(guardrails: Guardrails) -> str:
    return hashlib.sha256(guardrails.model_dump_json().encode("utf-8")).hexdigest()[:16]


def fingerprint(
    state: PipelineState,
    guardrails: Guardrails,
    *,
    model: str,
    prompt_version: str,
    rules_action: str | None = None,
) -> dict[str, Any]:
    """What a decision depends on, in a form the next cycle can compare (and the audit record can keep)."""
    fleet: dict[str, int] = {}
    for instance in state.active_instances:
        key = f"{instance.instance_type}/{instance.lifecycle.value}"
        fleet[key] = fleet.get(key, 0) + 1
    return {
        "time": state.time.isoformat(),
        "mode": state.mode.value,
        "guardrails": guardrails_digest(guardrails),
        "model": model,
        "prompt_version": prompt_version,
        "fleet": dict(sorted(fleet.items())),
        "desired_capacity": state.capacity.desired_capacity if state.capacity else None,
        "notices": sorted(f"{n.kind}:{n.instance_id}" for n in state.termination_notices),
        "prices": {f"{p.instance_type}/{p.zone}": p.price_per_hour for p in state.spot_prices},
        "progress": state.pipeline_progress,
        "minutes_since_checkpoint": state.minutes_since_checkpoint,
        "budget_remaining": state.budget_remaining,
        # The rules planner is cheap and sees every threshold (checkpoint due, deadline, lost capacity):
        # when its recommendation changes, something material did.
        "rules_action": rules_action,
    }


def _changed_fraction(before: float, after: float) -> float:
    if before == after:
        return 0.0
    return abs(after - before) / abs(before) if before else float("inf")


def _material_change(last: dict[str, Any], now: dict[str, Any]) -> str | None:
    for key in ("mode", "guardrails", "model", "prompt_version", "fleet", "desired_capacity", "rules_action"):
        if last.get(key) != now.get(key):
            return f"{key} changed"
    if not set(now.get("notices", [])) <= set(last.get("notices", [])):
        return "a new interruption or rebalance notice"
    last_prices, now_prices = last.get("prices", {}), now.get("prices", {})
    if set(last_prices) != set(now_prices):
        return "the set of spot pools changed"
    for pool, price in now_prices.items():
        if _changed_fraction(float(last_prices[pool]), float(price)) >= REUSE_PRICE_CHANGE_FRACTION:
            return f"spot price of {pool} moved {last_prices[pool]} -> {price}"
    if abs(float(now.get("progress", 0)) - float(last.get("progress", 0))) > REUSE_PROGRESS_DELTA:
        return "progress moved"
    last_age, now_age = last.get("minutes_since_checkpoint"), now.get("minutes_since_checkpoint")
    if (last_age is None) != (now_age is None):
        return "checkpoint state changed"
    if last_age is not None and now_age is not None:
        drift = float(now_age) - float(last_age)
        if drift < 0 or drift > REUSE_CHECKPOINT_AGE_DRIFT_MINUTES:
            return "a checkpoint landed or checkpoint age drifted"
    last_budget, now_budget = last.get("budget_remaining"), now.get("budget_remaining")
    if (last_budget is None) != (now_budget is None):
        return "budget changed"
    if (
        last_budget is not None
        and now_budget is not None
        and _changed_fraction(float(last_budget), float(now_budget)) > REUSE_BUDGET_CHANGE_FRACTION
    ):
        return "budget moved"
    return None


def reuse_verdict(
    last: LastPlan | None, current: dict[str, Any], trigger: TriggerKind, now: datetime
) -> tuple[bool, str]:
    """(reusable, why). `current` is this cycle's fingerprint."""
    if last is None:
        return False, "no earlier Claude decision to reuse"
    if trigger is not TriggerKind.SCHEDULED:
        return False, f"a {trigger.value} signal always gets a fresh decision"
    action = last.proposal.get("action") if isinstance(last.proposal, dict) else None
    if action not in REUSABLE_ACTIONS:
        return False, f"the last Claude decision was {action}, which must not repeat by itself"
    age_minutes = (now - last.time).total_seconds() / 60.0
    if age_minutes > REUSE_MAX_AGE_MINUTES or age_minutes < 0:
        return False, f"the last Claude decision is {age_minutes:.0f} min old"
    change = _material_change(last.fingerprint, current)
    if change is not None:
        return False, change
    return True, f"nothing material changed since cycle {last.cycle_id} ({age_minutes:.0f} min ago)"
