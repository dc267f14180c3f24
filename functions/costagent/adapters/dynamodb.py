"""DynamoDB: the audit trail (one item per cycle) and the per-pipeline lease."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from costagent.adapters.aws import LazyClient, aws_call, error_code
from costagent.errors import AuditWriteFailed, AwsRequestRejected
from costagent.models import CycleRecord, LeaseInfo, TriggerKind

# Attributes kept at the top level of an audit item so operators can filter on them in the console;
# the whole record is stored as JSON beside them (floats and nesting stay exact, no Decimal mapping).
AUDIT_INDEXED_FIELDS = ("trigger", "outcome", "mode", "planner", "phase")
SPOT_SIGNAL_TRIGGERS = (TriggerKind.INTERRUPTION, TriggerKind.REBALANCE)
SPOT_SIGNALS_INDEX = "spot_signals"


@dataclass(frozen=True)
class SpotSignal:
    kind: str
    cycle_id: str
    instance_id: str
    instance_type: str | None
    zone: str | None
    checkpointed: bool = False


# Free when nobody holds it, when this cycle already holds it (a retried step), or when it has expired.
LEASE_FREE_CONDITION = "attribute_not_exists(pipeline_id) OR holder = :h OR expires_at < :now"


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


class AuditStore(LazyClient):
    service = "dynamodb"

    def __init__(self, region: str, table: str, client: Any = None) -> None:
        super().__init__(region, client)
        self.table = table

    def put(self, record: CycleRecord) -> None:
        item: dict[str, Any] = {
            "pipeline_id": {"S": record.pipeline_id},
            "cycle_id": {"S": record.cycle_id},
            "cycle_time": {"S": record.cycle_time.isoformat()},
            "record": {"S": record.model_dump_json()},
        }
        for name in AUDIT_INDEXED_FIELDS:
            value = getattr(record, name)
            if value is not None:
                item[name] = {"S": str(getattr(value, "value", value))}
        if record.decision is not None:
            item["action"] = {"S": record.decision.action.value}
        if record.expires_at is not None:
            item["expires_at"] = {"N": str(record.expires_at)}
        if record.trigger in SPOT_SIGNAL_TRIGGERS and record.instance_id and not record.duplicate_of:
            # Sparse index entry: lets gather count recent interruptions per pool without a scan.
            item["spot_signal_at"] = {"S": record.cycle_id}
            item["signal_kind"] = {"S": record.trigger.value}
            item["instance_id"] = {"S": record.instance_id}
            if record.checkpoint is not None and any(
                a.status in ("done", "would_run") for a in record.checkpoint.actions
            ):
                item["signal_checkpointed"] = {"BOOL": True}
            for name in ("instance_type", "zone"):
                if getattr(record, name):
                    item[name] = {"S": getattr(record, name)}
        # Throttling and 5xx surface as AwsUnavailable, which the record states retry; a rejected write
        # (permissions, validation) is AuditWriteFailed and fails the execution loudly.
        try:
            with aws_call("dynamodb:PutItem"):
                self.client.put_item(TableName=self.table, Item=item)
        except AwsRequestRejected as error:
            raise AuditWriteFailed(f"audit record {record.pipeline_id}/{record.cycle_id}: {error}") from error

    def recent(self, pipeline_id: str, before_cycle_id: str, limit: int) -> list[CycleRecord]:
        """The pipeline's latest final records before this cycle, newest first."""
        if limit <= 0:
            return []
        with aws_call("dynamodb:Query"):
            response = self.client.query(
                TableName=self.table,
                KeyConditionExpression="pipeline_id = :p AND cycle_id < :c",
                ExpressionAttributeValues={":p": {"S": pipeline_id}, ":c": {"S": before_cycle_id}},
                ScanIndexForward=False,
                Limit=limit,
            )
        return [CycleRecord.model_validate_json(item["record"]["S"]) for item in response.get("Items", [])]

    def spot_signals(self, pipeline_id: str, since_cycle_id: str) -> list[SpotSignal]:
        """Interruption warnings and rebalance recommendations recorded since `since_cycle_id`."""
        signals: list[SpotSignal] = []
        with aws_call("dynamodb:Query (spot signals)"):
            pages = self.client.get_paginator("query").paginate(
                TableName=self.table,
                IndexName=SPOT_SIGNALS_INDEX,
                KeyConditionExpression="pipeline_id = :p AND spot_signal_at >= :since",
                ExpressionAttributeValues={":p": {"S": pipeline_id}, ":since": {"S": since_cycle_id}},
            )
            for page in pages:
                for item in page.get("Items", []):
                    signals.append(
                        SpotSignal(
                            kind=item["signal_kind"]["S"],
                            cycle_id=item["spot_signal_at"]["S"],
                            instance_id=item["instance_id"]["S"],
                            instance_type=item.get("instance_type", {}).get("S"),
                            zone=item.get("zone", {}).get("S"),
                            checkpointed=bool(item.get("signal_checkpointed", {}).get("BOOL", False)),
                        )
                    )
        return signals

    def get(self, pipeline_id: str, cycle_id: str) -> CycleRecord | None:
        with aws_call("dynamodb:GetItem"):
            response = self.client.get_item(
                TableName=self.table,
                Key={"pipeline_id": {"S": pipeline_id}, "cycle_id": {"S": cycle_id}},
                ConsistentRead=True,
            )
        item = response.get("Item")
        return CycleRecord.model_validate_json(item["record"]["S"]) if item else None

    def all_for(self, pipeline_id: str, since_cycle_id: str | None = None) -> list[CycleRecord]:
        """Every record of the pipeline, oldest first; with `since_cycle_id`, those from that key on
        (cycle ids begin with the cycle's UTC time, so a time prefix selects a period)."""
        records: list[CycleRecord] = []
        condition, values = "pipeline_id = :p", {":p": {"S": pipeline_id}}
        if since_cycle_id is not None:
            condition += " AND cycle_id >= :since"
            values[":since"] = {"S": since_cycle_id}
        with aws_call("dynamodb:Query"):
            pages = self.client.get_paginator("query").paginate(
                TableName=self.table, KeyConditionExpression=condition, ExpressionAttributeValues=values
            )
            for page in pages:
                records.extend(CycleRecord.model_validate_json(i["record"]["S"]) for i in page["Items"])
        return records


