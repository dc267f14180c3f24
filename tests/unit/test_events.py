"""Incoming events: classification never raises, and unreadable events say why."""

from __future__ import annotations

from datetime import datetime, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from costagent.events import cycle_id_for, make_trigger, parse_event
from costagent.models import TriggerKind
from tests.events import load_event as sample

RECEIVED = datetime(2026, 12, 3, 12, 0, 30, tzinfo=timezone.utc)


def test_scheduled_event_names_its_pipeline() -> None:
    parsed = parse_event(sample("scheduled-event"), RECEIVED)
    assert parsed.kind is TriggerKind.SCHEDULED
    assert parsed.pipeline_id == "nightly-etl"
    assert parsed.time == datetime(2026, 12, 3, 12, 0, tzinfo=timezone.utc)


def test_interruption_warning_names_an_instance_to_look_up() -> None:
    parsed = parse_event(sample("spot-interruption-warning"), RECEIVED)
    assert parsed.kind is TriggerKind.INTERRUPTION
    assert parsed.instance_id == "i-0b1c2d3e4f5a60718"
    assert parsed.needs_instance_lookup


def test_rebalance_recommendation_is_its_own_trigger() -> None:
    assert parse_event(sample("rebalance-recommendation"), RECEIVED).kind is TriggerKind.REBALANCE


def test_interruption_without_instance_id_is_ignored_with_the_reason() -> None:
    parsed = parse_event(sample("malformed-interruption-warning"), RECEIVED)
    assert parsed.kind is TriggerKind.IGNORED
    assert "instance-id" in parsed.reason


def test_unsupported_detail_type_is_ignored() -> None:
    parsed = parse_event(sample("unsupported-event"), RECEIVED)
    assert parsed.kind is TriggerKind.IGNORED
    assert "State-change" in parsed.reason


def test_scheduled_event_with_unsafe_pipeline_id_is_ignored() -> None:
    event = sample("scheduled-event")
    event["detail"]["pipeline_id"] = "x/../../etc; rm -rf"
    assert parse_event(event, RECEIVED).kind is TriggerKind.IGNORED


def test_spot_event_for_an_instance_nobody_owns_becomes_ignored() -> None:
    parsed = parse_event(sample("unmanaged-interruption-warning"), RECEIVED)
    trigger = make_trigger(parsed, execution_name="exec-1", pipeline_id=None)
    assert trigger.kind is TriggerKind.IGNORED
    assert "not managed by costagent" in trigger.reason


def test_duplicated_event_maps_to_the_same_cycle() -> None:
    parsed = parse_event(sample("scheduled-event"), RECEIVED)
    first = make_trigger(parsed, execution_name="run-a")
    second = make_trigger(parsed, execution_name="run-b")
    assert first.cycle_id == second.cycle_id


def test_cycle_ids_sort_by_time() -> None:
    early = cycle_id_for(datetime(2026, 12, 3, 9, 59, tzinfo=timezone.utc), "zzz", None)
    late = cycle_id_for(datetime(2026, 12, 3, 10, 0, tzinfo=timezone.utc), "aaa", None)
    assert early < late


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_any_json_value_is_classified_without_raising(value: object) -> None:
    parsed = parse_event(value, RECEIVED)
    assert parsed.kind in set(TriggerKind)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["scheduled-event", "spot-interruption-warning", "rebalance-recommendation"]),
    st.sampled_from(["id", "time", "detail", "detail-type", "source", "account", "region", "resources"]),
    json_values,
)
def test_a_real_event_with_any_field_replaced_is_classified_without_raising(
    name: str, field: str, value: object
) -> None:
    event = sample(name)
    event[field] = value
    parsed = parse_event(event, RECEIVED)
    trigger = make_trigger(parsed, execution_name="exec", pipeline_id="nightly-etl")
    assert trigger.cycle_id
