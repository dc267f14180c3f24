"""When Claude's last decision may stand for this cycle: only while nothing material changed."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from costagent.guardrails import Guardrails
from costagent.models import (
    CapacityType,
    Instance,
    LastPlan,
    PipelineState,
    SpotPool,
    TerminationNotice,
    TriggerKind,
)
from costagent.planner.claude import ATTEMPT_SHARE_OF_REMAINING, attempt_timeout, retry_pause
from costagent.reuse import REUSE_MAX_AGE_MINUTES, fingerprint, reuse_verdict

T0 = datetime(2026, 12, 3, 12, 0, tzinfo=timezone.utc)
GUARDRAILS = Guardrails(
    allowed_instance_types=["c5.xlarge"],
    default_instance_type="c5.xlarge",
    max_instances=10,
    planner="claude",
)


def state(minutes_later: float = 0, **changes: Any) -> PipelineState:
    values: dict[str, Any] = {
        "pipeline_id": "etl",
        "time": T0 + timedelta(minutes=minutes_later),
        "active_instances": [
            Instance(
                instance_id="i-00000000000000001",
                instance_type="c5.xlarge",
                zone="us-east-1a",
                lifecycle=CapacityType.SPOT,
                launch_time=T0,
            )
        ],
        "spot_prices": [SpotPool(instance_type="c5.xlarge", zone="us-east-1a", price_per_hour=0.070)],
        "pipeline_progress": 0.30,
        "minutes_since_checkpoint": 5 + minutes_later,
        "budget_remaining": 40.0,
    }
    values.update(changes)
    return PipelineState.model_validate(values)


def facts(current: PipelineState, rules_action: str = "WAIT") -> dict[str, Any]:
    return fingerprint(
        current, GUARDRAILS, model="claude-sonnet-5", prompt_version="v1", rules_action=rules_action
    )


def last_plan(action: str = "WAIT") -> LastPlan:
    return LastPlan(cycle_id="c0", time=T0, proposal={"action": action}, fingerprint=facts(state()))


def verdict(current: PipelineState, last: LastPlan | None = None, **kwargs: Any) -> tuple[bool, str]:
    trigger = kwargs.pop("trigger", TriggerKind.SCHEDULED)
    return reuse_verdict(last or last_plan(), facts(current, **kwargs), trigger, current.time)


def test_steady_state_reuses_the_last_wait() -> None:
    reusable, why = verdict(state(minutes_later=2))
    assert reusable and "c0" in why


def test_a_decision_that_acts_is_never_repeated_by_reuse() -> None:
    assert not verdict(state(minutes_later=2), last_plan("CHECKPOINT"))[0]


def test_old_decisions_are_not_reused() -> None:
    assert not verdict(state(minutes_later=REUSE_MAX_AGE_MINUTES + 1, minutes_since_checkpoint=6))[0]


def test_spot_signals_always_get_a_fresh_decision() -> None:
    assert not verdict(state(minutes_later=1), trigger=TriggerKind.REBALANCE)[0]


def test_price_move_of_more_than_five_percent_is_material() -> None:
    moved = [SpotPool(instance_type="c5.xlarge", zone="us-east-1a", price_per_hour=0.0740)]
    reusable, why = verdict(state(minutes_later=1, spot_prices=moved))
    assert not reusable and "price" in why


def test_small_price_wobble_is_not_material() -> None:
    wobble = [SpotPool(instance_type="c5.xlarge", zone="us-east-1a", price_per_hour=0.0710)]
    assert verdict(state(minutes_later=1, spot_prices=wobble))[0]


def test_new_notice_is_material() -> None:
    notice = TerminationNotice(kind="rebalance", instance_id="i-00000000000000001", time=T0)
    assert not verdict(state(minutes_later=1, termination_notices=[notice]))[0]


def test_lost_instance_is_material() -> None:
    assert not verdict(state(minutes_later=1, active_instances=[]))[0]


def test_a_landed_checkpoint_is_material() -> None:
    assert not verdict(state(minutes_later=3, minutes_since_checkpoint=0.5))[0]


def test_changed_rules_recommendation_is_material() -> None:
    reusable, why = verdict(state(minutes_later=1), rules_action="CHECKPOINT")
    assert not reusable and "rules_action" in why


def test_changed_guardrails_are_material() -> None:
    last = last_plan()
    other = GUARDRAILS.model_copy(update={"max_instances": 20})
    current = fingerprint(state(1), other, model="claude-sonnet-5", prompt_version="v1", rules_action="WAIT")
    assert not reuse_verdict(last, current, TriggerKind.SCHEDULED, state(1).time)[0]


def test_an_attempt_that_is_not_the_last_leaves_time_for_another() -> None:
    assert attempt_timeout(57.0, attempts_left=3) == 57.0 * ATTEMPT_SHARE_OF_REMAINING
    assert attempt_timeout(20.0, attempts_left=1) == 20.0


def test_retry_pause_follows_the_servers_retry_after_else_backs_off() -> None:
    assert retry_pause(3.0, attempt=0) == 3.0
    assert [retry_pause(None, attempt=n) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
