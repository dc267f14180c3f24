"""EC2: the pipeline's instances, who owns an instance, and spot price history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from costagent.adapters.aws import LazyClient, aws_call, error_code
from costagent.config import MANAGED_BY_TAG, PIPELINE_TAG_KEY
from costagent.models import CapacityType, Instance

LIVE_STATES = ["pending", "running"]
SPOT_PRODUCT = "Linux/UNIX"


@dataclass(frozen=True)
class SpotPricePoint:
    instance_type: str
    zone: str
    price_per_hour: float
    time: datetime


def _tags(raw: dict[str, Any]) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in raw.get("Tags", [])}


def _instance(raw: dict[str, Any]) -> Instance:
    lifecycle = CapacityType.SPOT if raw.get("InstanceLifecycle") == "spot" else CapacityType.ON_DEMAND
    return Instance(
        instance_id=raw["InstanceId"],
        instance_type=raw["InstanceType"],
        zone=raw.get("Placement", {}).get("AvailabilityZone", "unknown"),
        lifecycle=lifecycle,
        launch_time=raw["LaunchTime"],
        state=raw.get("State", {}).get("Name", "unknown"),
        name=_tags(raw).get("Name"),
    )


class Ec2Adapter(LazyClient):
    service = "ec2"

    def pipeline_instances(self, pipeline_id: str) -> list[Instance]:
        filters = [
            {"Name": f"tag:{MANAGED_BY_TAG[0]}", "Values": [MANAGED_BY_TAG[1]]},
            {"Name": f"tag:{PIPELINE_TAG_KEY}", "Values": [pipeline_id]},
            {"Name": "instance-state-name", "Values": LIVE_STATES},
        ]
        instances: list[Instance] = []
        with aws_call("ec2:DescribeInstances"):
            for page in self.client.get_paginator("describe_instances").paginate(Filters=filters):
                for reservation in page.get("Reservations", []):
                    instances.extend(_instance(raw) for raw in reservation.get("Instances", []))
        return sorted(instances, key=lambda i: (i.launch_time, i.instance_id))

    def owner_of(self, instance_id: str) -> tuple[str | None, Instance | None]:
        """The pipeline that manages `instance_id`, or None when it is not ours (or no longer exists)."""
        with aws_call("ec2:DescribeInstances"):
            try:
                response = self.client.describe_instances(InstanceIds=[instance_id])
            except ClientError as error:
                if error_code(error).startswith("InvalidInstanceID"):
                    return None, None
                raise
        for reservation in response.get("Reservations", []):
            for raw in reservation.get("Instances", []):
                tags = _tags(raw)
                if tags.get(MANAGED_BY_TAG[0]) == MANAGED_BY_TAG[1] and tags.get(PIPELINE_TAG_KEY):
                    return tags[PIPELINE_TAG_KEY], _instance(raw)
        return None, None

    def spot_price_history(
        self, instance_types: list[str], start: datetime, end: datetime
    ) -> list[SpotPricePoint]:
        points: list[SpotPricePoint] = []
        with aws_call("ec2:DescribeSpotPriceHistory"):
            pages = self.client.get_paginator("describe_spot_price_history").paginate(
                InstanceTypes=instance_types,
                ProductDescriptions=[SPOT_PRODUCT],
                StartTime=start,
                EndTime=end,
            )
            for page in pages:
                for raw in page.get("SpotPriceHistory", []):
                    points.append(
                        SpotPricePoint(
                            instance_type=raw["InstanceType"],
                            zone=raw["AvailabilityZone"],
                            price_per_hour=float(raw["SpotPrice"]),
                            time=raw["Timestamp"],
                        )
                    )
        return points
