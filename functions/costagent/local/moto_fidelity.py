"""Where moto does not model what costagent depends on, embedded AWS fills the gap (and says so here).

1. DescribeSpotPriceHistory: moto returns one constant price; we answer from the run's SpotMarket.
2. Auto Scaling groups with a mixed instances policy: moto launches the launch template's type, marks no
   instance as spot and picks zones at random. AWS launches the first override under the prioritized
   strategy, as spot above the on-demand base, balanced across zones; we set type, lifecycle and zone so.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone
from typing import Any
from unittest import mock

from costagent.local.spot_market import SpotMarket


def _as_datetime(value: Any) -> datetime | None:
    if value is None:
        return None
    moment = (
        value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    )
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _spot_price_history(market: SpotMarket) -> Any:
    from moto.core.responses import ActionResult

    def describe_spot_price_history(response: Any) -> Any:
        types = response._get_param("InstanceTypes", [])
        filters = response._filters_from_querystring()
        zones = filters.get("availability-zone")
        history = market.history(
            types,
            zones,
            _as_datetime(response._get_param("StartTime")),
            _as_datetime(response._get_param("EndTime")),
        )
        return ActionResult({"SpotPriceHistory": history})

    return describe_spot_price_history


def _launch_like_aws(original: Any) -> Any:
    def replace_autoscaling_group_instances(
        group: Any, count_needed: int, propagated_tags: dict[str, str]
    ) -> None:
        before = {state.instance.id for state in group.instance_states}
        original(group, count_needed, propagated_tags)
        policy = group.mixed_instances_policy or {}
        overrides = policy.get("LaunchTemplate", {}).get("Overrides", [])
        if not overrides:
            return
        on_demand_base = int(policy.get("InstancesDistribution", {}).get("OnDemandBaseCapacity", 0))
        existing = [s.instance for s in group.instance_states if s.instance.id in before]
        on_demand_now = sum(1 for i in existing if getattr(i, "lifecycle", None) != "spot")
        zones = list(group.availability_zones) or [None]
        per_zone = Counter(i.placement.zone for i in existing)
        for state in group.instance_states:
            instance = state.instance
            if instance.id in before:
                continue
            instance.instance_type = overrides[0]["InstanceType"]
            if on_demand_now < on_demand_base:
                instance.lifecycle = None
                on_demand_now += 1
            else:
                instance.lifecycle = "spot"
            zone = min(zones, key=lambda z: (per_zone[z], str(z)))
            if zone is not None:
                instance.placement.zone = zone
                per_zone[zone] += 1

    return replace_autoscaling_group_instances


def fidelity_patches(market: SpotMarket) -> list[Any]:
    from moto.autoscaling.models import FakeAutoScalingGroup
    from moto.ec2.responses.spot_instances import SpotInstances

    original = FakeAutoScalingGroup.replace_autoscaling_group_instances
    return [
        mock.patch.object(SpotInstances, "describe_spot_price_history", _spot_price_history(market)),
        mock.patch.object(
            FakeAutoScalingGroup, "replace_autoscaling_group_instances", _launch_like_aws(original)
        ),
    ]
