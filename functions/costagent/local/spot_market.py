"""A spot market for embedded AWS: price changes per pool that DescribeSpotPriceHistory answers from.

moto answers every spot price query with one constant; the world of a local run needs prices that move.
Like AWS, a query returns the changes inside [start, end] plus the change in force at `start`.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class SpotMarket:
    changes: dict[tuple[str, str], list[tuple[datetime, float]]] = field(default_factory=dict)

    def set_price(self, instance_type: str, zone: str, time: datetime, price_per_hour: float) -> None:
        series = self.changes.setdefault((instance_type, zone), [])
        bisect.insort(series, (time, round(price_per_hour, 6)))

    def price_at(self, instance_type: str, zone: str, time: datetime) -> float | None:
        series = self.changes.get((instance_type, zone), [])
        index = bisect.bisect_right(series, (time, float("inf"))) - 1
        return series[index][1] if index >= 0 else None

    def history(
        self, instance_types: list[str], zones: list[str] | None, start: datetime | None, end: datetime | None
    ) -> list[dict[str, object]]:
        found: list[dict[str, object]] = []
        for (instance_type, zone), series in self.changes.items():
            if instance_types and instance_type not in instance_types:
                continue
            if zones and zone not in zones:
                continue
            in_force_at_start = [c for c in series if start is not None and c[0] <= start][-1:]
            in_window = [
                c for c in series if (start is None or c[0] > start) and (end is None or c[0] <= end)
            ]
            for time, price in in_force_at_start + in_window:
                found.append(
                    {
                        "InstanceType": instance_type,
                        "AvailabilityZone": zone,
                        "ProductDescription": "Linux/UNIX",
                        "SpotPrice": f"{price:.6f}",
                        "Timestamp": time,
                    }
                )
        found.sort(key=lambda entry: entry["Timestamp"], reverse=True)  # type: ignore[arg-type,return-value]
        return found
