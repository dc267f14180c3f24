"""The adapters against moto (mock_aws), and their error translation against botocore's Stubber: what
each reads back, what it treats as absent, and which costagent error an AWS failure becomes."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from costagent.adapters.autoscaling import AutoScalingAdapter
from costagent.adapters.budgets import BudgetsAdapter
from costagent.adapters.dynamodb import AuditStore, LeaseStore, SpotSignal
from costagent.adapters.ec2 import Ec2Adapter
from costagent.adapters.s3 import CheckpointStore, latest_checkpoint_key, progress_key
from costagent.adapters.ssm import PipelineParameters, SsmAdapter
from costagent.config import MANAGED_BY_TAG, PIPELINE_TAG_KEY
from costagent.errors import AuditWriteFailed, AwsRequestRejected, AwsUnavailable
from costagent.models import (
    ActionRecord,
    CapacityType,
    CheckpointResult,
    CycleRecord,
    Mode,
    Outcome,
    TriggerKind,
)
from costagent.schema import create_table_arguments

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"  # moto's default account
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=timezone.utc)
IMAGE_ID = "ami-0c057ca0e5a1b2c3d"  # moto does not check images unless asked to
LEASE_SECONDS = 600
AUDIT_TABLE = "costagent-audit"
LEASE_TABLE = "costagent-lease"
BUCKET = "costagent-checkpoints"


@pytest.fixture
def fake_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test here may reach a real account, with or without moto."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",  # moto's AMI catalogue costs seconds and no test needs it
    }.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def moto(fake_credentials: None) -> Iterator[Callable[[str], Any]]:
    """A fresh moto account; the fixture's value makes clients in it."""
    with mock_aws():
        yield lambda service: boto3.client(service, region_name=REGION)


# --- EC2 ----------------------------------------------------------------------------------------


