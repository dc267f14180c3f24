"""A small default world on embedded AWS: one pipeline with running spot workers.

Used by `costagent run`, the demo's starting point and the tests. Everything is created through the
same boto3 APIs a real deployment (Terraform, then the pipeline's workers) would use.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from unittest import mock

from costagent.adapters.s3 import latest_checkpoint_key, progress_key
from costagent.config import MANAGED_BY_TAG, PIPELINE_TAG_KEY
from costagent.gather import budget_name
from costagent.guardrails import Guardrails
from costagent.local.runner import ACCOUNT_ID, EmbeddedAws
from costagent.worker import WorkerClient

DEFAULT_PIPELINE = "nightly-etl"
DEFAULT_ZONES = ("us-east-1a", "us-east-1b")
WORKER_IMAGE_ID = "ami-0c057ca0e5a1b2c3d"  # any id: the local world does not load moto's AMI catalogue
# The first workers of the world carry the ids the sample events in events/ name, so they work unchanged.
SAMPLE_WORKER_IDS = (
    "i-0b1c2d3e4f5a60718",
    "i-0a1b2c3d4e5f60789",
    "i-0c2d3e4f5a6b70819",
    "i-0d3e4f5a6b7c80921",
)
# Spot prices (USD/h) per pool at the start of a local run: realistic us-east-1 levels, about 40 % of
# on-demand. c5a is cheapest, as it usually is.
DEFAULT_SPOT_PRICES: dict[tuple[str, str], float] = {
    ("c5.xlarge", "us-east-1a"): 0.0680,
    ("c5.xlarge", "us-east-1b"): 0.0712,
    ("c5a.xlarge", "us-east-1a"): 0.0641,
    ("c5a.xlarge", "us-east-1b"): 0.0655,
    ("m5.xlarge", "us-east-1a"): 0.0786,
    ("m5.xlarge", "us-east-1b"): 0.0810,
}


def default_guardrails(**changes: Any) -> Guardrails:
    values: dict[str, Any] = {
        "allowed_instance_types": ["c5.xlarge", "c5a.xlarge", "m5.xlarge"],
        "default_instance_type": "c5.xlarge",
        "min_instances": 1,
        "max_instances": 50,
        "target_instances": 4,
        "max_scale_step_instances": 4,
        "checkpoint_overdue_minutes": 30,
        "expected_runtime_hours": 6,
        "checkpoint_command": "costagent worker checkpoint-request --pipeline nightly-etl",
    }
    values.update(changes)
    return Guardrails.model_validate(values)


@dataclass
class World:
    aws: EmbeddedAws
    pipeline_id: str
    group_name: str
    guardrails: Guardrails
    zones: tuple[str, ...] = DEFAULT_ZONES
    subnets: dict[str, str] = field(default_factory=dict)

    def instance_ids(self) -> list[str]:
        group = self.aws.client("autoscaling").describe_auto_scaling_groups(
            AutoScalingGroupNames=[self.group_name]
        )
        return [i["InstanceId"] for i in group["AutoScalingGroups"][0]["Instances"]]

    def desired_capacity(self) -> int:
        group = self.aws.client("autoscaling").describe_auto_scaling_groups(
            AutoScalingGroupNames=[self.group_name]
        )
        return int(group["AutoScalingGroups"][0]["DesiredCapacity"])

    def set_mode(self, mode: str) -> None:
        self.aws.client("ssm").put_parameter(
            Name=self.aws.settings.mode_parameter(self.pipeline_id), Value=mode, Type="String", Overwrite=True
        )

    def set_guardrails(self, guardrails: Guardrails | str) -> None:
        text = guardrails if isinstance(guardrails, str) else guardrails.model_dump_json()
        self.aws.client("ssm").put_parameter(
            Name=self.aws.settings.guardrails_parameter(self.pipeline_id),
            Value=text,
            Type="String",
            Overwrite=True,
        )

    def report_progress(self, progress: float, started_at: datetime, now: datetime) -> None:
        document = {
            "pipeline_id": self.pipeline_id,
            "progress": progress,
            "started_at": started_at,
            "updated_at": now,
        }
        self._put(progress_key(self.pipeline_id), document)

    def record_checkpoint(self, checkpoint_id: str, time: datetime, progress: float) -> None:
        document = {"checkpoint_id": checkpoint_id, "time": time, "progress": progress}
        self._put(latest_checkpoint_key(self.pipeline_id), document)

    def worker_client(self, worker: str | None = None) -> WorkerClient:
        """The worker contract's API (progress, checkpoints, restores) on this embedded AWS, as the
        pipeline's workers use it against a real bucket."""
        return WorkerClient(
            self.aws.settings.checkpoint_bucket,
            self.pipeline_id,
            s3_client=self.aws.client("s3"),
            region=self.aws.settings.region,
            worker=worker,
        )

    def set_budget_spend(self, spent_usd: float) -> None:
        """AWS Budgets' actual spend is computed by AWS billing; in the local world the simulation sets it."""
        from moto.budgets.models import budgets_backends

        budget = budgets_backends[ACCOUNT_ID]["global"].budgets[ACCOUNT_ID][budget_name(self.pipeline_id)]
        budget.budget["CalculatedSpend"] = {
            "ActualSpend": {"Amount": f"{spent_usd:.4f}", "Unit": "USD"},
            "ForecastedSpend": {"Amount": f"{spent_usd:.4f}", "Unit": "USD"},
        }

    def _put(self, key: str, document: dict[str, Any]) -> None:
        self.aws.client("s3").put_object(
            Bucket=self.aws.settings.checkpoint_bucket,
            Key=key,
            Body=json.dumps(document, default=str).encode(),
        )


