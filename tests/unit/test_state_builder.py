"""Assembling the pipeline state from what the adapters read: prices, notices, remaining time."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from costagent.adapters.dynamodb import SpotSignal
from costagent.adapters.ec2 import SpotPricePoint
from costagent.adapters.s3 import ProgressReport
from costagent.guardrails import Guardrails
from costagent.models import CapacityType, Instance, Trigger, TriggerKind
from costagent.state_builder import (
    count_interruptions,
    expected_remaining_hours,
    pending_notices,
    summarize_spot_prices,
)

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=timezone.utc)


def guardrails(**changes: object) -> Guardrails:
    values: dict[str, object] = {
        "allowed_instance_types": ["c5.xlarge"],
        "default_instance_type": "c5.xlarge",
        "max_instances": 10,
    }
    values.update(changes)
    return Guardrails.model_validate(values)


def point(hours_ago: float, price: float, zone: str = "us-east-1a") -> SpotPricePoint:
    return SpotPricePoint("c5.xlarge", zone, price, NOW - timedelta(hours=hours_ago))


def instance(instance_id: str) -> Instance:
    return Instance(
        instance_id=instance_id,
        instance_type="c5.xlarge",
        zone="us-east-1a",
        lifecycle=CapacityType.SPOT,
        launch_time=NOW - timedelta(hours=1),
    )


def test_price_summary_gives_current_price_hourly_change_and_daily_range() -> None:
    points = [point(20, 0.05), point(2, 0.06), point(0.2, 0.09)]
    (pool,) = summarize_spot_prices(points, NOW, {})
    assert pool.price_per_hour == 0.09
    assert pool.price_change_pct_1h == 50.0  # against 0.06, in force one hour ago
    assert (pool.min_price_24h, pool.max_price_24h) == (0.05, 0.09)


def test_price_changes_after_the_cycle_time_are_not_seen() -> None:
    (pool,) = summarize_spot_prices([point(1, 0.05), point(-1, 0.5)], NOW, {})
    assert pool.price_per_hour == 0.05


def test_interruptions_are_counted_per_pool() -> None:
    signals = [
        SpotSignal("interruption", "2026-12-03T11:00:00Z#a", "i-1", "c5.xlarge", "us-east-1a"),
        SpotSignal("interruption", "2026-12-03T11:30:00Z#b", "i-2", "c5.xlarge", "us-east-1a"),
        SpotSignal("rebalance", "2026-12-03T11:40:00Z#c", "i-3", "c5.xlarge", "us-east-1a"),
    ]
    counts = count_interruptions(signals)
    assert counts == {("c5.xlarge", "us-east-1a"): 2}
    (pool,) = summarize_spot_prices([point(1, 0.05)], NOW, counts)
    assert pool.recent_interruptions == 2


def test_this_cycles_interruption_is_a_notice_and_knows_the_fast_path_checkpointed() -> None:
    trigger = Trigger(
        kind=TriggerKind.INTERRUPTION, pipeline_id="p", cycle_id="c", event_time=NOW, instance_id="i-1"
    )
    (notice,) = pending_notices(trigger, [], [instance("i-1")], NOW, checkpoint_requested=True)
    assert notice.kind == "interruption" and notice.checkpoint_requested


def test_old_notices_and_notices_for_gone_instances_are_dropped() -> None:
    trigger = Trigger(kind=TriggerKind.SCHEDULED, pipeline_id="p", cycle_id="c", event_time=NOW)
    signals = [
        SpotSignal("interruption", "2026-12-03T11:59:00Z#a", "i-1", "c5.xlarge", "us-east-1a"),  # fresh
        SpotSignal("interruption", "2026-12-03T11:50:00Z#b", "i-2", "c5.xlarge", "us-east-1a"),  # too old
        SpotSignal("interruption", "2026-12-03T11:59:30Z#c", "i-gone", "c5.xlarge", "us-east-1a"),
        SpotSignal("rebalance", "2026-12-03T11:45:00Z#d", "i-2", "c5.xlarge", "us-east-1a"),  # still relevant
    ]
    notices = pending_notices(trigger, signals, [instance("i-1"), instance("i-2")], NOW)
    assert [(n.kind, n.instance_id) for n in notices] == [("rebalance", "i-2"), ("interruption", "i-1")]


def test_remaining_time_comes_from_the_observed_rate() -> None:
    report = ProgressReport(progress=0.25, started_at=NOW - timedelta(hours=2), updated_at=NOW)
    assert expected_remaining_hours(report, guardrails(expected_runtime_hours=20), NOW) == 6.0


def test_remaining_time_falls_back_to_configured_run_time_before_any_progress() -> None:
    assert expected_remaining_hours(None, guardrails(expected_runtime_hours=6), NOW) == 6.0
    assert expected_remaining_hours(None, guardrails(), NOW) is None


def test_finished_pipeline_has_no_remaining_time() -> None:
    report = ProgressReport(progress=1.0, started_at=NOW - timedelta(hours=2), updated_at=NOW)
    assert expected_remaining_hours(report, guardrails(), NOW) == 0.0
