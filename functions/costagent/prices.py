"""Reference on-demand prices, used when a pipeline's guardrails give none for a type.

USD per hour, Linux, us-east-1, from the public AWS EC2 on-demand price list (checked 2026). They bound
the budget check from above: a spot pool with no price falls back to its on-demand price.
"""

from __future__ import annotations

ON_DEMAND_USD_PER_HOUR: dict[str, float] = {
    "c5.large": 0.085,
    "c5.xlarge": 0.17,
    "c5.2xlarge": 0.34,
    "c5a.xlarge": 0.154,
    "c5a.2xlarge": 0.308,
    "c6i.xlarge": 0.17,
    "c6i.2xlarge": 0.34,
    "m5.xlarge": 0.192,
    "m5.2xlarge": 0.384,
    "m6i.xlarge": 0.192,
    "m6i.2xlarge": 0.384,
    "r5.xlarge": 0.252,
    "r5.2xlarge": 0.504,
    "g4dn.xlarge": 0.526,
    "p2.xlarge": 0.90,
    "p2.8xlarge": 7.20,
    "p3.2xlarge": 3.06,
    "p3.16xlarge": 24.48,
}
UNKNOWN_TYPE_USD_PER_HOUR = 5.0  # an unknown type is assumed dear, so budget checks err on the safe side


def on_demand_price(instance_type: str, overrides: dict[str, float] | None = None) -> float:
    if overrides and instance_type in overrides:
        return overrides[instance_type]
    return ON_DEMAND_USD_PER_HOUR.get(instance_type, UNKNOWN_TYPE_USD_PER_HOUR)