def build_world(
    aws: EmbeddedAws,
    now: datetime,
    *,
    pipeline_id: str = DEFAULT_PIPELINE,
    guardrails: Guardrails | None = None,
    workers: int = 4,
    mode: str = "observe",
    budget_usd: float = 40.0,
    spent_usd: float = 6.0,
    progress: float = 0.25,
    minutes_since_checkpoint: float | None = 12.0,
) -> World:
    guardrails = guardrails or default_guardrails()
    settings = aws.settings
    group_name = settings.group_name(pipeline_id)
    world = World(aws=aws, pipeline_id=pipeline_id, group_name=group_name, guardrails=guardrails)
    world.set_mode(mode)
    world.set_guardrails(guardrails)

    ec2 = aws.client("ec2")
    subnets = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"]
    world.subnets = {
        s["AvailabilityZone"]: s["SubnetId"] for s in subnets if s["AvailabilityZone"] in DEFAULT_ZONES
    }
    ec2.create_launch_template(
        LaunchTemplateName=group_name,
        LaunchTemplateData={"ImageId": WORKER_IMAGE_ID, "InstanceType": guardrails.default_instance_type},
    )
    tags = [
        (MANAGED_BY_TAG[0], MANAGED_BY_TAG[1]),
        (PIPELINE_TAG_KEY, pipeline_id),
        ("Name", f"{pipeline_id}-worker"),
    ]
    with _instance_ids(SAMPLE_WORKER_IDS[:workers]):
        _create_group(aws, world, tags, workers)
    for (instance_type, zone), price in DEFAULT_SPOT_PRICES.items():
        # A gentle 24 h history: a little higher a day ago, settling to today's price.
        for hours_ago, factor in ((24, 1.06), (12, 1.03), (3, 1.01), (0.5, 1.0)):
            aws.market.set_price(instance_type, zone, now - timedelta(hours=hours_ago), price * factor)
    aws.client("budgets").create_budget(
        AccountId=ACCOUNT_ID,
        Budget={
            "BudgetName": budget_name(pipeline_id),
            "BudgetLimit": {"Amount": f"{budget_usd:.2f}", "Unit": "USD"},
            "TimeUnit": "MONTHLY",
            "BudgetType": "COST",
        },
    )
    world.set_budget_spend(spent_usd)
    started_at = now - timedelta(hours=6 * progress) if progress > 0 else now
    world.report_progress(progress, started_at, now)
    if minutes_since_checkpoint is not None:
        world.record_checkpoint("ckpt-initial", now - timedelta(minutes=minutes_since_checkpoint), progress)
    return world


@contextmanager
def _instance_ids(wanted: tuple[str, ...]) -> Iterator[None]:
    """moto draws instance ids at random; the world's first workers take the sample events' ids."""
    import moto.ec2.models.instances as instances

    queue = list(wanted)
    original = instances.random_instance_id

    def next_id() -> str:
        return queue.pop(0) if queue else original()

    with mock.patch.object(instances, "random_instance_id", next_id):
        yield


def _create_group(aws: EmbeddedAws, world: World, tags: list[tuple[str, str]], workers: int) -> None:
    aws.client("autoscaling").create_auto_scaling_group(
        AutoScalingGroupName=world.group_name,
        MinSize=world.guardrails.min_instances,
        MaxSize=world.guardrails.max_instances,
        DesiredCapacity=workers,
        VPCZoneIdentifier=",".join(world.subnets[z] for z in DEFAULT_ZONES),
        AvailabilityZones=list(DEFAULT_ZONES),
        TerminationPolicies=["OldestInstance"],
        MixedInstancesPolicy={
            "LaunchTemplate": {
                "LaunchTemplateSpecification": {"LaunchTemplateName": world.group_name, "Version": "$Latest"},
                "Overrides": [{"InstanceType": t} for t in world.guardrails.allowed_instance_types],
            },
            "InstancesDistribution": {
                "OnDemandBaseCapacity": 0,
                "OnDemandPercentageAboveBaseCapacity": 0,
                "SpotAllocationStrategy": "price-capacity-optimized",
            },
        },
        Tags=[
            {
                "Key": k,
                "Value": v,
                "PropagateAtLaunch": True,
                "ResourceId": world.group_name,
                "ResourceType": "auto-scaling-group",
            }
            for k, v in tags
        ],
    )


def scheduled_event(pipeline_id: str, time: datetime, event_id: str | None = None) -> dict[str, Any]:
    """What the pipeline's EventBridge Scheduler schedule sends (see infra/events.tf)."""
    return {
        "version": "0",
        "id": event_id or f"sched-{pipeline_id}-{time:%Y%m%dT%H%M%S}",
        "detail-type": "Scheduled Event",
        "source": "aws.scheduler",
        "account": ACCOUNT_ID,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1",
        "resources": [f"arn:aws:scheduler:us-east-1:{ACCOUNT_ID}:schedule/default/costagent-{pipeline_id}"],
        "detail": {"pipeline_id": pipeline_id},
    }


def spot_event(
    detail_type: str, instance_id: str, time: datetime, event_id: str | None = None
) -> dict[str, Any]:
    detail: dict[str, str] = {"instance-id": instance_id}
    if detail_type == "EC2 Spot Instance Interruption Warning":
        detail["instance-action"] = "terminate"
    return {
        "version": "0",
        "id": event_id or f"spot-{instance_id}-{time:%Y%m%dT%H%M%S}",
        "detail-type": detail_type,
        "source": "aws.ec2",
        "account": ACCOUNT_ID,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1",
        "resources": [f"arn:aws:ec2:us-east-1a:instance/{instance_id}"],
        "detail": detail,
    }
