"""All adapters of one Lambda, built from the settings; clients are created on first use."""

from __future__ import annotations

from dataclasses import dataclass

from costagent.adapters.autoscaling import AutoScalingAdapter
from costagent.adapters.budgets import BudgetsAdapter
from costagent.adapters.dynamodb import AuditStore, LeaseStore
from costagent.adapters.ec2 import Ec2Adapter
from costagent.adapters.s3 import CheckpointStore
from costagent.adapters.ssm import SsmAdapter
from costagent.config import Settings


@dataclass
class AwsAdapters:
    ec2: Ec2Adapter
    autoscaling: AutoScalingAdapter
    ssm: SsmAdapter
    checkpoints: CheckpointStore
    budgets: BudgetsAdapter
    audit: AuditStore
    lease: LeaseStore

    @classmethod
    def from_settings(cls, settings: Settings) -> AwsAdapters:
        region = settings.region
        return cls(
            ec2=Ec2Adapter(region),
            autoscaling=AutoScalingAdapter(region),
            ssm=SsmAdapter(region),
            checkpoints=CheckpointStore(region, settings.checkpoint_bucket),
            budgets=BudgetsAdapter(region),
            audit=AuditStore(region, settings.audit_table),
            lease=LeaseStore(region, settings.lease_table),
        )