class LeaseStore(LazyClient):
    """A conditional write per pipeline: the holder is the cycle id, so a retried step re-enters."""

    service = "dynamodb"

    def __init__(self, region: str, table: str, client: Any = None) -> None:
        super().__init__(region, client)
        self.table = table

    def acquire(self, pipeline_id: str, holder: str, now: datetime, seconds: int) -> LeaseInfo:
        expires = now + timedelta(seconds=seconds)
        with aws_call("dynamodb:PutItem (lease)"):
            try:
                self.client.put_item(
                    TableName=self.table,
                    Item={
                        "pipeline_id": {"S": pipeline_id},
                        "holder": {"S": holder},
                        "expires_at": {"N": str(_epoch(expires))},
                    },
                    ConditionExpression=LEASE_FREE_CONDITION,
                    ExpressionAttributeValues={":h": {"S": holder}, ":now": {"N": str(_epoch(now))}},
                )
            except ClientError as error:
                if error_code(error) != "ConditionalCheckFailedException":
                    raise
                current = self.client.get_item(
                    TableName=self.table, Key={"pipeline_id": {"S": pipeline_id}}, ConsistentRead=True
                ).get("Item", {})
                other = current.get("holder", {}).get("S")
                until = current.get("expires_at", {}).get("N")
                return LeaseInfo(
                    acquired=False,
                    holder=other,
                    expires_at=datetime.fromtimestamp(int(until), tz=now.tzinfo) if until else None,
                )
        return LeaseInfo(acquired=True, holder=holder, expires_at=expires)

    def release(self, pipeline_id: str, holder: str) -> bool:
        with aws_call("dynamodb:DeleteItem (lease)"):
            try:
                self.client.delete_item(
                    TableName=self.table,
                    Key={"pipeline_id": {"S": pipeline_id}},
                    ConditionExpression="holder = :h",
                    ExpressionAttributeValues={":h": {"S": holder}},
                )
            except ClientError as error:
                if error_code(error) == "ConditionalCheckFailedException":
                    return False
                raise
        return True