def launch(ec2: Any, tags: dict[str, str], instance_type: str = "c5.xlarge") -> str:
    spec = [{"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}]
    launched = ec2.run_instances(
        ImageId=IMAGE_ID, InstanceType=instance_type, MinCount=1, MaxCount=1, TagSpecifications=spec
    )
    return str(launched["Instances"][0]["InstanceId"])


def managed(pipeline_id: str) -> dict[str, str]:
    return {MANAGED_BY_TAG[0]: MANAGED_BY_TAG[1], PIPELINE_TAG_KEY: pipeline_id}


def test_pipeline_instances_are_the_live_managed_instances_of_that_pipeline(
    moto: Callable[[str], Any],
) -> None:
    # given
    ec2 = moto("ec2")
    running = [launch(ec2, managed("etl")), launch(ec2, managed("etl"), "m5.xlarge")]
    launch(ec2, managed("other-pipeline"))
    launch(ec2, {PIPELINE_TAG_KEY: "etl"})  # tagged for the pipeline but not managed by costagent
    stopped, terminated = launch(ec2, managed("etl")), launch(ec2, managed("etl"))
    ec2.stop_instances(InstanceIds=[stopped])
    ec2.terminate_instances(InstanceIds=[terminated])

    # when
    instances = Ec2Adapter(REGION, client=ec2).pipeline_instances("etl")

    # then
    assert sorted(i.instance_id for i in instances) == sorted(running)
    assert {i.instance_type for i in instances} == {"c5.xlarge", "m5.xlarge"}
    assert all(i.state == "running" and i.lifecycle is CapacityType.ON_DEMAND for i in instances)
    assert instances == sorted(instances, key=lambda i: (i.launch_time, i.instance_id))


def test_owner_of_names_the_pipeline_of_a_managed_instance(moto: Callable[[str], Any]) -> None:
    ec2 = moto("ec2")
    instance_id = launch(ec2, managed("etl"))

    owner, instance = Ec2Adapter(REGION, client=ec2).owner_of(instance_id)

    assert owner == "etl"
    assert instance is not None and instance.instance_id == instance_id


@pytest.mark.parametrize("case", ["unknown-id", "unmanaged-instance"])
def test_owner_of_an_instance_that_is_not_ours_is_nobody(moto: Callable[[str], Any], case: str) -> None:
    ec2 = moto("ec2")
    instance_id = "i-0fedcba9876543210" if case == "unknown-id" else launch(ec2, {"Name": "someone-else"})

    assert Ec2Adapter(REGION, client=ec2).owner_of(instance_id) == (None, None)


# --- Auto Scaling -------------------------------------------------------------------------------


def test_group_reads_capacity_bounds_and_the_first_override(moto: Callable[[str], Any]) -> None:
    # given
    moto("ec2").create_launch_template(
        LaunchTemplateName="workers", LaunchTemplateData={"ImageId": IMAGE_ID, "InstanceType": "c5.xlarge"}
    )
    autoscaling = moto("autoscaling")
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName="costagent-etl",
        MinSize=1,
        MaxSize=6,
        DesiredCapacity=2,
        AvailabilityZones=["us-east-1a"],
        MixedInstancesPolicy={
            "LaunchTemplate": {
                "LaunchTemplateSpecification": {"LaunchTemplateName": "workers", "Version": "$Latest"},
                "Overrides": [{"InstanceType": "m5.xlarge"}, {"InstanceType": "c5.xlarge"}],
            },
            "InstancesDistribution": {"OnDemandBaseCapacity": 1, "OnDemandPercentageAboveBaseCapacity": 0},
        },
    )
    adapter = AutoScalingAdapter(REGION, client=autoscaling)

    # when
    group = adapter.group("costagent-etl")

    # then
    assert group is not None
    assert (group.desired_capacity, group.min_size, group.max_size) == (2, 1, 6)
    assert group.instance_type == "m5.xlarge"
    assert group.on_demand_base_capacity == 1
    assert adapter.group("costagent-missing") is None


# --- DynamoDB: the lease ------------------------------------------------------------------------


@pytest.fixture
def lease(moto: Callable[[str], Any]) -> LeaseStore:
    dynamodb = moto("dynamodb")
    dynamodb.create_table(**create_table_arguments("lease", LEASE_TABLE))
    return LeaseStore(REGION, LEASE_TABLE, client=dynamodb)


def test_free_lease_is_acquired_until_now_plus_its_duration(lease: LeaseStore) -> None:
    taken = lease.acquire("etl", "cycle-a", NOW, LEASE_SECONDS)

    assert (taken.acquired, taken.holder, taken.expires_at) == (True, "cycle-a", NOW + timedelta(seconds=600))


def test_holder_reacquires_its_own_lease_as_a_retried_step_does(lease: LeaseStore) -> None:
    lease.acquire("etl", "cycle-a", NOW, LEASE_SECONDS)

    again = lease.acquire("etl", "cycle-a", NOW + timedelta(minutes=1), LEASE_SECONDS)

    assert again.acquired
    assert again.expires_at == NOW + timedelta(minutes=1, seconds=LEASE_SECONDS)


def test_lease_held_by_another_cycle_is_refused_with_its_holder_and_expiry(lease: LeaseStore) -> None:
    lease.acquire("etl", "cycle-a", NOW, LEASE_SECONDS)

    refused = lease.acquire("etl", "cycle-b", NOW + timedelta(minutes=5), LEASE_SECONDS)

    assert (refused.acquired, refused.holder, refused.expires_at) == (
        False,
        "cycle-a",
        NOW + timedelta(minutes=10),
    )
    assert lease.acquire("other-pipeline", "cycle-b", NOW, LEASE_SECONDS).acquired  # leases are per pipeline


def test_expired_lease_is_taken_over(lease: LeaseStore) -> None:
    lease.acquire("etl", "cycle-a", NOW, LEASE_SECONDS)

    taken = lease.acquire("etl", "cycle-b", NOW + timedelta(seconds=LEASE_SECONDS + 1), LEASE_SECONDS)

    assert (taken.acquired, taken.holder) == (True, "cycle-b")


def test_only_the_holder_releases_a_lease(lease: LeaseStore) -> None:
    lease.acquire("etl", "cycle-a", NOW, LEASE_SECONDS)

    assert lease.release("etl", "cycle-b") is False
    assert lease.acquire("etl", "cycle-b", NOW, LEASE_SECONDS).acquired is False
    assert lease.release("etl", "cycle-a") is True
    assert lease.acquire("etl", "cycle-b", NOW, LEASE_SECONDS).acquired is True


# --- DynamoDB: the audit trail ------------------------------------------------------------------


@pytest.fixture
def audit(moto: Callable[[str], Any]) -> AuditStore:
    dynamodb = moto("dynamodb")
    dynamodb.create_table(**create_table_arguments("audit", AUDIT_TABLE))
    return AuditStore(REGION, AUDIT_TABLE, client=dynamodb)


def cycle_record(minutes: int, pipeline_id: str = "etl", **fields: Any) -> CycleRecord:
    time = NOW + timedelta(minutes=minutes)
    values: dict[str, Any] = {
        "pipeline_id": pipeline_id,
        "cycle_id": f"{time:%Y-%m-%dT%H:%M:%SZ}#event-{minutes}",
        "cycle_time": time,
        "trigger": TriggerKind.SCHEDULED,
        "outcome": Outcome.NO_OP,
    }
    values.update(fields)
    return CycleRecord.model_validate(values)


def test_audit_record_reads_back_as_written(audit: AuditStore) -> None:
    record = cycle_record(0, mode=Mode.OBSERVE, latencies_ms={"gather": 12.5}, expires_at=1_830_859_200)

    audit.put(record)

    assert audit.get("etl", record.cycle_id) == record
    assert audit.get("etl", "2026-12-03T12:00:00Z#never-written") is None


def test_recent_lists_earlier_cycles_of_the_pipeline_newest_first(audit: AuditStore) -> None:
    for minutes in (0, 5, 10):
        audit.put(cycle_record(minutes))
    audit.put(cycle_record(1, pipeline_id="other-pipeline"))
    current = cycle_record(10).cycle_id

    assert [r.cycle_id for r in audit.recent("etl", current, 5)] == [
        cycle_record(5).cycle_id,
        cycle_record(0).cycle_id,
    ]
    assert [r.cycle_id for r in audit.recent("etl", current, 1)] == [cycle_record(5).cycle_id]
    assert audit.recent("etl", current, 0) == []


def test_spot_signals_list_interruptions_and_rebalances_since_a_cycle(audit: AuditStore) -> None:
    # given
    checkpointed = CheckpointResult(
        pipeline_id="etl",
        mode=Mode.OBSERVE,
        requested_at=NOW,
        actions=[ActionRecord(kind="checkpoint", target="i-0b1c2d3e4f5a60718", status="would_run")],
    )
    spot = {"instance_type": "c5.xlarge", "zone": "us-east-1a"}
    audit.put(cycle_record(-90, trigger=TriggerKind.INTERRUPTION, instance_id="i-0aaaaaaaaaaaaaaa1", **spot))
    interruption = cycle_record(
        1,
        trigger=TriggerKind.INTERRUPTION,
        instance_id="i-0b1c2d3e4f5a60718",
        checkpoint=checkpointed,
        **spot,
    )
    rebalance = cycle_record(2, trigger=TriggerKind.REBALANCE, instance_id="i-0a1b2c3d4e5f60789")
    for record in (interruption, rebalance, cycle_record(3)):
        audit.put(record)

    # when
    signals = audit.spot_signals("etl", since_cycle_id=cycle_record(0).cycle_id)

    # then
    assert signals == [
        SpotSignal(
            "interruption", interruption.cycle_id, "i-0b1c2d3e4f5a60718", "c5.xlarge", "us-east-1a", True
        ),
        SpotSignal("rebalance", rebalance.cycle_id, "i-0a1b2c3d4e5f60789", None, None, False),
    ]


def test_audit_write_to_a_missing_table_raises_audit_write_failed(moto: Callable[[str], Any]) -> None:
    store = AuditStore(REGION, "no-such-table", client=moto("dynamodb"))

    with pytest.raises(AuditWriteFailed, match="etl/"):
        store.put(cycle_record(0))


# --- S3: what the workers report ----------------------------------------------------------------


@pytest.fixture
def checkpoints(moto: Callable[[str], Any]) -> CheckpointStore:
    s3 = moto("s3")
    s3.create_bucket(Bucket=BUCKET)
    return CheckpointStore(REGION, BUCKET, client=s3)


def put_object(store: CheckpointStore, key: str, body: bytes) -> None:
    store.client.put_object(Bucket=BUCKET, Key=key, Body=body)


def test_worker_reports_read_back(checkpoints: CheckpointStore) -> None:
    checkpoints.write_json(progress_key("etl"), {"progress": 0.4, "updated_at": NOW, "started_at": NOW})
    checkpoints.write_json(
        latest_checkpoint_key("etl"), {"checkpoint_id": "ckpt-7", "time": NOW, "progress": 0.4}
    )

    progress = checkpoints.progress("etl")
    latest = checkpoints.latest_checkpoint("etl")

    assert progress is not None and (progress.progress, progress.updated_at) == (0.4, NOW)
    assert latest is not None and (latest.checkpoint_id, latest.time) == ("ckpt-7", NOW)


@pytest.mark.parametrize(
    "body",
    [
        None,
        b'{"checkpoint_id": "ckpt-7", "progress": 0.',
        json.dumps({"checkpoint_id": "ckpt-7", "progress": 7, "updated_at": "2026-12-03T12:00:00Z"}).encode(),
        b"[]",
    ],
    ids=["missing", "torn", "invalid", "not-an-object"],
)
def test_unusable_worker_report_reads_as_absent(checkpoints: CheckpointStore, body: bytes | None) -> None:
    # given (the same body for both documents; neither is usable)
    if body is not None:
        put_object(checkpoints, progress_key("etl"), body)
        put_object(checkpoints, latest_checkpoint_key("etl"), body)

    # then
    assert checkpoints.progress("etl") is None
    assert checkpoints.latest_checkpoint("etl") is None


def test_reading_from_a_missing_bucket_is_rejected(moto: Callable[[str], Any]) -> None:
    store = CheckpointStore(REGION, "no-such-bucket", client=moto("s3"))

    with pytest.raises(AwsRequestRejected, match="NoSuchBucket"):
        store.progress("etl")


# --- Budgets and SSM ----------------------------------------------------------------------------


def test_remaining_budget_is_none_without_a_budget_and_the_limit_less_spend_with_one(
    moto: Callable[[str], Any],
) -> None:
    budgets = moto("budgets")
    adapter = BudgetsAdapter(REGION, client=budgets, sts_client=moto("sts"))

    assert adapter.remaining_usd("costagent-etl") is None

    budgets.create_budget(
        AccountId=ACCOUNT_ID,
        Budget={
            "BudgetName": "costagent-etl",
            "BudgetLimit": {"Amount": "40.00", "Unit": "USD"},
            "TimeUnit": "MONTHLY",
            "BudgetType": "COST",
        },
    )
    assert adapter.remaining_usd("costagent-etl") == 40.0  # moto reports no spend


def test_missing_pipeline_parameters_read_as_none(moto: Callable[[str], Any]) -> None:
    ssm = moto("ssm")
    adapter = SsmAdapter(REGION, client=ssm)

    assert adapter.pipeline_parameters(
        "/costagent/pipelines/etl/mode", "/costagent/pipelines/etl/guardrails"
    ) == (PipelineParameters(mode=None, guardrails_json=None))

    ssm.put_parameter(Name="/costagent/pipelines/etl/mode", Value="execute", Type="String")
    assert adapter.pipeline_parameters(
        "/costagent/pipelines/etl/mode", "/costagent/pipelines/etl/guardrails"
    ) == (PipelineParameters(mode="execute", guardrails_json=None))


# --- error translation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "status", "raised"),
    [
        ("ThrottlingException", 400, AwsUnavailable),
        ("Throttling", 400, AwsUnavailable),
        ("InternalFailure", 500, AwsUnavailable),
        ("AccessDenied", 403, AwsRequestRejected),
        ("ValidationException", 400, AwsRequestRejected),
    ],
)
def test_aws_errors_become_costagent_errors(
    fake_credentials: None, code: str, status: int, raised: type[Exception]
) -> None:
    # given SSM answers with an error (the Stubber answers before any request leaves the client)
    ssm = boto3.client("ssm", region_name=REGION)
    adapter = SsmAdapter(REGION, client=ssm)

    with Stubber(ssm) as stubber:
        stubber.add_client_error("get_parameters", service_error_code=code, http_status_code=status)

        # then
        with pytest.raises(raised, match=code):
            adapter.pipeline_parameters(
                "/costagent/pipelines/etl/mode", "/costagent/pipelines/etl/guardrails"
            )


def test_access_denied_is_not_mistaken_for_an_instance_that_is_not_ours(fake_credentials: None) -> None:
    ec2 = boto3.client("ec2", region_name=REGION)

    with Stubber(ec2) as stubber:
        stubber.add_client_error(
            "describe_instances", service_error_code="AccessDenied", http_status_code=403
        )

        with pytest.raises(AwsRequestRejected, match="AccessDenied"):
            Ec2Adapter(REGION, client=ec2).owner_of("i-0b1c2d3e4f5a60718")


def test_throttled_lease_write_is_unavailable_not_a_conflict(fake_credentials: None) -> None:
    dynamodb = boto3.client("dynamodb", region_name=REGION)

    with Stubber(dynamodb) as stubber:
        stubber.add_client_error(
            "put_item", service_error_code="ProvisionedThroughputExceededException", http_status_code=400
        )

        with pytest.raises(AwsUnavailable):
            LeaseStore(REGION, LEASE_TABLE, client=dynamodb).acquire("etl", "cycle-a", NOW, LEASE_SECONDS)
